/* test_partial.c — the mergeable partial aggregate: for random rows of one person, split at
 * random into two parts, merge(partial(A), partial(B)) == partial(A ∪ B), in either order;
 * and the profile finalized from it matches direct arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "profile/partial.h"
#include "profile/profile.h"
#include "profile/columns.h"
#include "ingest/ingest.h"
#include "models/labels.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>

#define N 200

typedef struct rows {
    st_order_rows o;
    st_event_rows e;
} rows;

static void alloc_rows(rows *r, size_t n)
{
    memset(r, 0, sizeof *r);
    r->o.rows = st_calloc(n, sizeof *r->o.rows);
    r->e.rows = st_calloc(n, sizeof *r->e.rows);
}

static void free_rows(rows *r)
{
    st_free(r->o.rows);
    st_free(r->e.rows);
}

static int cmp_order(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Rows sorted by order id as st_clean_orders leaves them; events sorted by time. */
static void fill(rows *all, rows *part[2], size_t n_part[2], unsigned seed)
{
    srand(seed);
    uint64_t spec[N][5]; /* order, day, amount, category, flags */
    for (int i = 0; i < N; i++) {
        spec[i][0] = (uint64_t)(rand() % 40) + 1;
        spec[i][1] = (uint64_t)(19000 + rand() % 400);
        spec[i][2] = (uint64_t)(int64_t)((rand() % 20000) - 3000) * 1000;
        spec[i][3] = (uint64_t)(rand() % 6);
        spec[i][4] = (uint64_t)(rand() % 8);
    }
    qsort(spec, N, sizeof spec[0], cmp_order);
    n_part[0] = n_part[1] = 0;
    for (int i = 0; i < N; i++) {
        int side = rand() % 2;
        rows *dst[2] = {all, part[side]};
        size_t idx[2] = {all->o.n++, n_part[side]++};
        for (int d = 0; d < 2; d++) {
            st_order_row *o = &dst[d]->o.rows[idx[d]];
            o->order = spec[i][0];
            o->day = (int32_t)spec[i][1];
            o->amount = (int64_t)spec[i][2];
            o->category = (uint16_t)spec[i][3];
            o->brand = (uint16_t)((spec[i][3] + 1) % 3);
            o->flags = (uint8_t)spec[i][4];
        }
    }
    part[0]->o.n = n_part[0], part[1]->o.n = n_part[1];
    int64_t ts = 19000LL * 86400;
    size_t ne[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        ts += rand() % 50000;
        int side = rand() % 2;
        rows *dst[2] = {all, part[side]};
        size_t idx[2] = {all->e.n++, ne[side]++};
        uint8_t type = (uint8_t)(rand() % ST_EV__COUNT);
        for (int d = 0; d < 2; d++) {
            dst[d]->e.rows[idx[d]].ts = ts;
            dst[d]->e.rows[idx[d]].type = type;
        }
    }
    part[0]->e.n = ne[0], part[1]->e.n = ne[1];
}

static void merge_equals_union(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 50; seed++) {
        rows all, a, b;
        alloc_rows(&all, N), alloc_rows(&a, N), alloc_rows(&b, N);
        rows *parts[2] = {&a, &b};
        size_t np[2];
        fill(&all, parts, np, seed);
        st_partial pa, pb, pall, m1, m2;
        st_partial_init(&pa), st_partial_init(&pb), st_partial_init(&pall);
        st_partial_init(&m1), st_partial_init(&m2);
        assert_int_equal(st_partial_build(&pall, &all.o, 0, all.o.n, &all.e, 0, all.e.n, STRATA_DAY_NONE), STRATA_OK);
        assert_int_equal(st_partial_build(&pa, &a.o, 0, a.o.n, &a.e, 0, a.e.n, STRATA_DAY_NONE), STRATA_OK);
        assert_int_equal(st_partial_build(&pb, &b.o, 0, b.o.n, &b.e, 0, b.e.n, STRATA_DAY_NONE), STRATA_OK);
        assert_int_equal(st_partial_merge(&m1, &pa, &pb), STRATA_OK);
        assert_int_equal(st_partial_merge(&m2, &pb, &pa), STRATA_OK);
        assert_true(st_partial_equal(&m1, &pall));
        assert_true(st_partial_equal(&m2, &pall));
        /* the finalized profiles agree too, and monetary is the floored row sum */
        st_profile x, y;
        assert_int_equal(st_profile_finalize(&x, &pall, NULL, 19500, NULL), STRATA_OK);
        assert_int_equal(st_profile_finalize(&y, &m1, NULL, 19500, NULL), STRATA_OK);
        assert_memory_equal(&x, &y, sizeof x);
        int64_t sum = 0;
        for (size_t i = 0; i < all.o.n; i++) sum += all.o.rows[i].amount;
        assert_true(x.monetary == (sum > 0 ? sum : 0));
        st_partial_clear(&pa), st_partial_clear(&pb), st_partial_clear(&pall);
        st_partial_clear(&m1), st_partial_clear(&m2);
        free_rows(&all), free_rows(&a), free_rows(&b);
    }
}

