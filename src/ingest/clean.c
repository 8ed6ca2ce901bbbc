/*
 * clean.c — grouping, de-duplication, as-of exclusion and outliers over whole columns.
 *
 * Rows are put in person order by a stable counting sort (so file order survives inside a
 * person), then each person's few rows are sorted by (order, fingerprint, line) so exact
 * duplicates are adjacent and the earliest line is the one kept. Columns are permuted one
 * at a time to keep the peak at one extra column.
 */
#include "ingest/clean.h"
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>

/* Reorder columns by perm through one scratch buffer reused for every column, so the permute
 * touches no fresh pages (page faults showed up in profiles when each column was reallocated),
 * with the rows of each column split across threads. */
typedef struct permute_job {
    const uint32_t *perm;
    void *col, *scratch;
    size_t width;
} permute_job;

static strata_status gather_range(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    const permute_job *j = arg;
    switch (j->width) {
#define GATHER(type)                                                                           \
    for (size_t i = begin; i < end; i++) ((type *)j->scratch)[i] = ((const type *)j->col)[j->perm[i]]; \
    break;
    case 1: GATHER(uint8_t)
    case 2: GATHER(uint16_t)
    case 4: GATHER(uint32_t)
    default: GATHER(uint64_t)
#undef GATHER
    }
    return STRATA_OK;
}

static strata_status copy_back_range(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    const permute_job *j = arg;
    memcpy((char *)j->col + begin * j->width, (char *)j->scratch + begin * j->width,
           (end - begin) * j->width);
    return STRATA_OK;
}

static void permute_column(void *col, size_t width, const uint32_t *perm, size_t n, void *scratch,
                           unsigned threads)
{
    if (n == 0) return;
    permute_job j = {perm, col, scratch, width};
    /* every gather must finish before any row is copied back: gathers read anywhere in col */
    st_parallel_for(threads, n, gather_range, &j);
    st_parallel_for(threads, n, copy_back_range, &j);
}

#define PERMUTE(col, perm, n, scratch, threads) permute_column((col), sizeof *(col), (perm), (n), (scratch), (threads))

/* Stable counting sort of row indices by person; offsets gets npersons + 1 entries. */
static strata_status group_by_person(const uint32_t *person, size_t n, size_t npersons,
                                     uint32_t **perm_out, uint32_t **offsets_out)
{
    uint32_t *offsets = st_calloc(npersons + 2, sizeof *offsets);
    uint32_t *perm = st_malloc((n + 1) * sizeof *perm);
    if (!offsets || !perm) {
        st_free(offsets), st_free(perm);
        return STRATA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) offsets[person[i] + 1]++;
    for (size_t p = 0; p < npersons; p++) offsets[p + 1] += offsets[p];
    uint32_t *next = st_malloc((npersons + 1) * sizeof *next);
    if (!next) {
        st_free(offsets), st_free(perm);
        return STRATA_ENOMEM;
    }
    memcpy(next, offsets, npersons * sizeof *next);
    for (size_t i = 0; i < n; i++) perm[next[person[i]]++] = (uint32_t)i;
    st_free(next);
    *perm_out = perm;
    *offsets_out = offsets;
    return STRATA_OK;
}

/* ---- orders ---- */

static inline int order_row_cmp(const void *a, const void *b, void *arg)
{
    const st_order_rows *o = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (o->order[x] != o->order[y]) return o->order[x] < o->order[y] ? -1 : 1;
    if (o->fp[x] != o->fp[y]) return o->fp[x] < o->fp[y] ? -1 : 1;
    return (x > y) - (x < y); /* file order: the earliest line is kept */
}

