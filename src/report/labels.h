/*
 * labels.h — display names of every label key in English and Chinese. Profile values and
 * JSON always use the English key (`champions`); people see the display name of the chosen
 * language (`Champions` / `重要价值客户`... see labels.c).
 */
#ifndef ST_LABELS_H
#define ST_LABELS_H

#include <stdbool.h>

/* Display name of key in lang ("en" or "zh"); the key itself when unknown. */
const char *st_label(const char *key, const char *lang);
/* Whether lang is "zh" (anything else is English). */
bool st_lang_zh(const char *lang);

#endif