/* Per-category and per-brand spend against sums computed here, over ids on both sides of the
 * dense range (below 256: summed in an array; 256 and up: the sorted insert) and "no value"
 * (id 0, never listed); the same partial built twice in a row must come out the same (the
 * dense sums are zero again between builds). */
static void spend_lists_by_id(void **state)
{
    (void)state;
    static const uint16_t ids[] = {0, 1, 3, 63, 64, 70, 200, 255, 256, 257, 300, 1000, 65533};
    enum { NIDS = sizeof ids / sizeof ids[0], ROWS = 400 };
    rows r;
    alloc_rows(&r, ROWS);
    srand(7);
    int64_t want_cat[NIDS] = {0}, want_brand[NIDS] = {0};
    bool seen_cat[NIDS] = {false}, seen_brand[NIDS] = {false};
    for (size_t i = 0; i < ROWS; i++) {
        st_order_row *o = &r.o.rows[i];
        size_t c = (size_t)rand() % NIDS, b = (size_t)rand() % NIDS;
        o->order = i / 2 + 1; /* two rows an order, in order id order */
        o->day = 19000 + (int)(i % 50);
        o->amount = (int64_t)(rand() % 20000 - 2000) * 1000;
        o->category = ids[c], o->brand = ids[b];
        want_cat[c] += o->amount, seen_cat[c] = true;
        want_brand[b] += o->amount, seen_brand[b] = true;
    }
    r.o.n = ROWS;
    st_partial p;
    st_partial_init(&p);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(st_partial_build(&p, &r.o, 0, ROWS, &r.e, 0, 0, STRATA_DAY_NONE),
                         STRATA_OK);
        size_t nc = 0, nb = 0;
        for (size_t k = 1; k < NIDS; k++) { /* ids[0] is ST_DICT_NONE */
            if (seen_cat[k]) {
                assert_true(nc < p.ncategories);
                assert_int_equal(p.categories[nc].id, ids[k]);
                assert_int_equal(p.categories[nc].net, want_cat[k]);
                nc++;
            }
            if (seen_brand[k]) {
                assert_true(nb < p.nbrands);
                assert_int_equal(p.brands[nb].id, ids[k]);
                assert_int_equal(p.brands[nb].net, want_brand[k]);
                nb++;
            }
        }
        assert_int_equal(p.ncategories, nc);
        assert_int_equal(p.nbrands, nb);
    }
    /* a person with a single dense id after that: nothing left over from the last one */
    r.o.rows[0].category = 5, r.o.rows[0].brand = 0;
    assert_int_equal(st_partial_build(&p, &r.o, 0, 1, &r.e, 0, 0, STRATA_DAY_NONE), STRATA_OK);
    assert_int_equal(p.ncategories, 1);
    assert_int_equal(p.categories[0].id, 5);
    assert_int_equal(p.categories[0].net, r.o.rows[0].amount);
    assert_int_equal(p.nbrands, 0);
    st_partial_clear(&p);
    free_rows(&r);
}