static inline int event_row_cmp(const void *a, const void *b, void *arg)
{
    const st_event_rows *e = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (e->ts[x] != e->ts[y]) return e->ts[x] < e->ts[y] ? -1 : 1;
    if (e->fp[x] != e->fp[y]) return e->fp[x] < e->fp[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Most persons have a handful of rows: insertion sort with the comparison inlined beats
 * qsort's indirect calls by a wide margin there. */
#define SMALL_GROUP 32

typedef struct sort_job {
    uint32_t *perm;
    const uint32_t *offsets;
    int (*cmp)(const void *, const void *, void *);
    void *arg;
} sort_job;

static strata_status sort_range(void *job_arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    const sort_job *job = job_arg;
    uint32_t *perm = job->perm;
    const uint32_t *offsets = job->offsets;
    int (*cmp)(const void *, const void *, void *) = job->cmp;
    void *arg = job->arg;
    for (size_t p = begin; p < end; p++) {
        size_t lo = offsets[p], hi = offsets[p + 1];
        if (hi - lo < 2) continue;
        if (hi - lo > SMALL_GROUP) {
            qsort_r(perm + lo, hi - lo, sizeof *perm, cmp, arg);
            continue;
        }
        for (size_t i = lo + 1; i < hi; i++) {
            uint32_t x = perm[i];
            size_t j = i;
            while (j > lo && cmp(&perm[j - 1], &x, arg) > 0) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = x;
        }
    }
    return STRATA_OK;
}

static void sort_groups(uint32_t *perm, const uint32_t *offsets, size_t npersons,
                        int (*cmp)(const void *, const void *, void *), void *arg, unsigned threads)
{
    sort_job j = {perm, offsets, cmp, arg};
    st_parallel_for(threads, npersons, sort_range, &j);
}

static strata_status permute_orders(st_order_rows *o, const uint32_t *perm, unsigned threads)
{
    size_t n = o->n;
    void *scratch = st_malloc((n + 1) * sizeof(uint64_t));
    if (!scratch) return STRATA_ENOMEM;
    PERMUTE(o->key, perm, n, scratch, threads);
    PERMUTE(o->order, perm, n, scratch, threads);
    PERMUTE(o->fp, perm, n, scratch, threads);
    PERMUTE(o->line, perm, n, scratch, threads);
    PERMUTE(o->day, perm, n, scratch, threads);
    PERMUTE(o->amount, perm, n, scratch, threads);
    PERMUTE(o->category, perm, n, scratch, threads);
    PERMUTE(o->brand, perm, n, scratch, threads);
    PERMUTE(o->flags, perm, n, scratch, threads);
    st_free(scratch);
    return STRATA_OK;
}

static void copy_order_row(st_order_rows *o, size_t to, size_t from)
{
    o->key[to] = o->key[from];
    o->order[to] = o->order[from];
    o->fp[to] = o->fp[from];
    o->line[to] = o->line[from];
    o->day[to] = o->day[from];
    o->amount[to] = o->amount[from];
    o->category[to] = o->category[from];
    o->brand[to] = o->brand[from];
    o->flags[to] = o->flags[from];
}

static void recount_offsets(const uint32_t *person, size_t n, size_t npersons, uint32_t *offsets)
{
    memset(offsets, 0, (npersons + 1) * sizeof *offsets);
    for (size_t i = 0; i < n; i++) offsets[person[i] + 1]++;
    for (size_t p = 0; p < npersons; p++) offsets[p + 1] += offsets[p];
}

/* Nearest-rank percentile of the positive amounts. */
static strata_status amount_percentile(const st_order_rows *o, double pct, int64_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < o->n; i++) m += o->amount[i] > 0;
    *out = 0;
    if (m == 0) return STRATA_OK;
    int64_t *v = st_malloc(m * sizeof *v);
    if (!v) return STRATA_ENOMEM;
    m = 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->amount[i] > 0) v[m++] = o->amount[i];
    double rank = pct / 100.0 * (double)m;
    size_t idx = rank <= 1 ? 0 : (size_t)(rank + 0.999999999) - 1;
    if (idx >= m) idx = m - 1;
    *out = st_select_i64(v, m, idx);
    st_free(v);
    return STRATA_OK;
}

