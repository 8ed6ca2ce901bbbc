/*
 * rfm.c — percent-rank RFM scores, the segment table and the eight classic classes.
 */
#include "models/rfm.h"
#include "models/labels.h"

#include <math.h>

/* The segment table, first match wins, over r_score and fm = floor((f_score + m_score) / 2).
 * Common published tables leave cells unmatched or segments unreachable; this one partitions
 * the 5 × 5 grid (test_rfm.c proves every one of the 125 (r, f, m) cells matches exactly one
 * row and every segment is reached):
 *
 *        fm=1            fm=2-3               fm=4            fm=5
 *   r=5  new_customers   potential_loyalist   champions       champions
 *   r=4  promising       potential_loyalist   loyal_customers loyal_customers
 *   r=3  about_to_sleep  need_attention       loyal_customers loyal_customers
 *   r=2  hibernating     hib. (2) / at_risk (3) at_risk       cant_lose_them
 *   r=1  lost            lost (2) / at_risk (3) at_risk       cant_lose_them
 */
typedef struct segment_rule {
    unsigned segment;
    unsigned r_lo, r_hi, fm_lo, fm_hi;
} segment_rule;

static const segment_rule segment_table[] = {
    {ST_SEG_CHAMPIONS, 5, 5, 4, 5},
    {ST_SEG_LOYAL, 3, 4, 4, 5},
    {ST_SEG_CANT_LOSE, 1, 2, 5, 5},
    {ST_SEG_AT_RISK, 1, 2, 3, 4},
    {ST_SEG_NEW, 5, 5, 1, 1},
    {ST_SEG_POTENTIAL, 4, 5, 2, 3},
    {ST_SEG_PROMISING, 4, 4, 1, 1},
    {ST_SEG_NEED_ATTENTION, 3, 3, 2, 3},
    {ST_SEG_ABOUT_TO_SLEEP, 3, 3, 1, 1},
    {ST_SEG_HIBERNATING, 2, 2, 1, 2},
    {ST_SEG_LOST, 1, 1, 1, 2},
};

unsigned st_rfm_segment_of(unsigned r, unsigned f, unsigned m)
{
    unsigned fm = (f + m) / 2;
    for (size_t i = 0; i < ST_ARRAY_LEN(segment_table); i++) {
        const segment_rule *s = &segment_table[i];
        if (r >= s->r_lo && r <= s->r_hi && fm >= s->fm_lo && fm <= s->fm_hi) return s->segment;
    }
    return 0;
}

unsigned st_rfm_class8_of(bool r_high, bool f_high, bool m_high)
{
    /* important = M high; then R, F decide value / develop / keep / retain */
    static const unsigned by_rf[2][2] = {{ST_C8_IMPORTANT_RETAIN, ST_C8_IMPORTANT_KEEP},
                                         {ST_C8_IMPORTANT_DEVELOP, ST_C8_IMPORTANT_VALUE}};
    unsigned c = by_rf[r_high][f_high];
    return m_high ? c : c + (ST_C8_GENERAL_VALUE - ST_C8_IMPORTANT_VALUE);
}

/* Give every item the counts of keys strictly lower (below) and, when wanted, strictly higher
 * (above): by counting, or by sorting keys (idx moved along, idx[i] = i on entry), after which
 * each run of equal keys [first, end) shares them. */
/* Keys within a small range (recency in days, order counts) are ranked by counting, without a
 * sort: false when the range is too wide for that (or the counts cannot be allocated). */
static bool rank_by_counting(const uint64_t *keys, size_t n, uint32_t *below, uint32_t *above)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = ST_MAX(max, keys[i]);
    if (max > 4 * (uint64_t)n + 1024 || max >= (1u << 26)) return false;
    uint32_t *count = st_calloc(max + 2, sizeof *count);
    if (!count) return false;
    for (size_t i = 0; i < n; i++)
        count[keys[i] + 1]++;
    for (uint64_t k = 1; k <= max + 1; k++)
        count[k] += count[k - 1]; /* count[k] = keys below k */
    for (size_t i = 0; i < n; i++) {
        below[i] = count[keys[i]];
        if (above) above[i] = (uint32_t)(n - count[keys[i] + 1]);
    }
    st_free(count);
    return true;
}

