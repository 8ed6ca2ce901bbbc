/*
 * partial.c — building, merging and comparing per-person partial aggregates.
 */
#include "profile/partial.h"

void st_partial_init(st_partial *p)
{
    memset(p, 0, sizeof *p);
}

void st_partial_clear(st_partial *p)
{
    st_free(p->orders);
    st_free(p->categories);
    st_free(p->brands);
    st_free(p->days);
    st_free(p->spend_scratch);
    memset(p, 0, sizeof *p);
}

void st_partial_reset(st_partial *p)
{
    p->norders = p->ncategories = p->nbrands = p->ndays = 0;
}

/* Add net spend to id in a list kept sorted by id: for ids from SPEND_DENSE up (below). A
 * linear scan and an inline shift for short lists, bisection and memmove beyond. */
static strata_status add_spend(st_spend_part **list, size_t *n, size_t *cap, uint16_t id,
                               int64_t net)
{
    size_t lo = 0, hi = *n;
    if (hi <= 16) { /* counted without an early exit: where the scan stopped was a mispredict */
        for (size_t i = 0; i < hi; i++)
            lo += (*list)[i].id < id;
    } else {
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if ((*list)[mid].id < id) lo = mid + 1;
            else hi = mid;
        }
    }
    if (lo < *n && (*list)[lo].id == id) {
        (*list)[lo].net += net;
        return STRATA_OK;
    }
    if (!ST_GROW(*list, *cap, *n + 1)) return STRATA_ENOMEM;
    st_spend_part *l = *list;
    if (*n <= 16)
        for (size_t i = *n; i > lo; i--)
            l[i] = l[i - 1];
    else
        memmove(l + lo + 1, l + lo, (*n - lo) * sizeof *l);
    l[lo] = (st_spend_part){id, net};
    (*n)++;
    return STRATA_OK;
}

/* Ids below SPEND_DENSE are summed in a dense array while a person's rows are read, their
 * presence kept as bits: no search and no data-dependent branch per row (the sorted insert's
 * found / not-found branch mispredicted on most rows). Bits come out in id order, so the list
 * needs no sort; ids from SPEND_DENSE up (rare: large dictionaries) take the sorted insert. */
#define SPEND_DENSE 256

typedef struct dense_spend {
    int64_t *sum; /* SPEND_DENSE entries, zero outside a build */
    uint64_t present[SPEND_DENSE / 64];
} dense_spend;

/* The dense ids in front of the list's (all larger), in id order; the sums zeroed again. */
static strata_status dense_flush(dense_spend *d, st_spend_part **list, size_t *n, size_t *cap)
{
    size_t k = 0;
    for (int w = 0; w < SPEND_DENSE / 64; w++)
        k += (size_t)st_popcount64(d->present[w]);
    if (k == 0) return STRATA_OK;
    strata_status st = ST_GROW(*list, *cap, *n + k) ? STRATA_OK : STRATA_ENOMEM;
    if (st == STRATA_OK && *n) memmove(*list + k, *list, *n * sizeof **list);
    size_t at = 0;
    for (int w = 0; w < SPEND_DENSE / 64; w++)
        for (uint64_t bits = d->present[w]; bits; bits &= bits - 1) {
            unsigned id = (unsigned)(64 * w + __builtin_ctzll(bits));
            if (st == STRATA_OK) (*list)[at++] = (st_spend_part){(uint16_t)id, d->sum[id]};
            d->sum[id] = 0;
        }
    if (st == STRATA_OK) *n += k;
    return st;
}

strata_status st_partial_build(st_partial *p, const st_order_rows *o, size_t o_begin,
                               size_t o_end, const st_event_rows *e, size_t e_begin,
                               size_t e_end, int32_t before_day)
{
    st_partial_reset(p);
    if (!p->spend_scratch && o_end > o_begin) {
        p->spend_scratch = st_calloc(2 * SPEND_DENSE, sizeof *p->spend_scratch);
        if (!p->spend_scratch) return STRATA_ENOMEM;
    }
    dense_spend cats = {p->spend_scratch, {0}};
    dense_spend brands = {p->spend_scratch ? p->spend_scratch + SPEND_DENSE : NULL, {0}};
    strata_status st = STRATA_OK;
    int32_t limit = before_day == STRATA_DAY_NONE ? INT32_MAX : before_day;
    for (size_t k = o_begin; k < o_end; k++) {
        const st_order_row *r = &o->rows[k];
        int32_t day = r->day;
        if (day >= limit) continue;
        int64_t amount = r->amount;
        uint8_t flags = (uint8_t)(r->flags | (amount < 0 ? ST_ORDER_HAS_RETURN : 0));
        st_order_part *last = p->norders ? &p->orders[p->norders - 1] : NULL;
        if (last && last->order == r->order) {
            if (day < last->first_day) last->first_day = day;
            if (day > last->last_day) last->last_day = day;
            last->net += amount;
            last->rows++;
            last->flags |= flags;
        } else {
            if (!ST_GROW(p->orders, p->cap_orders, p->norders + 1)) {
                st = STRATA_ENOMEM;
                break;
            }
            p->orders[p->norders++] = (st_order_part){r->order, day, day, amount, 1, flags};
        }
        if (r->category < SPEND_DENSE) {
            cats.sum[r->category] += amount;
            cats.present[r->category >> 6] |= (uint64_t)1 << (r->category & 63);
        } else if ((st = add_spend(&p->categories, &p->ncategories, &p->cap_categories,
                                   r->category, amount)) != STRATA_OK) {
            break;
        }
        if (r->brand < SPEND_DENSE) {
            brands.sum[r->brand] += amount;
            brands.present[r->brand >> 6] |= (uint64_t)1 << (r->brand & 63);
        } else if ((st = add_spend(&p->brands, &p->nbrands, &p->cap_brands, r->brand, amount)) !=
                   STRATA_OK) {
            break;
        }
    }
    /* ST_DICT_NONE (0) is "no value": never listed */
    cats.present[0] &= ~(uint64_t)1, brands.present[0] &= ~(uint64_t)1;
    if (p->spend_scratch) {
        cats.sum[0] = brands.sum[0] = 0;
        /* run even after an error: the sums must be zero for the next build */
        strata_status a = dense_flush(&cats, &p->categories, &p->ncategories, &p->cap_categories);
        strata_status b = dense_flush(&brands, &p->brands, &p->nbrands, &p->cap_brands);
        if (st == STRATA_OK) st = a != STRATA_OK ? a : b;
    }
    if (st != STRATA_OK) return st;
    for (size_t k = e_begin; k < e_end; k++) {
        const st_event_row *r = &e->rows[k];
        int32_t day = st_local_day(r->ts);
        if (day >= limit) continue;
        st_day_part *last = p->ndays ? &p->days[p->ndays - 1] : NULL;
        if (!last || last->day != day) {
            if (!ST_GROW(p->days, p->cap_days, p->ndays + 1)) return STRATA_ENOMEM;
            last = &p->days[p->ndays++];
            memset(last, 0, sizeof *last);
            last->day = day;
        }
        last->events++;
        if (r->type < ST_COUNTED_EVENTS) last->counts[r->type]++;
    }
    return STRATA_OK;
}