static strata_status apply_outliers(strata_ctx *ctx, st_dataset *ds, st_outlier_report *rep)
{
    st_order_rows *o = &ds->orders;
    const char *policy = st_cfg_str(ctx->config, ST_CFG_CLEAN_OUTLIERS);
    rep->policy = !strcmp(policy, "cap")      ? ST_OUTLIER_CAP
                  : !strcmp(policy, "reject") ? ST_OUTLIER_REJECT
                                              : ST_OUTLIER_KEEP;
    rep->percentile = st_cfg_num(ctx->config, ST_CFG_CLEAN_OUTLIER_PERCENTILE);
    if (rep->percentile <= 0 || rep->percentile > 100)
        return st_error(ctx, STRATA_ECONFIG, "clean.outlier_percentile must be in (0, 100]");
    double above = st_cfg_num(ctx->config, ST_CFG_CLEAN_REJECT_ABOVE);
    rep->reject_above = above > 0 ? (int64_t)(above * 1e6 + 0.5) : 0;
    strata_status st = amount_percentile(o, rep->percentile, &rep->threshold);
    if (st != STRATA_OK) return st;
    for (size_t i = 0; i < o->n; i++) rep->rows_above += o->amount[i] > rep->threshold;
    if (rep->policy == ST_OUTLIER_KEEP) return STRATA_OK;
    int64_t limit = rep->policy == ST_OUTLIER_REJECT && rep->reject_above ? rep->reject_above
                                                                          : rep->threshold;
    size_t w = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (o->amount[i] > limit) {
            rep->rows_changed++;
            if (rep->policy == ST_OUTLIER_CAP) {
                o->amount[i] = limit;
                ds->quality[ST_IN_ORDERS].reasons[ST_REASON_AMOUNT_CAPPED]++;
            } else {
                char detail[96];
                snprintf(detail, sizeof detail, "amount %.2f above the outlier limit %.2f",
                         (double)o->amount[i] / 1e6, (double)limit / 1e6);
                st = st_dataset_add_reject(ds, ST_IN_ORDERS, o->line[i], 0, ST_REASON_AMOUNT_OUTLIER, detail);
                if (st != STRATA_OK) return st;
                continue;
            }
        }
        if (w != i) copy_order_row(o, w, i);
        w++;
    }
    o->n = w;
    return STRATA_OK;
}

strata_status st_clean_orders(strata_ctx *ctx, st_dataset *ds, size_t npersons,
                              int32_t *as_of_day, uint32_t **offsets_out, st_outlier_report *rep)
{
    st_order_rows *o = &ds->orders;
    unsigned threads = st_threads(ctx);
    memset(rep, 0, sizeof *rep);
    *offsets_out = NULL;
    uint32_t *perm = NULL, *offsets = NULL;
    strata_status st = group_by_person(o->key, o->n, npersons, &perm, &offsets);
    if (st != STRATA_OK) return st;
    sort_groups(perm, offsets, npersons, order_row_cmp, o, threads);
    st = permute_orders(o, perm, threads);
    st_free(perm);
    if (st != STRATA_OK) goto fail;

    /* duplicates are adjacent now: same person, order and fingerprint */
    st_quality *q = &ds->quality[ST_IN_ORDERS];
    size_t w = 0;
    int32_t last_day = INT32_MIN;
    for (size_t i = 0; i < o->n; i++) {
        if (w > 0 && o->key[i] == o->key[w - 1] && o->order[i] == o->order[w - 1] &&
            o->fp[i] == o->fp[w - 1]) {
            char detail[64];
            snprintf(detail, sizeof detail, "duplicate of line %u", o->line[w - 1]);
            if ((st = st_dataset_add_reject(ds, ST_IN_ORDERS, o->line[i], 0, ST_REASON_DUPLICATE, detail)) != STRATA_OK)
                goto fail;
            continue;
        }
        if (o->day[i] > last_day) last_day = o->day[i];
        if (w != i) copy_order_row(o, w, i);
        w++;
    }
    o->n = w;
    if (*as_of_day == STRATA_DAY_NONE) {
        if (o->n == 0) {
            st = st_error(ctx, STRATA_EDATA, "no valid order rows to take the as-of date from; give --as-of");
            goto fail;
        }
        *as_of_day = last_day + 1;
    }
    w = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (o->day[i] >= *as_of_day) {
            q->reasons[ST_REASON_AFTER_AS_OF]++;
            continue;
        }
        if (w != i) copy_order_row(o, w, i);
        w++;
    }
    o->n = w;
    if ((st = apply_outliers(ctx, ds, rep)) != STRATA_OK) goto fail;
    q->rows_loaded = o->n;
    recount_offsets(o->key, o->n, npersons, offsets);
    *offsets_out = offsets;
    return STRATA_OK;
