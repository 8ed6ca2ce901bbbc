/*
 * profile.c — from partial aggregates to profile features (definitions in profile.h), and
 * the parallel build over all persons: each thread takes a contiguous range of persons and
 * reuses one partial, so the hot loop allocates nothing per person.
 */
#include "profile/profile.h"

#include <math.h>
#include <stdlib.h>

void st_profiles_init(st_profiles *ps)
{
    memset(ps, 0, sizeof *ps);
}

void st_profiles_clear(st_profiles *ps)
{
    st_free(ps->rows);
    memset(ps, 0, sizeof *ps);
}

strata_status st_profiles_reserve(st_profiles *ps, size_t n)
{
    st_profiles_clear(ps);
    ps->rows = st_malloc((n + 1) * sizeof *ps->rows);
    if (!ps->rows) return STRATA_ENOMEM;
    st_memory_sequential(ps->rows, (n + 1) * sizeof *ps->rows);
    ps->cap = n + 1;
    return STRATA_OK;
}

static void finalize_orders(st_profile *out, const st_partial *p, int32_t D)
{
    int64_t total = 0, net_90 = 0;
    int32_t refund_orders = 0, coupon_valid = 0;
    for (size_t i = 0; i < p->norders; i++) {
        const st_order_part *o = &p->orders[i];
        total += o->net;
        out->orders_all++;
        if (o->flags & (ST_ORDER_REFUNDED | ST_ORDER_CANCEL | ST_ORDER_HAS_RETURN)) refund_orders++;
        if (o->net <= 0) continue;
        out->frequency++;
        if (o->flags & ST_ORDER_COUPON) coupon_valid++;
        if (out->first_order_day == STRATA_DAY_NONE || o->first_day < out->first_order_day)
            out->first_order_day = o->first_day;
        if (out->last_order_day == STRATA_DAY_NONE || o->first_day > out->last_order_day)
            out->last_order_day = o->first_day;
        if (o->first_day >= D - 90) {
            out->orders_90++;
            net_90 += o->net;
        }
    }
    out->monetary = total > 0 ? total : 0;
    out->monetary_90 = net_90 > 0 ? net_90 : 0;
    if (out->orders_all) out->refund_rate = (double)refund_orders / out->orders_all;
    if (out->frequency) {
        out->recency_days = D - out->last_order_day;
        out->aov = out->monetary / out->frequency;
        out->coupon_rate = (double)coupon_valid / out->frequency;
        if (out->frequency >= 2)
            out->purchase_interval_days =
                (double)(out->last_order_day - out->first_order_day) / (out->frequency - 1);
    }
}

static int day_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Purchase days and the spend of the repeat days, the inputs of the BG/NBD and Gamma-Gamma
 * models: valid orders merged by day (the literature's convention), first day excluded —
 * the number of distinct days with a valid order, and the net of the valid orders after the
 * first of them. Orders come in order-id order, so distinct days are marked in a bitmap over
 * their span instead of sorted (a sort per person showed in the profile); a span too wide for
 * it takes a sort. */
#define DAY_BITMAP_WORDS 64

static strata_status finalize_purchase_days(st_profile *out, const st_partial *p)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    int64_t total = 0, first_day_net = 0; /* net of the valid orders on day lo */
    for (size_t i = 0; i < p->norders; i++) {
        const st_order_part *o = &p->orders[i];
        if (o->net <= 0) continue;
        if (o->first_day < lo) lo = o->first_day, first_day_net = 0;
        if (o->first_day == lo) first_day_net += o->net;
        hi = ST_MAX(hi, o->first_day);
        total += o->net;
    }
    if (lo > hi) return STRATA_OK;
    out->repeat_spend += total - first_day_net;
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    if (span <= DAY_BITMAP_WORDS * 64) {
        uint64_t seen[DAY_BITMAP_WORDS];
        size_t words = (size_t)((span + 63) / 64);
        memset(seen, 0, words * sizeof *seen);
        for (size_t i = 0; i < p->norders; i++) {
            if (p->orders[i].net <= 0) continue;
            uint32_t d = (uint32_t)(p->orders[i].first_day - lo);
            seen[d / 64] |= UINT64_C(1) << (d % 64);
        }
        for (size_t w = 0; w < words; w++)
            out->purchase_days += (int32_t)st_popcount64(seen[w]);
        return STRATA_OK;
    }
    int32_t *days = st_malloc(p->norders * sizeof *days);
    if (!days) return STRATA_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->norders; i++)
        if (p->orders[i].net > 0) days[n++] = p->orders[i].first_day;
    qsort(days, n, sizeof *days, day_cmp);
    for (size_t i = 0; i < n; i++)
        out->purchase_days += i == 0 || days[i] != days[i - 1];
    st_free(days);
    return STRATA_OK;
}

