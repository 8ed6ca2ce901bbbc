/*
 * columns.h — the profile's output columns, one table for every writer (profiles.csv, the
 * SQLite store, JSON lookups), so names, order and formatting cannot drift. The names and
 * order are the stable contract of SPEC.md ("Profile").
 */
#ifndef ST_COLUMNS_H
#define ST_COLUMNS_H

#include "profile/profile.h"

typedef enum st_value_type {
    ST_V_NULL, /* empty */
    ST_V_INT,
    ST_V_REAL,  /* d with `digits` fraction digits */
    ST_V_MONEY, /* i in micros */
    ST_V_DATE,  /* i = day */
    ST_V_TEXT,  /* s: free text (CSV writers quote it when needed) */
    ST_V_LABEL  /* s: a label key or date-like token that never needs quoting */
} st_value_type;

typedef struct st_value {
    st_value_type type;
    int64_t i;
    double d;
    int digits;
    st_sv s;
} st_value;

/* The texts ("YYYY-MM-DD") of the days [first, first + n). */
typedef struct st_day_texts {
    int64_t first;
    size_t n;
    char (*text)[10];
} st_day_texts;

/* Texts of the 16,384 days before the profiles' as-of day, or without one of the days their
 * dates span (at most 16,384 from the first; empty without dates); other days are formatted
 * where they are written. STRATA_ENOMEM. */
strata_status st_day_texts_build(st_day_texts *t, const st_profiles *ps);
void st_day_texts_clear(st_day_texts *t);

/* What the columns need besides the profiles: names of persons and categories. */
typedef struct st_profile_view {
    const st_profiles *ps;
    const st_intern *keys;          /* raw ids */
    const uint32_t *canonical_key;  /* per person */
    const st_dict *categories;
    const st_day_texts *days; /* NULL, or date texts for st_profile_csv_row */
} st_profile_view;

size_t st_profile_column_count(void);
const char *st_profile_column_name(size_t col);
/* Value of column col for person p. Text views borrow from the view's tables. */
void st_profile_column_value(const st_profile_view *v, size_t p, size_t col, st_value *out);
/* Index of a column by name, or -1. */
int st_profile_column_find(const char *name);
/* A value as a number (money in currency units, dates as day numbers); NaN for empty or
 * text values. */
double st_value_number(const st_value *v);
/* Append a value as CSV/JSON-ready text (no quoting): "" for NULL. */
strata_status st_value_format(st_buf *b, const st_value *v);
/* One profiles.csv row (every column, CSV-quoted where needed, then a newline) appended to
 * b: the same bytes as st_profile_column_value + st_value_format per column, written
 * without a call per value (a million rows of 42 columns). */
strata_status st_profile_csv_row(st_buf *b, const st_profile_view *view, size_t p);

#endif