/* Rows on or after the cutoff never reach the partial. */
static void cutoff_excludes_later_rows(void **state)
{
    (void)state;
    rows all, a, b;
    alloc_rows(&all, N), alloc_rows(&a, N), alloc_rows(&b, N);
    rows *parts[2] = {&a, &b};
    size_t np[2];
    fill(&all, parts, np, 99);
    st_partial p1, p2;
    st_partial_init(&p1), st_partial_init(&p2);
    assert_int_equal(st_partial_build(&p1, &all.o, 0, all.o.n, &all.e, 0, all.e.n, 19200), STRATA_OK);
    /* change every later row: the partial must not move */
    for (size_t i = 0; i < all.o.n; i++)
        if (all.o.rows[i].day >= 19200) all.o.rows[i].amount += 777000, all.o.rows[i].flags ^= 7;
    for (size_t i = 0; i < all.e.n; i++)
        if (all.e.rows[i].ts >= 19200LL * 86400) all.e.rows[i].type = 0;
    assert_int_equal(st_partial_build(&p2, &all.o, 0, all.o.n, &all.e, 0, all.e.n, 19200), STRATA_OK);
    assert_true(st_partial_equal(&p1, &p2));
    for (size_t i = 0; i < p1.norders; i++) assert_true(p1.orders[i].last_day < 19200);
    st_partial_clear(&p1), st_partial_clear(&p2);
    free_rows(&all), free_rows(&a), free_rows(&b);
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* profiles.csv rows from st_profile_csv_row must be the bytes of the generic path
 * (st_profile_column_value, st_value_format, CSV quoting) for profiles with every kind of
 * value: empty, NaN, negative, huge (printf's path), dates, labels, ids needing quotes. */
static void csv_row_matches_columns(void **state)
{
    (void)state;
    enum { P = 3000 };
    st_intern keys;
    st_intern_init(&keys);
    st_dict cats;
    st_dict_init(&cats);
    static const char *const cat_names[] = {"food", "a,b", "say \"hi\"", "multi\nline"};
    for (size_t i = 0; i < 4; i++)
        assert_int_not_equal(st_dict_put(&cats, st_sv_cstr(cat_names[i])), UINT16_MAX);
    st_profiles ps;
    st_profiles_init(&ps);
    ps.rows = st_calloc(P, sizeof *ps.rows);
    ps.n = P;
    uint32_t *canon = st_malloc(P * sizeof *canon);
    assert_non_null(ps.rows), assert_non_null(canon);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static const double reals[] = {NAN, 0, -0.0, 0.5, -1.23456, 1e9, 3.5e12, -2e15, 1e-7, 12.345678};
    for (size_t p = 0; p < P; p++) {
        char id[32];
        int len = snprintf(id, sizeof id, next_rand(&x) % 9 == 0 ? "u\"%zu,x" : "u%zu", p);
        canon[p] = st_intern_put(&keys, id, (size_t)len, st_hash64(id, (size_t)len), NULL);
        st_profile *r = &ps.rows[p];
        r->frequency = (int32_t)(next_rand(&x) % 4);
        r->monetary = (int64_t)(next_rand(&x) % 100000000000ull) - (next_rand(&x) % 3 == 0 ? 50000000000 : 0);
        r->aov = (int64_t)(next_rand(&x) % 1000000000);
        r->first_order_day = next_rand(&x) % 5 == 0 ? STRATA_DAY_NONE : (int32_t)(next_rand(&x) % 40000) - 20000;
        r->last_order_day = r->first_order_day;
        r->recency_days = (int32_t)(next_rand(&x) % 900);
        r->tenure_days = next_rand(&x) % 4 == 0 ? ST_NONE_I32 : (int32_t)(next_rand(&x) % 900);
        r->purchase_interval_days = reals[next_rand(&x) % 10];
        r->refund_rate = reals[next_rand(&x) % 10], r->coupon_rate = reals[next_rand(&x) % 10];
        r->top_category = (uint16_t)(next_rand(&x) % 5);
        r->category_count = (uint16_t)(next_rand(&x) % 7);
        r->views = (uint32_t)next_rand(&x), r->shares = (uint32_t)(next_rand(&x) % 3);
        r->last_active_day = next_rand(&x) % 3 == 0 ? STRATA_DAY_NONE : (int32_t)(next_rand(&x) % 30000);
        r->r_score = (uint8_t)(next_rand(&x) % 6), r->f_score = (uint8_t)(1 + next_rand(&x) % 5);
        r->m_score = (uint8_t)(1 + next_rand(&x) % 5);
        r->value_score = reals[next_rand(&x) % 10];
        r->churn_prob = reals[next_rand(&x) % 10], r->p_alive = reals[next_rand(&x) % 10];
        r->exp_purchases = reals[next_rand(&x) % 10], r->exp_aov = reals[next_rand(&x) % 10];
        r->clv = reals[next_rand(&x) % 10];
        r->cluster = (int32_t)(next_rand(&x) % 5) - 1;
        r->rfm_segment = (uint8_t)(next_rand(&x) % 5), r->tier = (uint8_t)(next_rand(&x) % 6);
        r->lifecycle = (uint8_t)(next_rand(&x) % 3), r->churn_risk = (uint8_t)(next_rand(&x) % 4);
    }
    /* rows written with the date texts of all days, of some of them (the rest formatted one
     * by one), and of none */
    st_day_texts all_days, some_days;
    /* without an as-of day: the span of the profiles' dates (-20000 .. 29999), cut to its
     * first 16,384 days; with one: the 16,384 days before it */
    ps.as_of_day = STRATA_DAY_NONE;
    assert_int_equal(st_day_texts_build(&all_days, &ps), STRATA_OK);
    assert_int_equal(all_days.n, 16384);
    assert_true(all_days.first >= -20000 && all_days.first < -19900);
    st_day_texts_clear(&all_days);
    ps.as_of_day = 30000;
    assert_int_equal(st_day_texts_build(&all_days, &ps), STRATA_OK);
    assert_int_equal(all_days.n, 16384);
    assert_int_equal(all_days.first, 30000 - 16384);
    some_days = all_days;
    some_days.first += 15000, some_days.n = 1000, some_days.text += 15000;
    const st_day_texts *tables[] = {&all_days, &some_days, NULL};
    st_buf fast, slow;
    st_buf_init(&fast, 0), st_buf_init(&slow, 0);
    for (size_t t = 0; t < ST_ARRAY_LEN(tables); t++) {
        st_profile_view view = {&ps, &keys, canon, &cats, tables[t]};
        st_buf_reset(&fast), st_buf_reset(&slow);
        for (size_t p = 0; p < P; p++) {
            assert_int_equal(st_profile_csv_row(&fast, &view, p), STRATA_OK);
            for (size_t c = 0; c < st_profile_column_count(); c++) {
                st_value v;
                if (c) assert_int_equal(st_buf_putc(&slow, ','), STRATA_OK);
                st_profile_column_value(&view, p, c, &v);
                assert_int_equal(v.type == ST_V_TEXT ? st_buf_csv_field(&slow, v.s.ptr, v.s.len)
                                                     : st_value_format(&slow, &v),
                                 STRATA_OK);
            }
            assert_int_equal(st_buf_putc(&slow, '\n'), STRATA_OK);
        }
        assert_int_equal(fast.len, slow.len);
        assert_memory_equal(fast.data, slow.data, slow.len);
        assert_non_null(strstr(slow.data, "\"a,b\""));       /* the quoting path was taken */
        assert_non_null(strstr(slow.data, "3500000000000")); /* and printf's */
    }
    st_day_texts_clear(&all_days);
    st_buf_clear(&fast), st_buf_clear(&slow);
    st_free(canon);
    st_profiles_clear(&ps);
    st_dict_clear(&cats);
    st_intern_clear(&keys);
}

/* Purchase days (distinct days with a valid order) and repeat spend (net of valid orders
 * after the first such day) against a count by hand: few and many orders, days spread over
 * a few weeks and over decades (past the bitmap's span), non-positive orders left out. */
static void purchase_days_by_hand(void **state)
{
    (void)state;
    uint64_t x = 0x853c49e6748fea9bull;
    st_partial p;
    st_partial_init(&p);
    for (int round = 0; round < 300; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (size_t)(x % 3 == 0 ? x % 400 : x % 12);
        int32_t spread = (int32_t)(round % 3 == 0 ? 20000 : round % 3 == 1 ? 4096 : 30);
        st_partial_reset(&p);
        p.orders = st_realloc(p.orders, (n + 1) * sizeof *p.orders);
        assert_non_null(p.orders);
        p.cap_orders = n + 1;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            p.orders[i] = (st_order_part){i, 19000 + (int32_t)(x % (uint64_t)spread),
                                          0, (int64_t)(x >> 40) % 5000000 - 1000000,
                                          1, 0};
        }
        p.norders = n;
        st_profile out;
        assert_int_equal(st_profile_finalize(&out, &p, NULL, 60000, NULL), STRATA_OK);
        int32_t first = INT32_MAX, days = 0;
        int64_t repeat = 0;
        for (size_t i = 0; i < n; i++)
            if (p.orders[i].net > 0) first = ST_MIN(first, p.orders[i].first_day);
        for (size_t i = 0; i < n; i++) {
            if (p.orders[i].net <= 0) continue;
            bool seen = false;
            for (size_t k = 0; k < i; k++)
                seen |= p.orders[k].net > 0 && p.orders[k].first_day == p.orders[i].first_day;
            days += !seen;
            if (p.orders[i].first_day != first) repeat += p.orders[i].net;
        }
        assert_int_equal(out.purchase_days, days);
        assert_int_equal(out.repeat_spend, repeat);
    }
    st_partial_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_equals_union),
        cmocka_unit_test(spend_lists_by_id),
        cmocka_unit_test(cutoff_excludes_later_rows),
        cmocka_unit_test(csv_row_matches_columns),
        cmocka_unit_test(purchase_days_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