static void finalize_spend(st_profile *out, const st_partial *p, const st_dict *categories)
{
    int64_t best = 0;
    for (size_t i = 0; i < p->ncategories; i++) {
        const st_spend_part *c = &p->categories[i];
        if (c->net <= 0) continue;
        out->category_count++;
        bool better = c->net > best;
        if (!better && c->net == best && out->top_category && categories) {
            st_sv a = st_dict_name(categories, c->id),
                  b = st_dict_name(categories, out->top_category);
            int cmp = memcmp(a.ptr, b.ptr, ST_MIN(a.len, b.len));
            better = cmp < 0 || (cmp == 0 && a.len < b.len);
        }
        if (better) best = c->net, out->top_category = c->id;
    }
    int64_t brand_total = 0, brand_best = 0;
    for (size_t i = 0; i < p->nbrands; i++) {
        if (p->brands[i].net <= 0) continue;
        brand_total += p->brands[i].net;
        if (p->brands[i].net > brand_best) brand_best = p->brands[i].net;
    }
    if (brand_total > 0) out->top_brand_share = (double)brand_best / (double)brand_total;
}

/* Active days: days with events, and days of order rows (an order's first and last day). */
static void finalize_activity(st_profile *out, const st_partial *p, int32_t D, int32_t *first_seen)
{
    uint64_t seen30 = 0, seen90[2] = {0, 0}; /* bit k = day D-1-k */
    int32_t last = STRATA_DAY_NONE;
#define MARK(day)                                                                                  \
    do {                                                                                           \
        int32_t d_ = (day);                                                                        \
        if (d_ < D) {                                                                              \
            if (last == STRATA_DAY_NONE || d_ > last) last = d_;                                   \
            if (*first_seen == STRATA_DAY_NONE || d_ < *first_seen) *first_seen = d_;              \
            int32_t k_ = D - 1 - d_;                                                               \
            if (k_ < 90) seen90[k_ >> 6] |= 1ull << (k_ & 63);                                     \
            if (k_ < 30) seen30 |= 1ull << k_;                                                     \
        }                                                                                          \
    } while (0)
    for (size_t i = 0; i < p->norders; i++) {
        MARK(p->orders[i].first_day);
        MARK(p->orders[i].last_day);
    }
    for (size_t i = 0; i < p->ndays; i++) {
        const st_day_part *d = &p->days[i];
        if (d->day >= D) continue;
        MARK(d->day);
        out->views += d->counts[ST_EV_VIEW];
        out->searches += d->counts[ST_EV_SEARCH];
        out->carts += d->counts[ST_EV_CART];
        out->favorites += d->counts[ST_EV_FAVORITE];
        out->likes += d->counts[ST_EV_LIKE];
        out->comments += d->counts[ST_EV_COMMENT];
        out->shares += d->counts[ST_EV_SHARE];
        if (d->day >= D - 90) out->activity_90 += d->events;
    }
#undef MARK
    out->activity_90 += (uint32_t)out->orders_90;
    out->active_days_30 = (uint16_t)st_popcount64(seen30);
    out->active_days_90 = (uint16_t)(st_popcount64(seen90[0]) + st_popcount64(seen90[1]));
    out->last_active_day = last;
}

