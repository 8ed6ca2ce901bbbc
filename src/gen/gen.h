/*
 * gen.h — internal interface of the synthetic data generator (`strata gen`).
 *
 * strata_gen() in include/strata.h writes orders.csv, events.csv, users.csv and
 * identities.csv; st_gen_run() does the same and also reports what it wrote: row counts,
 * the simulated population and, per file, how many rows of each injected-problem kind
 * (--dirt) were written, so tests of cleaning and quality reporting can compare their
 * counts with the truth. The generator sits outside the data flow: it only produces inputs.
 */
#ifndef ST_GEN_H
#define ST_GEN_H

#include "core/core.h"

/* Kinds of injected problems (see the table in gen.c's header comment). */
#define ST_GEN_DIRT_MAP(X)                                                                 \
    X(DUPLICATE, "duplicate")           /* the row repeated verbatim right after itself */ \
    X(MISSING_USER, "missing_user_id")  /* user_id field empty */                          \
    X(BAD_DATE, "bad_date")             /* "YYYY-02-30 hh:mm:ss" or "yesterday" */         \
    X(ABSURD_AMOUNT, "absurd_amount")   /* quantity 1 × 1000000000.00 */                   \
    X(BAD_AMOUNT, "bad_amount")         /* amount "N/A" or "twelve" */                     \
    X(QUOTED_COMMA, "quoted_comma")     /* a valid quoted field holding a comma */

typedef enum st_gen_dirt {
#define ST_GEN__DIRT_ENUM(id, key) ST_GEN_DIRT_##id,
    ST_GEN_DIRT_MAP(ST_GEN__DIRT_ENUM)
#undef ST_GEN__DIRT_ENUM
        ST_GEN_DIRT__COUNT
} st_gen_dirt;

/* Stable key of a dirt kind ("bad_date"). */
const char *st_gen_dirt_key(st_gen_dirt kind);

/* What one file received. rows excludes the header and includes duplicate rows. */
typedef struct st_gen_file_counts {
    uint64_t rows;
    uint64_t dirt[ST_GEN_DIRT__COUNT]; /* rows carrying each problem (a duplicate counts once) */
} st_gen_file_counts;

typedef struct st_gen_report {
    st_gen_file_counts orders_csv, events_csv, users_csv, identities_csv;
    uint64_t persons;            /* = users.csv data rows without duplicates */
    uint64_t buyers;             /* persons with at least one order in the period */
    uint64_t browsers;           /* persons drawn as never-buying browsers */
    uint64_t second_id_persons;  /* persons who also order as app_<n> */
    uint64_t shared_identifiers; /* device ids linked to more than 20 user ids */
    uint64_t orders;             /* distinct order ids */
    uint64_t multi_line_orders;  /* orders written as 2–4 lines */
    uint64_t refunded_orders;    /* orders whose lines all have status refunded */
    uint64_t return_lines;       /* extra lines with a negative amount (partial returns) */
    uint64_t coupon_orders;      /* orders with coupon_used 1 */
    uint64_t sessions;           /* distinct session ids in events.csv */
    uint64_t purchase_events;    /* events of type purchase */
} st_gen_report;

/* strata_gen() with a report. *out (when not NULL) is zeroed first and filled on success. */
strata_status st_gen_run(strata_ctx *ctx, const strata_gen_opts *opts, st_gen_report *out);

#endif /* ST_GEN_H */