static strata_status rank_keys(uint64_t *keys, uint32_t *idx, size_t n, uint32_t *below,
                               uint32_t *above)
{
    if (rank_by_counting(keys, n, below, above)) return STRATA_OK;
    strata_status st = st_radix_sort_pairs(keys, idx, n);
    if (st != STRATA_OK) return st;
    for (size_t first = 0, end; first < n; first = end) {
        for (end = first + 1; end < n && keys[end] == keys[first]; end++) {
        }
        for (size_t i = first; i < end; i++) {
            below[idx[i]] = (uint32_t)first;
            if (above) above[idx[i]] = (uint32_t)(n - end);
        }
    }
    return STRATA_OK;
}

strata_status st_rank_counts(const int64_t *values, size_t n, uint32_t *below, uint32_t *above)
{
    uint64_t *keys = st_malloc((n + 1) * sizeof *keys);
    uint32_t *idx = st_malloc((n + 1) * sizeof *idx);
    strata_status st = STRATA_ENOMEM;
    if (keys && idx) {
        /* offsets from the minimum keep the order and leave the high bytes zero, so the radix
         * sort skips them (recency: 2 passes instead of 8) */
        int64_t lo = n ? values[0] : 0;
        for (size_t i = 1; i < n; i++)
            lo = ST_MIN(lo, values[i]);
        for (size_t i = 0; i < n; i++)
            keys[i] = (uint64_t)values[i] - (uint64_t)lo, idx[i] = (uint32_t)i;
        st = rank_keys(keys, idx, n, below, above);
    }
    st_free(keys);
    st_free(idx);
    return st;
}

strata_status st_rank_below(const int64_t *values, size_t n, uint32_t *below)
{
    return st_rank_counts(values, n, below, NULL);
}

typedef struct rank_job {
    const st_profiles *ps;
    const uint32_t *who; /* the scored persons */
    size_t n;
    uint32_t *below[3]; /* per metric: scored persons strictly lower */
} rank_job;

static int64_t metric_value(const st_profile *pr, int metric)
{
    return metric == 0 ? -(int64_t)pr->recency_days : metric == 1 ? pr->frequency : pr->monetary;
}

/* Metrics [begin, end) in the order monetary, recency, frequency: monetary has the most key
 * bytes to sort, so on two threads it gets one to itself. Keys are filled straight from the
 * profiles (as st_rank_counts would from an array of values). */
static strata_status rank_metrics(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    static const int metric_of[3] = {2, 0, 1};
    const rank_job *j = arg;
    const st_profile *rows = j->ps->rows;
    uint64_t *keys = st_malloc((j->n + 1) * sizeof *keys);
    uint32_t *idx = st_malloc((j->n + 1) * sizeof *idx);
    strata_status st = keys && idx ? STRATA_OK : STRATA_ENOMEM;
    for (size_t t = begin; t < end && st == STRATA_OK; t++) {
        int metric = metric_of[t];
        int64_t lo = j->n ? metric_value(&rows[j->who[0]], metric) : 0;
        for (size_t i = 1; i < j->n; i++)
            lo = ST_MIN(lo, metric_value(&rows[j->who[i]], metric));
        for (size_t i = 0; i < j->n; i++)
            keys[i] = (uint64_t)metric_value(&rows[j->who[i]], metric) - (uint64_t)lo,
            idx[i] = (uint32_t)i;
        st = rank_keys(keys, idx, j->n, j->below[metric], NULL);
    }
    st_free(keys);
    st_free(idx);
    return st;
}

static uint8_t score_of(uint32_t below, size_t n)
{
    return (uint8_t)(1 + (5 * (uint64_t)below) / n);
}