strata_status st_profile_finalize(st_profile *out, const st_partial *p, const st_user_attrs *attrs,
                                  int32_t D, const st_dict *categories)
{
    memset(out, 0, sizeof *out);
    out->first_order_day = out->last_order_day = STRATA_DAY_NONE;
    out->recency_days = ST_NONE_I32;
    out->tenure_days = ST_NONE_I32;
    out->purchase_interval_days = out->refund_rate = out->coupon_rate = NAN;
    out->top_brand_share = NAN;
    out->value_score = out->churn_prob = out->p_alive = out->exp_purchases = NAN;
    out->exp_aov = out->clv = NAN;
    out->cluster = -1;
    finalize_orders(out, p, D);
    finalize_spend(out, p, categories);
    int32_t first_seen = STRATA_DAY_NONE;
    finalize_activity(out, p, D, &first_seen);
    if (attrs && attrs->signup_day != STRATA_DAY_NONE && attrs->signup_day < D &&
        (first_seen == STRATA_DAY_NONE || attrs->signup_day < first_seen))
        first_seen = attrs->signup_day;
    if (first_seen != STRATA_DAY_NONE) out->tenure_days = D - first_seen;
    return finalize_purchase_days(out, p);
}

typedef struct build_job {
    st_profiles *ps;
    const st_dataset *ds;
    const st_grouping *orders, *events;
    const st_user_attrs *attrs;
    int32_t as_of_day, before_day;
    atomic_uint_fast64_t scored; /* counted as built: a pass of its own read 180 MB on one core */
} build_job;

static strata_status build_range(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    build_job *job = arg;
    st_partial part;
    st_partial_init(&part);
    strata_status st = STRATA_OK;
    uint64_t scored = 0;
    for (size_t p = begin; p < end && st == STRATA_OK; p++) {
        const st_grouping *og = job->orders, *eg = job->events;
        size_t ob = 0, oe = 0, eb = 0, ee = 0;
        if (og && og->offsets) ob = og->offsets[p], oe = og->offsets[p + 1];
        if (eg && eg->offsets) eb = eg->offsets[p], ee = eg->offsets[p + 1];
        st = st_partial_build(&part, &job->ds->orders, ob, oe, &job->ds->events, eb, ee,
                              job->before_day);
        if (st == STRATA_OK)
            st = st_profile_finalize(&job->ps->rows[p], &part, job->attrs ? &job->attrs[p] : NULL,
                                     job->as_of_day, &job->ds->categories);
        scored += st == STRATA_OK && job->ps->rows[p].frequency > 0;
    }
    st_partial_clear(&part);
    atomic_fetch_add(&job->scored, scored);
    return st;
}

strata_status st_profiles_build(st_profiles *ps, const st_dataset *ds, size_t npersons,
                                const st_grouping *orders, const st_grouping *events,
                                const st_user_attrs *attrs, int32_t as_of_day, int32_t before_day,
                                unsigned threads)
{
    if (ps->cap < npersons + 1) {
        strata_status st = st_profiles_reserve(ps, npersons);
        if (st != STRATA_OK) return st;
    }
    ps->n = npersons;
    ps->scored = 0;
    ps->as_of_day = as_of_day;
    build_job job = {ps, ds, orders, events, attrs, as_of_day, before_day, 0};
    /* persons seen early in the file have longer histories: chunks taken in turn keep both
     * threads busy to the end, where halves of the range finished ~0.1 s apart at 1M persons */
    strata_status st = st_parallel_chunks(threads, npersons, 4096, build_range, &job);
    if (st != STRATA_OK) {
        st_profiles_clear(ps);
        return st;
    }
    ps->scored = atomic_load(&job.scored);
    return STRATA_OK;
}
