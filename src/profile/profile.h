/*
 * profile.h — one profile per person: the features computed from the person's own rows
 * (SPEC "Profile"), plus slots the model stages fill in (scores, tiers, labels, churn, CLV,
 * cluster). Owns st_profiles. Sits after identity and cleaning; models read and extend it.
 *
 * Definitions (as of day D, exclusive; every row before D):
 *   order          rows of one person with one order id; its day = day of its earliest row
 *   valid order    an order whose rows sum to a positive net amount
 *   frequency      number of valid orders
 *   monetary       max(0, sum of all the person's row amounts) — returns included
 *   first/last_order_day   first and last day of valid orders
 *   recency_days   D − last_order_day (≥ 1)
 *   aov            monetary / frequency
 *   tenure_days    D − first seen (earliest of sign-up, first order row, first event)
 *   purchase_interval_days  (last − first valid order day) / (frequency − 1), frequency ≥ 2
 *   refund_rate    orders with a refund, cancellation or returned line / all orders
 *   coupon_rate    valid orders with a coupon or discount / valid orders
 *   top_category   category with the highest net spend (ties: smallest name); category_count
 *                  = categories with positive net spend
 *   views … shares event counts by type
 *   active_days_N  distinct days in [D−N, D) with an event or an order row
 *   last_active_day last day with an event or an order row
 */
#ifndef ST_PROFILE_H
#define ST_PROFILE_H

#include "ingest/clean.h"
#include "ingest/ingest.h"
#include "profile/partial.h"

#define ST_NONE_I32 INT32_MIN

typedef struct st_profile {
    /* fields grouped by width so that padding costs little: a million of these are held at once */
    /* from the person's rows */
    int64_t monetary;     /* micros, ≥ 0 */
    int64_t aov;          /* micros; 0 without valid orders */
    int64_t repeat_spend; /* micros: net of valid orders on purchase days after the first */
    int64_t monetary_90;  /* net of orders with first day in [D−90, D), floored at 0 */
    double purchase_interval_days;   /* NaN when frequency < 2 */
    double refund_rate, coupon_rate; /* NaN without orders / valid orders */
    double top_brand_share; /* share of positive brand spend on the top brand; NaN if none */
    int32_t first_order_day, last_order_day; /* STRATA_DAY_NONE without valid orders */
    int32_t recency_days;                    /* ST_NONE_I32 without valid orders */
    int32_t frequency;
    int32_t orders_all;  /* all orders, valid or not */
    int32_t tenure_days; /* ST_NONE_I32 when never seen before D */
    uint32_t views, searches, carts, favorites, likes, comments, shares;
    int32_t last_active_day; /* STRATA_DAY_NONE when never active */
    uint32_t activity_90;    /* events + valid orders in [D−90, D), for core_level */
    int32_t orders_90;       /* valid orders with first day in [D−90, D) */
    int32_t purchase_days;   /* distinct days with a valid order (CLV: x = purchase_days − 1) */
    uint16_t top_category, category_count;
    uint16_t active_days_30, active_days_90;
    /* scores, labels and model outputs (models/) */
    double value_score;                                      /* NaN when not scored */
    double churn_prob, p_alive, exp_purchases, exp_aov, clv; /* NaN = not computed */
    int32_t cluster;                                         /* -1 = none */
    uint8_t r_score, f_score, m_score;                       /* 1..5, 0 = not scored */
    uint8_t rfm_segment, rfm_class8, tier, lifecycle, behavior_type, interaction_level, core_level,
        churn_risk; /* label ids of models/labels.h; 0 = none */
} st_profile;

/* All profiles of a run, indexed by person. */
typedef struct st_profiles {
    st_profile *rows;
    size_t n;
    int32_t as_of_day;
    uint64_t scored; /* persons with frequency ≥ 1 */
    size_t cap;      /* rows allocated */
} st_profiles;

void st_profiles_init(st_profiles *ps);
/* Room for n profiles ahead of st_profiles_build, which otherwise allocates it: the job
 * reserves the array early and has its pages touched while the person sort keeps one core
 * busy (st_memory_touch). */
strata_status st_profiles_reserve(st_profiles *ps, size_t n);
void st_profiles_clear(st_profiles *ps);

/* Features of one person from a partial and user attributes (attrs may be NULL).
 * STRATA_ENOMEM only for persons with thousands of orders when scratch cannot grow. */
strata_status st_profile_finalize(st_profile *out, const st_partial *p, const st_user_attrs *attrs,
                                  int32_t as_of_day, const st_dict *categories);

/* Build every person's profile from grouped, cleaned rows (from st_clean_*; a grouping
 * with no offsets means no rows), using `threads` threads. Only rows before before_day are
 * used (STRATA_DAY_NONE = all): the churn stage builds features at a cutoff this way. */
strata_status st_profiles_build(st_profiles *ps, const st_dataset *ds, size_t npersons,
                                const st_grouping *orders, const st_grouping *events,
                                const st_user_attrs *attrs, int32_t as_of_day, int32_t before_day,
                                unsigned threads);

#endif
