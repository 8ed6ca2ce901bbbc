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

/* Segments and classes, person by person, on all threads. */
typedef struct label_job {
    st_profiles *ps;
    const st_rfm_means *means;
} label_job;

static strata_status label_cells(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    const label_job *j = arg;
    const st_rfm_means *means = j->means;
    for (size_t p = begin; p < end; p++) {
        st_profile *pr = &j->ps->rows[p];
        if (pr->frequency == 0) {
            pr->rfm_segment = ST_SEG_PROSPECT;
            continue;
        }
        pr->rfm_segment = (uint8_t)st_rfm_segment_of(pr->r_score, pr->f_score, pr->m_score);
        pr->rfm_class8 = (uint8_t)st_rfm_class8_of(
            pr->recency_days<means->recency_days, pr->frequency> means->frequency,
            (double)pr->monetary / 1e6 > means->monetary);
    }
    return STRATA_OK;
}

strata_status st_rfm_score(st_profiles *ps, st_rfm_means *means, unsigned threads)
{
    memset(means, 0, sizeof *means);
    rank_job j = {ps, NULL, 0, {NULL, NULL, NULL}};
    uint32_t *who = st_malloc((ps->n + 1) * sizeof *who); /* room for all: one pass */
    strata_status st = STRATA_ENOMEM;
    if (!who) goto done;
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++)
        if (ps->rows[p].frequency > 0) who[n++] = (uint32_t)p;
    for (int m = 0; m < 3; m++)
        if (!(j.below[m] = st_malloc((n + 1) * sizeof *j.below[m]))) goto done;
    j.who = who, j.n = n;
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
    label_job lj = {ps, means};
    st = st_parallel_for(threads, ps->n, label_cells, &lj);
done:
    st_free(who);
    for (int m = 0; m < 3; m++)
        st_free(j.below[m]);
    return st;
}

/* The tier of a share of buyers strictly above. */
static uint8_t tier_of(double above, const double cuts[4])
{
    for (int c = 0; c < 4; c++)
        if (above < cuts[c]) return (uint8_t)(ST_TIER_T1 + c);
    return ST_TIER_T5;
}

static double value_of(const st_profile *pr, const double weights[3], bool use_clv)
{
    double v = use_clv ? pr->clv
                       : 25.0 * (weights[0] * (pr->r_score - 1) + weights[1] * (pr->f_score - 1) +
                                 weights[2] * (pr->m_score - 1));
    /* rounding makes equal scores compare equal whatever the float path */
    return isfinite(v) ? round(v * 1e6) / 1e6 : 0;
}

/* Without CLV a buyer's score is a function of the (r, f, m) cell, so buyers are ranked by
 * counting the 125 cells, on all threads, instead of sorting every buyer on one. */
typedef struct tier_job {
    st_profiles *ps;
    const double *weights, *cuts;
    size_t counts[64][125]; /* buyers per cell, per thread (st_parallel_for runs ≤ 64) */
    bool other[64];         /* a score outside 1-5 seen by the thread */
    uint32_t cell_below[125];
    size_t n;
} tier_job;

static inline int cell_of(const st_profile *pr)
{
    unsigned r = pr->r_score - 1u, f = pr->f_score - 1u, m = pr->m_score - 1u;
    return r > 4 || f > 4 || m > 4 ? -1 : (int)(r * 25 + f * 5 + m);
}

static strata_status score_cells(void *arg, size_t begin, size_t end, unsigned thread)
{
    tier_job *j = arg;
    for (size_t p = begin; p < end; p++) {
        st_profile *pr = &j->ps->rows[p];
        if (pr->frequency == 0) continue;
        pr->value_score = value_of(pr, j->weights, false);
        int c = cell_of(pr);
        if (c < 0)
            j->other[thread] = true;
        else
            j->counts[thread][c]++;
    }
    return STRATA_OK;
}

static strata_status tier_cells(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    const tier_job *j = arg;
    for (size_t p = begin; p < end; p++) {
        st_profile *pr = &j->ps->rows[p];
        if (pr->frequency)
            pr->tier = tier_of((double)j->cell_below[cell_of(pr)] / (double)j->n, j->cuts);
    }
    return STRATA_OK;
}

/* false: a score outside 1-5 (not from st_rfm_score), for the caller to rank by sorting */
static bool tier_by_cell(st_profiles *ps, const double weights[3], const double cuts[4],
                         unsigned threads)
{
    tier_job *j = st_calloc(1, sizeof *j);
    if (!j) return false;
    j->ps = ps, j->weights = weights, j->cuts = cuts;
    st_parallel_for(threads, ps->n, score_cells, j);
    size_t count[125] = {0};
    bool other = false;
    for (unsigned t = 0; t < 64; t++) {
        other |= j->other[t];
        for (int c = 0; c < 125; c++)
            count[c] += j->counts[t][c], j->n += j->counts[t][c];
    }
    if (!other) {
        int64_t val[125];
        for (int c = 0; c < 125; c++) {
            st_profile cell = {0};
            cell.r_score = (uint8_t)(c / 25 + 1), cell.f_score = (uint8_t)(c / 5 % 5 + 1);
            cell.m_score = (uint8_t)(c % 5 + 1);
            val[c] = llround(value_of(&cell, weights, false) * 1e6);
        }
        for (int c = 0; c < 125; c++) {
            size_t above = 0;
            for (int d = 0; d < 125; d++)
                if (val[d] > val[c]) above += count[d];
            j->cell_below[c] = (uint32_t)above;
        }
        st_parallel_for(threads, ps->n, tier_cells, j);
    }
    st_free(j);
    return !other;
}

strata_status st_value_tier(st_profiles *ps, const double weights[3], const double cuts[4],
                            bool use_clv, unsigned threads)
{
    if (!use_clv && tier_by_cell(ps, weights, cuts, threads)) return STRATA_OK;
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++) {
        st_profile *pr = &ps->rows[p];
        if (pr->frequency == 0) continue;
        pr->value_score = value_of(pr, weights, use_clv);
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
    if ((st = st_rank_below(vals, n, below)) != STRATA_OK) goto done;
    for (size_t i = 0; i < n; i++)
        ps->rows[who[i]].tier = tier_of((double)below[i] / (double)n, cuts);
done:
    st_free(who);
    st_free(vals);
    st_free(below);
    return st;
}
