/*
 * labels.h — the label vocabularies of the profile (ids stored in st_profile, English keys
 * written to outputs; display names in report/labels.c). Id 0 always means "none".
 */
#ifndef ST_MODEL_LABELS_H
#define ST_MODEL_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define ST_SEGMENTS(X)                                                                      \
    X(CHAMPIONS, "champions") X(LOYAL, "loyal_customers") X(POTENTIAL, "potential_loyalist") \
    X(NEW, "new_customers") X(PROMISING, "promising") X(NEED_ATTENTION, "need_attention")   \
    X(ABOUT_TO_SLEEP, "about_to_sleep") X(AT_RISK, "at_risk") X(CANT_LOSE, "cant_lose_them") \
    X(HIBERNATING, "hibernating") X(LOST, "lost") X(PROSPECT, "prospect")

#define ST_CLASS8(X)                                                                        \
    X(IMPORTANT_VALUE, "important_value") X(IMPORTANT_DEVELOP, "important_develop")         \
    X(IMPORTANT_KEEP, "important_keep") X(IMPORTANT_RETAIN, "important_retain")             \
    X(GENERAL_VALUE, "general_value") X(GENERAL_DEVELOP, "general_develop")                 \
    X(GENERAL_KEEP, "general_keep") X(GENERAL_RETAIN, "general_retain")

#define ST_TIERS(X) X(T1, "T1") X(T2, "T2") X(T3, "T3") X(T4, "T4") X(T5, "T5")

#define ST_LIFECYCLES(X)                                                                    \
    X(NEW, "new") X(GROWING, "growing") X(MATURE, "mature") X(SILENT, "silent") X(CHURNED, "churned")

#define ST_BEHAVIORS(X)                                                                     \
    X(PRICE_SENSITIVE, "price_sensitive") X(BRAND_LOYAL, "brand_loyal")                     \
    X(DECISION_DRIVEN, "decision_driven") X(OTHER, "other")

#define ST_LEVELS(X) X(HIGH, "high") X(MEDIUM, "medium") X(LOW, "low")
#define ST_CORE_LEVELS(X) X(CORE, "core") X(NORMAL, "normal") X(BROWSE, "browse")
#define ST_RISKS(X) X(LOW, "low") X(MEDIUM, "medium") X(HIGH, "high")

#define X(id, key) ST_SEG_##id,
enum { ST_SEG_NONE_ = 0, ST_SEGMENTS(X) ST_SEG__END };
#undef X
#define X(id, key) ST_C8_##id,
enum { ST_C8_NONE_ = 0, ST_CLASS8(X) ST_C8__END };
#undef X
#define X(id, key) ST_TIER_##id,
enum { ST_TIER_NONE_ = 0, ST_TIERS(X) ST_TIER__END };
#undef X
#define X(id, key) ST_LC_##id,
enum { ST_LC_NONE_ = 0, ST_LIFECYCLES(X) ST_LC__END };
#undef X
#define X(id, key) ST_BT_##id,
enum { ST_BT_NONE_ = 0, ST_BEHAVIORS(X) ST_BT__END };
#undef X
#define X(id, key) ST_LV_##id,
enum { ST_LV_NONE_ = 0, ST_LEVELS(X) ST_LV__END };
#undef X
#define X(id, key) ST_CORE_##id,
enum { ST_CORE_NONE_ = 0, ST_CORE_LEVELS(X) ST_CORE__END };
#undef X
#define X(id, key) ST_CHURNRISK_##id,
enum { ST_CHURNRISK_NONE_ = 0, ST_RISKS(X) ST_CHURNRISK__END };
#undef X

typedef enum st_vocab {
    ST_VOCAB_SEGMENT, ST_VOCAB_CLASS8, ST_VOCAB_TIER, ST_VOCAB_LIFECYCLE, ST_VOCAB_BEHAVIOR,
    ST_VOCAB_INTERACTION, ST_VOCAB_CORE, ST_VOCAB_RISK
} st_vocab;

/* English key of a label id ("" for 0 or out of range), number of ids (incl. 0). */
const char *st_vocab_key(st_vocab v, unsigned id);
/* The same with its length in *len, for writers that emit millions of labels
 * (profiles.csv writes eight per person). */
const char *st_vocab_key_n(st_vocab v, unsigned id, size_t *len);
unsigned st_vocab_size(st_vocab v);

#endif