static strata_status merge_orders(st_partial *out, const st_partial *a, const st_partial *b)
{
    size_t i = 0, j = 0;
    while (i < a->norders || j < b->norders) {
        if (!ST_GROW(out->orders, out->cap_orders, out->norders + 1)) return STRATA_ENOMEM;
        st_order_part *dst = &out->orders[out->norders++];
        if (j == b->norders || (i < a->norders && a->orders[i].order < b->orders[j].order)) {
            *dst = a->orders[i++];
        } else if (i == a->norders || b->orders[j].order < a->orders[i].order) {
            *dst = b->orders[j++];
        } else {
            const st_order_part *x = &a->orders[i++], *y = &b->orders[j++];
            *dst = *x;
            dst->first_day = ST_MIN(x->first_day, y->first_day);
            dst->last_day = ST_MAX(x->last_day, y->last_day);
            dst->net = x->net + y->net;
            dst->rows = x->rows + y->rows;
            dst->flags = x->flags | y->flags;
        }
    }
    return STRATA_OK;
}

static strata_status merge_spend(st_spend_part **out, size_t *n, size_t *cap,
                                 const st_spend_part *a, size_t na, const st_spend_part *b,
                                 size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (!ST_GROW(*out, *cap, *n + 1)) return STRATA_ENOMEM;
        st_spend_part *dst = &(*out)[(*n)++];
        if (j == nb || (i < na && a[i].id < b[j].id)) *dst = a[i++];
        else if (i == na || b[j].id < a[i].id) *dst = b[j++];
        else *dst = (st_spend_part){a[i].id, a[i].net + b[j].net}, i++, j++;
    }
    return STRATA_OK;
}

static strata_status merge_days(st_partial *out, const st_partial *a, const st_partial *b)
{
    size_t i = 0, j = 0;
    while (i < a->ndays || j < b->ndays) {
        if (!ST_GROW(out->days, out->cap_days, out->ndays + 1)) return STRATA_ENOMEM;
        st_day_part *dst = &out->days[out->ndays++];
        if (j == b->ndays || (i < a->ndays && a->days[i].day < b->days[j].day)) {
            *dst = a->days[i++];
        } else if (i == a->ndays || b->days[j].day < a->days[i].day) {
            *dst = b->days[j++];
        } else {
            *dst = a->days[i];
            dst->events += b->days[j].events;
            for (int k = 0; k < ST_COUNTED_EVENTS; k++) dst->counts[k] += b->days[j].counts[k];
            i++, j++;
        }
    }
    return STRATA_OK;
}

strata_status st_partial_merge(st_partial *out, const st_partial *a, const st_partial *b)
{
    st_partial_reset(out);
    strata_status st = merge_orders(out, a, b);
    if (st == STRATA_OK)
        st = merge_spend(&out->categories, &out->ncategories, &out->cap_categories, a->categories,
                         a->ncategories, b->categories, b->ncategories);
    if (st == STRATA_OK)
        st = merge_spend(&out->brands, &out->nbrands, &out->cap_brands, a->brands, a->nbrands,
                         b->brands, b->nbrands);
    if (st == STRATA_OK) st = merge_days(out, a, b);
    return st;
}

bool st_partial_equal(const st_partial *a, const st_partial *b)
{
    if (a->norders != b->norders || a->ncategories != b->ncategories ||
        a->nbrands != b->nbrands || a->ndays != b->ndays)
        return false;
    for (size_t i = 0; i < a->norders; i++) {
        const st_order_part *x = &a->orders[i], *y = &b->orders[i];
        if (x->order != y->order || x->first_day != y->first_day || x->last_day != y->last_day ||
            x->net != y->net || x->rows != y->rows || x->flags != y->flags)
            return false;
    }
    for (size_t i = 0; i < a->ncategories; i++)
        if (a->categories[i].id != b->categories[i].id || a->categories[i].net != b->categories[i].net)
            return false;
    for (size_t i = 0; i < a->nbrands; i++)
        if (a->brands[i].id != b->brands[i].id || a->brands[i].net != b->brands[i].net) return false;
    for (size_t i = 0; i < a->ndays; i++)
        if (memcmp(&a->days[i], &b->days[i], sizeof a->days[i]) != 0) return false;
    return true;
}
