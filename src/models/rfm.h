/*
 * rfm.h — RFM scoring, segments and tiers over the profiles of persons with at least one
 * valid order ("scored" persons); everyone else is a prospect with empty scores.
 *
 *   r/f/m_score = 1 + floor(5 × below / n), below = scored persons with a strictly lower
 *                 value, n = scored persons (SQL: 1 + 5*(RANK() OVER (ORDER BY v) - 1) / n);
 *                 recency uses −recency_days, so recent is high; ties share a score.
 *   rfm_segment  = first row of the segment table (rfm.c) matching r and fm = floor((f+m)/2);
 *                  the table covers all 125 cells and reaches all eleven segments.
 *   rfm_class8   = R/F/M high or low against the mean over scored persons.
 *   value_score  = 25 × (w_r(r−1) + w_f(f−1) + w_m(m−1)), rounded to 6 decimals (or the CLV).
 *   tier         = by above = share of scored persons with a strictly higher value_score:
 *                  T1 if above < cut1, T2 < cut2, T3 < cut3, T4 < cut4, else T5.
 */
#ifndef ST_RFM_H
#define ST_RFM_H

#include "profile/profile.h"

typedef struct st_rfm_means {
    double recency_days, frequency, monetary; /* means over scored persons */
} st_rfm_means;

/* Segment id (models/labels.h) of a score cell; 0 if the table had a hole (it has none). */
unsigned st_rfm_segment_of(unsigned r, unsigned f, unsigned m);
/* Class8 id from the three comparisons. */
unsigned st_rfm_class8_of(bool r_high, bool f_high, bool m_high);

/* below[i] = number of values strictly lower than values[i]; above[i] (when not NULL) =
 * number strictly higher; one radix sort for both. */
strata_status st_rank_counts(const int64_t *values, size_t n, uint32_t *below, uint32_t *above);
strata_status st_rank_below(const int64_t *values, size_t n, uint32_t *below);

/* Scores, cells, segments and classes for every profile; the three ranks on up to `threads`
 * threads. */
strata_status st_rfm_score(st_profiles *ps, st_rfm_means *means, unsigned threads);

/* value_score and tier. weights[3] must sum to 1; cuts[4] strictly increasing in (0, 1].
 * use_clv: value_score = clv (must be computed) instead of the weighted scores. */
strata_status st_value_tier(st_profiles *ps, const double weights[3], const double cuts[4],
                            bool use_clv, unsigned threads);

/* lifecycle, behavior_type, interaction_level and core_level from configuration. */
strata_status st_behavior_labels(strata_ctx *ctx, st_profiles *ps);

#endif