fail:
    st_free(offsets);
    return st;
}

strata_status st_clean_events(st_dataset *ds, size_t npersons, int32_t as_of_day,
                              uint32_t **offsets_out, unsigned threads)
{
    st_event_rows *e = &ds->events;
    *offsets_out = NULL;
    uint32_t *perm = NULL, *offsets = NULL;
    strata_status st = group_by_person(e->key, e->n, npersons, &perm, &offsets);
    if (st != STRATA_OK) return st;
    sort_groups(perm, offsets, npersons, event_row_cmp, e, threads);
    size_t n = e->n;
    void *scratch = st_malloc((n + 1) * sizeof(uint64_t));
    if (!scratch) {
        st_free(perm), st_free(offsets);
        return STRATA_ENOMEM;
    }
    PERMUTE(e->key, perm, n, scratch, threads);
    PERMUTE(e->fp, perm, n, scratch, threads);
    PERMUTE(e->line, perm, n, scratch, threads);
    PERMUTE(e->ts, perm, n, scratch, threads);
    PERMUTE(e->type, perm, n, scratch, threads);
    st_free(scratch);
    st_free(perm);
    st_quality *q = &ds->quality[ST_IN_EVENTS];
    int64_t end = (int64_t)as_of_day * 86400;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && e->key[i] == e->key[w - 1] && e->ts[i] == e->ts[w - 1] && e->fp[i] == e->fp[w - 1]) {
            char detail[64];
            snprintf(detail, sizeof detail, "duplicate of line %u", e->line[w - 1]);
            if ((st = st_dataset_add_reject(ds, ST_IN_EVENTS, e->line[i], 0, ST_REASON_DUPLICATE, detail)) != STRATA_OK) {
                st_free(offsets);
                return st;
            }
            continue;
        }
        if (e->ts[i] >= end) {
            /* counted, and kept out of the compacted columns; duplicates of it are still
             * compared against the row before it, which is fine: equal rows are equally late */
            q->reasons[ST_REASON_AFTER_AS_OF]++;
            continue;
        }
        if (w != i) {
            e->key[w] = e->key[i];
            e->fp[w] = e->fp[i];
            e->line[w] = e->line[i];
            e->ts[w] = e->ts[i];
            e->type[w] = e->type[i];
        }
        w++;
    }
    e->n = w;
    q->rows_loaded = w;
    recount_offsets(e->key, e->n, npersons, offsets);
    *offsets_out = offsets;
    return STRATA_OK;
}

strata_status st_merge_users(const st_dataset *ds, size_t npersons, st_user_attrs **attrs_out)
{
    st_user_attrs *attrs = st_malloc((npersons + 1) * sizeof *attrs);
    if (!attrs) return STRATA_ENOMEM;
    for (size_t p = 0; p < npersons; p++)
        attrs[p] = (st_user_attrs){.signup_day = STRATA_DAY_NONE, .nps = -1, .cac = -1};
    const st_user_rows *u = &ds->users;
    for (size_t i = 0; i < u->n; i++) { /* file order: later rows override */
        uint32_t p = u->key[i];
        if (p >= npersons) continue;
        const st_user_attrs *r = &u->attrs[i];
        st_user_attrs *a = &attrs[p];
        if (r->signup_day != STRATA_DAY_NONE) a->signup_day = r->signup_day;
        if (r->birth_year) a->birth_year = r->birth_year;
        if (r->nps >= 0) a->nps = r->nps;
        if (r->cac >= 0) a->cac = r->cac;
        if (r->gender) a->gender = r->gender;
        if (r->region) a->region = r->region;
        if (r->acq_channel) a->acq_channel = r->acq_channel;
        a->consent = (uint8_t)((a->consent & ~r->consent_known) | (r->consent & r->consent_known));
        a->consent_known |= r->consent_known;
    }
    *attrs_out = attrs;
    return STRATA_OK;
}
