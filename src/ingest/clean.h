/*
 * clean.h — the cleaning steps that need whole columns: grouping rows by person, removing
 * exact duplicates, excluding rows on or after the as-of date, and the amount-outlier
 * policy. Every removed row is counted by reason in the dataset's quality counters;
 * duplicates and outliers are also recorded as rejects with their line.
 *
 * The row tables are sorted in place by person (and, within a person, order id then
 * fingerprint for orders, time for events) and removed rows are compacted away; the result is
 * a grouping: offsets of each person's rows in the sorted table.
 *
 * Runs after identity resolution (rows carry person ids) and before profile building.
 */
#ifndef ST_CLEAN_H
#define ST_CLEAN_H

#include "ingest/ingest.h"

/* The shift of the person-id byte the person sort splits rows by first: the top 8 bits in use
 * for `npersons` persons (st_person_counts). */
int st_person_sort_shift(size_t npersons);

typedef enum st_outlier_policy {
    ST_OUTLIER_KEEP,
    ST_OUTLIER_CAP,
    ST_OUTLIER_REJECT
} st_outlier_policy;

typedef enum st_outlier_top { ST_TOP_NONE, ST_TOP_ABOVE, ST_TOP_AT_OR_ABOVE } st_outlier_top;

typedef struct st_outlier_report {
    st_outlier_policy policy;
    double percentile;     /* e.g. 99.9 */
    int64_t threshold;     /* micros: the percentile of positive row amounts */
    int64_t reject_above;  /* micros, 0 = none */
    uint64_t rows_above;   /* rows with amount above the threshold (before the policy) */
    uint64_t rows_changed; /* capped or rejected */
    /* Sums in micros (exact) of the rows above the threshold, of those at or above it, and of
     * every positive amount, before the policy: a few absurd amounts (1e9 typed for 10.00)
     * carry most of the revenue, whether they lie above the percentile or, more numerous than
     * its share, are the percentile themselves (then no row is above it). */
    __int128 above_sum, at_or_above_sum, positive_sum;
    uint64_t rows_at_or_above, positive_rows;
    /* The rows above the threshold, or else those at or above it, when they are at most 1 % of
     * the positive rows and carry at least half of their sum */
    st_outlier_top top;
    bool top_warning; /* such a top, and the policy keeps it */
} st_outlier_report;

/* Kept rows of person p are rows offsets[p] … offsets[p + 1] − 1 of the sorted table. */
typedef struct st_grouping {
    uint32_t *offsets; /* npersons + 1 entries */
    size_t n, npersons;
} st_grouping;

void st_grouping_clear(st_grouping *g);

/* Orders: group by person then order id, drop exact duplicates, fix the as-of day (when
 * *as_of_day is STRATA_DAY_NONE it becomes the day after the last order), exclude rows dated
 * on or after it, apply the outlier policy (cap changes the amount column in place). */
strata_status st_clean_orders(strata_ctx *ctx, st_dataset *ds, size_t npersons, int32_t *as_of_day,
                              st_grouping *out, st_outlier_report *report);

/* Events: group by person then time, drop exact duplicates and rows on or after as_of_day. */
strata_status st_clean_events(st_dataset *ds, size_t npersons, int32_t as_of_day, st_grouping *out,
                              unsigned threads);

/* Users and identity links: remove exact duplicate rows (same id and fingerprint), keeping
 * the first line and the file order of the rest; record each as a reject. */
strata_status st_dedupe_users(st_dataset *ds);
strata_status st_dedupe_links(st_dataset *ds);

/* Users: one attribute record per person, later rows filling in or overriding earlier ones
 * field by field. Caller frees *attrs with st_free. Without user rows *attrs is NULL, which
 * readers take as every attribute unknown (a record per person would be written for nothing:
 * 24 MB of fresh memory on one core at 1M persons, 0.06 s on a VM whose memory is cold). */
strata_status st_merge_users(const st_dataset *ds, size_t npersons, st_user_attrs **attrs);

#endif