strata_status st_rfm_score(st_profiles *ps, st_rfm_means *means, unsigned threads)
{
    memset(means, 0, sizeof *means);
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++)
        n += ps->rows[p].frequency > 0;
    rank_job j = {ps, NULL, n, {NULL, NULL, NULL}};
    uint32_t *who = st_malloc((n + 1) * sizeof *who);
    strata_status st = STRATA_ENOMEM;
    if (!who) goto done;
    for (int m = 0; m < 3; m++)
        if (!(j.below[m] = st_malloc((n + 1) * sizeof *j.below[m]))) goto done;
    n = 0;
    for (size_t p = 0; p < ps->n; p++)
        if (ps->rows[p].frequency > 0) who[n++] = (uint32_t)p;
    j.who = who;
    if ((st = st_parallel_for(ST_MIN(threads, 3u), 3, rank_metrics, &j)) != STRATA_OK) goto done;
    double sr = 0, sf = 0, sm = 0;
    for (size_t i = 0; i < n; i++) {
        st_profile *pr = &ps->rows[who[i]];
        pr->r_score = score_of(j.below[0][i], n);
        pr->f_score = score_of(j.below[1][i], n);
        pr->m_score = score_of(j.below[2][i], n);
        sr += pr->recency_days, sf += pr->frequency, sm += (double)pr->monetary / 1e6;
    }
    if (n) means->recency_days = sr / n, means->frequency = sf / n, means->monetary = sm / n;
    for (size_t p = 0; p < ps->n; p++) {
        st_profile *pr = &ps->rows[p];
        if (pr->frequency == 0) {
            pr->rfm_segment = ST_SEG_PROSPECT;
            continue;
        }
        pr->rfm_segment = (uint8_t)st_rfm_segment_of(pr->r_score, pr->f_score, pr->m_score);
        pr->rfm_class8 = (uint8_t)st_rfm_class8_of(
            pr->recency_days<means->recency_days, pr->frequency> means->frequency,
            (double)pr->monetary / 1e6 > means->monetary);
    }
    st = STRATA_OK;
done:
    st_free(who);
    for (int m = 0; m < 3; m++)
        st_free(j.below[m]);
    return st;
}

/* Without CLV the score is a function of the person's (r, f, m) cell, so persons are ranked
 * by counting the 125 cells instead of sorting every buyer on one thread. false = a score
 * outside 1-5 (not from st_rfm_score): the caller sorts. */
static bool rank_by_cell(const st_profile *rows, const uint32_t *who, const int64_t *vals,
                         size_t n, uint32_t *below)
{
    size_t count[125] = {0};
    int64_t val[125] = {0};
    uint32_t cell_below[125];
    for (size_t i = 0; i < n; i++) {
        const st_profile *pr = &rows[who[i]];
        unsigned r = pr->r_score - 1u, f = pr->f_score - 1u, m = pr->m_score - 1u;
        if (r > 4 || f > 4 || m > 4) return false;
        unsigned c = r * 25 + f * 5 + m;
        count[c]++, val[c] = vals[i];
    }
    for (int c = 0; c < 125; c++) {
        size_t b = 0;
        for (int d = 0; d < 125; d++)
            if (val[d] < val[c]) b += count[d];
        cell_below[c] = (uint32_t)b;
    }
    for (size_t i = 0; i < n; i++) {
        const st_profile *pr = &rows[who[i]];
        below[i] = cell_below[(pr->r_score - 1u) * 25 + (pr->f_score - 1u) * 5 + pr->m_score - 1u];
    }
    return true;
}

strata_status st_value_tier(st_profiles *ps, const double weights[3], const double cuts[4],
                            bool use_clv)
{
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++) {
        st_profile *pr = &ps->rows[p];
        if (pr->frequency == 0) continue;
        double v = use_clv
                       ? pr->clv
                       : 25.0 * (weights[0] * (pr->r_score - 1) + weights[1] * (pr->f_score - 1) +
                                 weights[2] * (pr->m_score - 1));
        /* rounding makes equal scores compare equal whatever the float path */
        pr->value_score = isfinite(v) ? round(v * 1e6) / 1e6 : 0;
        n++;
    }
    uint32_t *who = st_malloc((n + 1) * sizeof *who);
    int64_t *vals = st_malloc((n + 1) * sizeof *vals);
    uint32_t *below = st_malloc((n + 1) * sizeof *below);
    strata_status st = STRATA_ENOMEM;
    if (!who || !vals || !below) goto done;
    n = 0;
    for (size_t p = 0; p < ps->n; p++) {
        if (ps->rows[p].frequency == 0) continue;
        who[n] = (uint32_t)p;
        /* above = strictly higher = strictly lower of the negated value */
        vals[n++] = -llround(ps->rows[p].value_score * 1e6);
    }
    if ((use_clv || !rank_by_cell(ps->rows, who, vals, n, below)) &&
        (st = st_rank_below(vals, n, below)) != STRATA_OK)
        goto done;
    st = STRATA_OK;
    for (size_t i = 0; i < n; i++) {
        double above = (double)below[i] / (double)n;
        uint8_t tier = ST_TIER_T5;
        for (int c = 0; c < 4; c++)
            if (above < cuts[c]) {
                tier = (uint8_t)(ST_TIER_T1 + c);
                break;
            }
        ps->rows[who[i]].tier = tier;
    }
done:
    st_free(who);
    st_free(vals);
    st_free(below);
    return st;
}
