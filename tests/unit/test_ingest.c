/* test_ingest.c — loading and cleaning: column mapping, amount from quantity × price,
 * cancellation prefix, refund status, id normalization, rejects with line and column,
 * JSON Lines equal to CSV, duplicates, as-of exclusion and the outlier policies. */
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "identity/identity.h"
#include "ingest/clean.h"
#include "ingest/ingest.h"
#include "profile/profile.h"
#include <math.h>
#include <stdlib.h>

typedef struct fx {
    strata_ctx *ctx;
    st_dataset ds;
} fx;

static int setup(void **state)
{
    fx *f = st_calloc(1, sizeof *f);
    assert_int_equal(strata_ctx_create(&f->ctx), STRATA_OK);
    strata_set_threads(f->ctx, 2);
    st_dataset_init(&f->ds);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    st_tz_free(f->ds.tz);
    st_dataset_clear(&f->ds);
    strata_ctx_free(f->ctx);
    st_free(f);
    return 0;
}

static strata_status load(fx *f, st_input_kind kind, const char *name, const char *text)
{
    return st_dataset_load_buffer(f->ctx, &f->ds, kind, name, text, strlen(text));
}

/* Persons for the orders loaded into the fixture (no links), then the orders cleaned with
 * *as_of (STRATA_DAY_NONE: the default); the caller clears id and g. */
static void resolve_and_clean(fx *f, st_identity *id, int32_t *as_of, st_grouping *g,
                              st_outlier_report *rep)
{
    st_identity_init(id);
    assert_int_equal(st_identity_resolve(&f->ds, 0, id), STRATA_OK);
    st_identity_apply(id, &f->ds, 2);
    assert_int_equal(st_clean_orders(f->ctx, &f->ds, id->npersons, as_of, g, rep), STRATA_OK);
}

/* Load orders made of a header and lines; every line must become a row. */
static void load_order_lines(fx *f, const char *name, const char *header,
                             const char *const *lines, size_t n)
{
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, header), STRATA_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(st_buf_printf(&csv, "%s\n", lines[i]), STRATA_OK);
    assert_int_equal(load(f, ST_IN_ORDERS, name, csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.orders.n, n);
}

/* An empty dataset in the fixture, keeping its time zone (the fixture frees it). */
static void reset_dataset(fx *f)
{
    st_tz *tz = f->ds.tz;
    st_dataset_clear(&f->ds);
    st_dataset_init(&f->ds);
    f->ds.tz = tz;
}

static uint32_t key_of(const st_dataset *ds, const char *id)
{
    return st_intern_find(&ds->keys, id, strlen(id), st_hash64(id, strlen(id)));
}

static const char retail[] = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
                             "536365,A,6,2010-12-01 08:26:00,2.55,17850.0\n"
                             "C536379,D,-1,2010-12-01 09:41:00,27.50,14527.0\n"
                             "C536380,D,2,2010-12-01 09:45:00,1.25,14527.0\n"
                             "536381,B,3,2010-12-01 09:50:00,0.333,\n"
                             "536382,B,x,2010-12-01 09:50:00,1,12345.0\n"
                             "536383,B,1,2010-12-01 09:50,1\n";

/* Every field of an order row as stored: the day (negative before 1970, and at both ends of
 * the years dates may take), the flags, category and brand share the row's last 8 bytes and
 * are written as one word (orders.c store_tail), so each is checked exactly. */
static void order_row_fields_exact(void **state)
{
    fx *f = *state;
    static const char *const lines[] = {
        "o1,u1,1969-12-31 12:00:00,5,food,Acme,1,paid",
        "o2,u2,2024-01-01 12:00:00,7,beauty,Zed,0,refunded",
        "o3,u3,1000-01-01 12:00:00,9,,,0,paid",
        "o4,u4,9999-12-31 12:00:00,-2,food,Zed,1,refunded",
    };
    load_order_lines(f, "fields.csv",
                     "order_id,user_id,order_ts,amount,category,brand,coupon_used,status\n", lines,
                     ST_ARRAY_LEN(lines));
    const st_order_row *r = f->ds.orders.rows;
    static const int32_t days[] = {-1, 19723, -354285, 2932896};
    static const unsigned flags[] = {ST_ORDER_COUPON, ST_ORDER_REFUNDED, 0,
                                     ST_ORDER_COUPON | ST_ORDER_REFUNDED};
    static const char *const cats[] = {"food", "beauty", "", "food"};
    static const char *const brands[] = {"Acme", "Zed", "", "Zed"};
    static const int64_t amounts[] = {5000000, 0, 9000000, 0};
    for (size_t i = 0; i < ST_ARRAY_LEN(lines); i++) {
        assert_int_equal(r[i].day, days[i]);
        assert_int_equal(r[i].flags, flags[i]);
        assert_int_equal(r[i].amount, amounts[i]);
        assert_int_equal(r[i].line, i + 2);
        assert_int_equal(r[i].key, key_of(&f->ds, (const char[]){'u', (char)('1' + i), 0}));
        st_sv c = st_dict_name(&f->ds.categories, r[i].category);
        st_sv b = st_dict_name(&f->ds.brands, r[i].brand);
        assert_int_equal(c.len, strlen(cats[i]));
        assert_memory_equal(c.ptr, cats[i], c.len);
        assert_int_equal(b.len, strlen(brands[i]));
        assert_memory_equal(b.ptr, brands[i], b.len);
    }
}

static void retail_mapping(void **state)
{
    fx *f = *state;
    assert_int_equal(strata_config_set(f->ctx, "orders.columns.order_id", "InvoiceNo"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "orders.columns.user_id", "CustomerID"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "orders.columns.order_ts", "InvoiceDate"),
                     STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "orders.columns.quantity", "Quantity"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "orders.columns.unit_price", "UnitPrice"),
                     STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "orders.cancel_prefix", "C"), STRATA_OK);
    assert_int_equal(load(f, ST_IN_ORDERS, "retail.csv", retail), STRATA_OK);
    const st_order_rows *o = &f->ds.orders;
    assert_int_equal(o->n, 3);
    assert_int_not_equal(key_of(&f->ds, "17850"), ST_INTERN_NONE); /* 17850.0 → 17850 */
    assert_int_equal(o->rows[0].amount, 15300000);                 /* 6 × 2.55 */
    assert_int_equal(o->rows[1].amount, -27500000);                /* already negative */
    assert_int_equal(o->rows[2].amount, -2500000);                 /* C-prefix, sign fixed */
    assert_true(o->rows[1].flags & ST_ORDER_CANCEL);
    const st_quality *q = &f->ds.quality[ST_IN_ORDERS];
    assert_int_equal(q->rows_read, 6);
    assert_int_equal(q->reasons[ST_REASON_MISSING_USER_ID], 1);
    assert_int_equal(q->reasons[ST_REASON_BAD_QUANTITY], 1);
    assert_int_equal(q->reasons[ST_REASON_FIELD_COUNT], 1);
    assert_int_equal(q->reasons[ST_REASON_CANCEL_SIGN], 1);
    assert_int_equal(q->reasons[ST_REASON_ID_NORMALIZED],
                     3); /* the rejected row never got that far */
    /* rejects carry line and column */
    bool seen = false;
    for (size_t i = 0; i < f->ds.nrejects; i++) {
        const st_reject *r = &f->ds.rejects[i];
        if (r->reason == ST_REASON_BAD_QUANTITY) {
            assert_int_equal(r->line, 6);
            assert_int_equal(r->field, 3);
            assert_string_equal(r->raw, "536382,B,x,2010-12-01 09:50:00,1,12345.0");
            seen = true;
        }
    }
    assert_true(seen);
}

static void missing_column_is_config_error(void **state)
{
    fx *f = *state;
    strata_status st = load(f, ST_IN_ORDERS, "o.csv", "id,when,amount\n1,2024-01-01,5\n");
    assert_int_equal(st, STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(f->ctx), "o.csv:1: no column 'user_id'"));
    assert_non_null(strstr(strata_errmsg(f->ctx), "the columns are: id, when, amount"));
}

static void jsonl_equals_csv(void **state)
{
    fx *f = *state;
    const char *csv = "order_id,user_id,order_ts,amount,status\n"
                      "o1,u1,2024-01-01,10.5,paid\n"
                      "o2,u2,2024-01-02 10:00:00,-3,paid\n"
                      "o3,u1,2024-01-03,7,refunded\n";
    const char *jsonl = "{\"order_id\":\"o1\",\"user_id\":\"u1\",\"order_ts\":\"2024-01-01\","
                        "\"amount\":10.5,\"status\":\"paid\"}\n"
                        "{\"user_id\":\"u2\",\"order_id\":\"o2\",\"amount\":-3,\"order_ts\":\"2024-"
                        "01-02 10:00:00\"}\n"
                        "{\"order_id\":\"o3\",\"user_id\":\"u1\",\"order_ts\":\"2024-01-03\","
                        "\"amount\":7,\"status\":\"refunded\"}\n";
    assert_int_equal(load(f, ST_IN_ORDERS, "a.csv", csv), STRATA_OK);
    st_dataset other;
    st_dataset_init(&other);
    other.tz = NULL;
    assert_int_equal(
        st_dataset_load_buffer(f->ctx, &other, ST_IN_ORDERS, "a.jsonl", jsonl, strlen(jsonl)),
        STRATA_OK);
    assert_int_equal(f->ds.orders.n, 3);
    assert_int_equal(other.orders.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f->ds.orders.rows[i].amount, other.orders.rows[i].amount);
        assert_int_equal(f->ds.orders.rows[i].day, other.orders.rows[i].day);
        assert_int_equal(f->ds.orders.rows[i].order, other.orders.rows[i].order);
        assert_int_equal(f->ds.orders.rows[i].flags, other.orders.rows[i].flags);
    }
    assert_int_equal(f->ds.orders.rows[2].amount, 0); /* refunded contributes nothing */
    assert_true(f->ds.orders.rows[2].flags & ST_ORDER_REFUNDED);
    st_tz_free(other.tz);
    st_dataset_clear(&other);
}

/* Duplicates (equal parsed values, even when written differently), the as-of date and
 * the outlier policies, through identity and cleaning. */
static void cleaning(void **state)
{
    fx *f = *state;
    const char *csv = "order_id,user_id,order_ts,amount,unit_price\n"
                      "o1,a,2024-01-01,10,5\n"
                      "o1,a,2024-01-01 00:00:00,10.00,5.0\n" /* same parsed values: duplicate */
                      "o1,a,2024-01-01,10.01,5\n"            /* different amount: kept */
                      "o2,b,2024-01-05,20,\n"
                      "o3,b,2024-02-01,1000000,\n" /* absurd */
                      "o4,c,2024-03-01,30,\n";     /* after the as-of date */
    assert_int_equal(strata_config_set(f->ctx, "clean.outliers", "reject"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "clean.reject_above", "50000"), STRATA_OK);
    assert_int_equal(load(f, ST_IN_ORDERS, "c.csv", csv), STRATA_OK);
    st_identity id;
    int32_t as_of;
    assert_int_equal(strata_day_parse("2024-03-01", &as_of), STRATA_OK);
    st_grouping g;
    st_outlier_report rep;
    resolve_and_clean(f, &id, &as_of, &g, &rep);
    const uint32_t *offsets = g.offsets;
    const st_quality *q = &f->ds.quality[ST_IN_ORDERS];
    assert_int_equal(q->reasons[ST_REASON_DUPLICATE], 1);
    assert_int_equal(q->reasons[ST_REASON_AFTER_AS_OF], 1);
    assert_int_equal(q->reasons[ST_REASON_AMOUNT_OUTLIER], 1);
    assert_int_equal(g.n, 3);
    assert_int_equal(offsets[0], 0);
    assert_int_equal(offsets[1], 2); /* a: two rows */
    assert_int_equal(offsets[2], 3); /* b: one row */
    assert_int_equal(offsets[3], 3); /* c: none before the as-of date */
    /* rows are now grouped by person: a's kept rows are lines 2 and 4 (line 3 duplicates 2) */
    uint32_t l0 = f->ds.orders.rows[0].line, l1 = f->ds.orders.rows[1].line;
    assert_int_equal(l0 + l1, 6);
    assert_true(l0 == 2 || l0 == 4);
    st_grouping_clear(&g);
    st_identity_clear(&id);
}

/* Persons with thousands of rows (past the insertion sort inside the person sort): rows end
 * up ordered by (order, fingerprint) within each person, and exactly the repeated lines are
 * dropped as duplicates, the earliest copy kept. */
static void many_rows_per_person(void **state)
{
    fx *f = *state;
    enum { N = 9000 };
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount\n"), STRATA_OK);
    char (*text)[64] = st_malloc(N * sizeof *text);
    bool *first = st_malloc(N * sizeof *first);
    assert_non_null(text), assert_non_null(first);
    size_t dups = 0;
    uint64_t x = 2463534242ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (i >= 5 && x % 6 == 0)
            memcpy(text[i], text[i - 1 - (int)(x % 5)], sizeof text[i]); /* an exact copy */
        else
            snprintf(text[i], sizeof text[i], "o%u,u%u,2024-01-%02u,%u.%02u\n",
                     (unsigned)(x >> 8) % 700, (unsigned)(x >> 20) % 3,
                     1 + (unsigned)(x >> 30) % 28, (unsigned)(x >> 40) % 90,
                     (unsigned)(x >> 50) % 100);
        first[i] = true;
        for (int k = 0; k < i && first[i]; k++)
            if (!strcmp(text[k], text[i])) first[i] = false;
        dups += !first[i];
        assert_int_equal(st_buf_puts(&csv, text[i]), STRATA_OK);
    }
    assert_int_equal(load(f, ST_IN_ORDERS, "m.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    st_identity id;
    int32_t as_of = STRATA_DAY_NONE;
    st_grouping g;
    st_outlier_report rep;
    resolve_and_clean(f, &id, &as_of, &g, &rep);
    assert_int_equal(f->ds.quality[ST_IN_ORDERS].reasons[ST_REASON_DUPLICATE], dups);
    assert_int_equal(g.n, N - dups);
    size_t kept_first = 0;
    for (size_t p = 0; p < id.npersons; p++)
        for (size_t i = g.offsets[p]; i < g.offsets[p + 1]; i++) {
            const st_order_row *r = &f->ds.orders.rows[i];
            assert_int_equal(r->key, f->ds.orders.rows[g.offsets[p]].key);
            kept_first += first[r->line - 2]; /* line 2 is the first data row */
            if (i == g.offsets[p]) continue;
            const st_order_row *q = r - 1;
            assert_true(q->order < r->order || (q->order == r->order && q->fp < r->fp));
        }
    assert_int_equal(kept_first, N - dups);
    st_free(text), st_free(first);
    st_grouping_clear(&g);
    st_identity_clear(&id);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The outlier threshold is the nearest-rank percentile of the positive amounts: checked
 * against sorting them, over heavy-tailed amounts with ties, zeros and returns. */
static void outlier_threshold_is_nearest_rank(void **state)
{
    fx *f = *state;
    enum { N = 6000 };
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount\n"), STRATA_OK);
    int64_t *pos = st_malloc(N * sizeof *pos);
    size_t m = 0;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* cents: mostly small, some huge, a few equal, some zero or negative */
        int64_t cents = (int64_t)(x % 5000);
        if (x % 97 == 0) cents *= 1000000;
        if (x % 11 == 0) cents = 1999;
        if (x % 13 == 0) cents = -cents;
        if (cents > 0) pos[m++] = cents * 10000;
        assert_int_equal(st_buf_printf(&csv, "o%d,u%d,2024-01-01,%s%lld.%02lld\n", i, i % 300,
                                       cents < 0 ? "-" : "", (long long)(llabs(cents) / 100),
                                       (long long)(llabs(cents) % 100)),
                         STRATA_OK);
    }
    assert_int_equal(load(f, ST_IN_ORDERS, "p.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    qsort(pos, m, sizeof *pos, cmp_i64);
    st_identity id;
    st_identity_init(&id);
    assert_int_equal(st_identity_resolve(&f->ds, 0, &id), STRATA_OK);
    st_identity_apply(&id, &f->ds, 2);
    static const char *const pcts[] = {"0.01", "50", "90", "99.9", "100"};
    for (size_t t = 0; t < sizeof pcts / sizeof pcts[0]; t++) {
        assert_int_equal(strata_config_set(f->ctx, "clean.outlier_percentile", pcts[t]), STRATA_OK);
        double pct = atof(pcts[t]);
        double rank = pct / 100.0 * (double)m;
        size_t k = rank <= 1 ? 0 : (size_t)ceil(rank - 1e-9) - 1;
        int32_t as_of = STRATA_DAY_NONE;
        st_grouping g;
        st_outlier_report rep;
        assert_int_equal(st_clean_orders(f->ctx, &f->ds, id.npersons, &as_of, &g, &rep), STRATA_OK);
        assert_int_equal(rep.threshold, pos[k]);
        size_t above = 0, at_or_above = 0;
        __int128 above_sum = 0, at_or_above_sum = 0, all = 0;
        for (size_t i = 0; i < m; i++) {
            if (pos[i] > pos[k]) above++, above_sum += pos[i];
            if (pos[i] >= pos[k]) at_or_above++, at_or_above_sum += pos[i];
            all += pos[i];
        }
        assert_int_equal(rep.rows_above, above);
        assert_int_equal(rep.rows_at_or_above, at_or_above);
        assert_int_equal(rep.positive_rows, m);
        assert_true(rep.above_sum == above_sum && rep.at_or_above_sum == at_or_above_sum &&
                    rep.positive_sum == all);
        st_grouping_clear(&g);
    }
    st_free(pos);
    st_identity_clear(&id);
}

/* A few absurd amounts that are themselves the percentile leave no row above it, but carry
 * most of the revenue: the warning says so unless the policy rejects them; amounts that are
 * all alike or merely heavy-tailed raise none. Shares are checked against sums made here. */
static void outlier_warning_when_few_rows_carry_most(void **state)
{
    fx *f = *state;
    static const struct {
        int rows, absurd; /* absurd rows of 1e9 among rows of 10.00 + i % 50 */
        const char *policy, *reject_above;
        bool heavy, warn;
    } cases[] = {
        {1000, 2, "keep", "0", false, true},   /* P99.9 is 1e9: nothing above it */
        {1000, 1, "keep", "0", false, true},   /* one row above P99.9 */
        {1000, 2, "cap", "0", false, true},    /* capping at 1e9 changes nothing */
        {1000, 2, "reject", "0", false, true}, /* the rows at the threshold stay */
        {1000, 2, "reject", "5000", false, false},
        {1000, 11, "keep", "0", false, false}, /* 1.1 % of the rows: not "a few" */
        {1000, 0, "keep", "0", false, false},
        {1000, 0, "keep", "0", true, false}, /* heavy-tailed, no typo */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        reset_dataset(f);
        st_buf csv;
        st_buf_init(&csv, 0);
        assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount\n"), STRATA_OK);
        __int128 all = 0, absurd = 0;
        for (int i = 0; i < cases[c].rows; i++) {
            int64_t cents = i < cases[c].absurd ? 100000000000 : 1000 + i % 50;
            if (cases[c].heavy && i % 100 == 0) cents *= 20 + i % 17; /* top 1 %: ~1/5 */
            all += cents * 10000;
            if (i < cases[c].absurd) absurd += cents * 10000;
            assert_int_equal(st_buf_printf(&csv, "o%d,u%d,2024-01-01,%lld.%02lld\n", i, i % 70,
                                           (long long)(cents / 100), (long long)(cents % 100)),
                             STRATA_OK);
        }
        assert_int_equal(load(f, ST_IN_ORDERS, "w.csv", csv.data), STRATA_OK);
        st_buf_clear(&csv);
        assert_int_equal(strata_config_set(f->ctx, "clean.outliers", cases[c].policy), STRATA_OK);
        assert_int_equal(strata_config_set(f->ctx, "clean.reject_above", cases[c].reject_above),
                         STRATA_OK);
        st_identity id;
        int32_t as_of = STRATA_DAY_NONE;
        st_grouping g;
        st_outlier_report rep;
        resolve_and_clean(f, &id, &as_of, &g, &rep);
        if (rep.top_warning != cases[c].warn)
            fail_msg("case %zu: warning %d, expected %d", c, rep.top_warning, cases[c].warn);
        assert_true(rep.positive_sum == all);
        /* the absurd rows are all above the threshold, or else all of those at or above it */
        if (cases[c].absurd && rep.rows_above)
            assert_true(rep.rows_above == (uint64_t)cases[c].absurd && rep.above_sum == absurd);
        else if (cases[c].absurd)
            assert_true(rep.rows_at_or_above == (uint64_t)cases[c].absurd &&
                        rep.at_or_above_sum == absurd);
        st_grouping_clear(&g);
        st_identity_clear(&id);
    }
    assert_int_equal(strata_config_set(f->ctx, "clean.outliers", "keep"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "clean.reject_above", "0"), STRATA_OK);
}

static void as_of_defaults_to_day_after_last_order(void **state)
{
    fx *f = *state;
    assert_int_equal(
        load(f, ST_IN_ORDERS, "d.csv",
             "order_id,user_id,order_ts,amount\n1,a,2024-05-31 23:59:59,1\n2,a,2024-05-01,1\n"),
        STRATA_OK);
    st_identity id;
    int32_t as_of = STRATA_DAY_NONE, want;
    st_grouping g;
    st_outlier_report rep;
    resolve_and_clean(f, &id, &as_of, &g, &rep);
    assert_int_equal(strata_day_parse("2024-06-01", &want), STRATA_OK);
    assert_int_equal(as_of, want);
    st_grouping_clear(&g);
    st_identity_clear(&id);
}

static void identifiers_hashed(void **state)
{
    fx *f = *state;
    assert_int_equal(strata_config_set(f->ctx, "identity.hash", "true"), STRATA_OK);
    assert_int_equal(strata_config_set(f->ctx, "identity.salt", "pepper"), STRATA_OK);
    assert_int_equal(
        load(f, ST_IN_IDENTITIES, "i.csv",
             "user_id,id_type,id_value\nu1,phone,+86 138-0000-1111\nu2,email,A@B.com\n"),
        STRATA_OK);
    assert_int_equal(f->ds.identifiers.count, 2);
    for (size_t i = 0; i < 2; i++) {
        st_sv s = st_intern_str(&f->ds.identifiers, (uint32_t)i);
        assert_int_equal(s.len, 64); /* hex SHA-256, no raw value kept */
        assert_null(memchr(s.ptr, '@', s.len));
    }
    /* printf 'pepperphone:+8613800001111' | sha256sum  (phone kept as digits and leading +) */
    st_sv h = st_intern_str(&f->ds.identifiers, 0);
    assert_memory_equal(h.ptr, "2d0222c8fe01b4e4c6bf1c4589ea4398bf4b16f92de425e6b70908e3d6a22f5f",
                        64);
}

/* Churn features are profiles built before the cutoff: no row on or after the cutoff — a new
 * order, a return line on an old order, a later event — can change any of them. */
static void no_row_after_cutoff_changes_a_feature(void **state)
{
    fx *f = *state;
    const char *before = "order_id,user_id,order_ts,amount,category\n"
                         "o1,a,2024-01-05,50,x\n"
                         "o2,a,2024-02-10,30,y\n"
                         "o3,b,2024-01-20,80,x\n";
    const char *after = "order_id,user_id,order_ts,amount,category\n"
                        "o1,a,2024-01-05,50,x\n"
                        "o2,a,2024-02-10,30,y\n"
                        "o3,b,2024-01-20,80,x\n"
                        "o2,a,2024-03-02,-30,y\n" /* return on an old order, after the cutoff */
                        "o4,b,2024-03-05,999,z\n" /* a new order after the cutoff */
                        "o5,c,2024-03-10,10,x\n"; /* a new buyer after the cutoff */
    const char *ev_before = "user_id,event_ts,event_type\na,2024-02-20,view\n";
    const char *ev_after =
        "user_id,event_ts,event_type\na,2024-02-20,view\na,2024-03-01,like\nb,2024-03-03,view\n";
    int32_t cutoff, as_of;
    assert_int_equal(strata_day_parse("2024-03-01", &cutoff), STRATA_OK);
    assert_int_equal(strata_day_parse("2024-04-01", &as_of), STRATA_OK);
    st_profiles ps[2];
    for (int k = 0; k < 2; k++) {
        st_dataset ds;
        st_dataset_init(&ds);
        const char *o = k ? after : before, *e = k ? ev_after : ev_before;
        assert_int_equal(st_dataset_load_buffer(f->ctx, &ds, ST_IN_ORDERS, "o.csv", o, strlen(o)),
                         STRATA_OK);
        assert_int_equal(st_dataset_load_buffer(f->ctx, &ds, ST_IN_EVENTS, "e.csv", e, strlen(e)),
                         STRATA_OK);
        st_identity id;
        st_identity_init(&id);
        assert_int_equal(st_identity_resolve(&ds, 0, &id), STRATA_OK);
        st_identity_apply(&id, &ds, 2);
        st_grouping og, eg;
        st_outlier_report rep;
        int32_t d = as_of;
        assert_int_equal(st_clean_orders(f->ctx, &ds, id.npersons, &d, &og, &rep), STRATA_OK);
        assert_int_equal(st_clean_events(&ds, id.npersons, d, &eg, 1), STRATA_OK);
        st_profiles_init(&ps[k]);
        assert_int_equal(
            st_profiles_build(&ps[k], &ds, id.npersons, &og, &eg, NULL, cutoff, cutoff, 2),
            STRATA_OK);
        st_grouping_clear(&og);
        st_grouping_clear(&eg);
        st_identity_clear(&id);
        st_tz_free(ds.tz);
        st_dataset_clear(&ds);
    }
    /* persons a and b exist in both runs with identical features; c only appears later */
    assert_int_equal(ps[0].n, 2);
    assert_int_equal(ps[1].n, 3);
    assert_memory_equal(&ps[0].rows[0], &ps[1].rows[0], sizeof(st_profile));
    assert_memory_equal(&ps[0].rows[1], &ps[1].rows[1], sizeof(st_profile));
    assert_int_equal(ps[1].rows[2].frequency, 0); /* c: nothing before the cutoff */
    assert_int_equal(ps[0].rows[0].frequency, 2);
    assert_int_equal(ps[0].rows[0].monetary, 80000000);
    st_profiles_clear(&ps[0]);
    st_profiles_clear(&ps[1]);
}

/* Cleaning orders runs on all threads over parts of whole persons: the kept rows, the
 * grouping, the rejects (in order, with their text), the counters and the outlier report are
 * the same on 1, 2, 3 or 7 threads, under every outlier policy. */
/* Load csv on two threads, resolve identities, then clean on `threads` threads. */
static void load_and_clean(fx *f, const st_buf *csv, unsigned threads, int32_t *as_of,
                           st_dataset *ds, st_grouping *g, st_outlier_report *rep)
{
    st_dataset_init(ds);
    strata_set_threads(f->ctx, 2);
    assert_int_equal(st_dataset_load_buffer(f->ctx, ds, ST_IN_ORDERS, "t.csv", csv->data, csv->len),
                     STRATA_OK);
    st_identity id;
    st_identity_init(&id);
    assert_int_equal(st_identity_resolve(ds, 0, &id), STRATA_OK);
    st_identity_apply(&id, ds, 2);
    strata_set_threads(f->ctx, threads);
    assert_int_equal(st_clean_orders(f->ctx, ds, id.npersons, as_of, g, rep), STRATA_OK);
    st_identity_clear(&id);
}

static void free_cleaned(st_dataset *ds, st_grouping *g)
{
    st_grouping_clear(g);
    st_tz_free(ds->tz);
    st_dataset_clear(ds);
}

static void cleaning_same_on_any_thread_count(void **state)
{
    fx *f = *state;
    enum { N = 5000 };
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount\n"), STRATA_OK);
    char prev[64] = "";
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char line[64];
        if (i > 0 && x % 3 == 0) {
            memcpy(line, prev, sizeof line); /* a duplicate of the line before */
        } else {
            long long cents = (long long)(x % 20000) * (x % 53 == 0 ? 1000 : 1);
            snprintf(line, sizeof line, "o%u,u%u,2024-%02u-%02u,%s%lld.%02lld\n",
                     (unsigned)(x >> 9) % 400, (unsigned)(x >> 21) % 37 + (i % 5 == 0 ? i : 0),
                     1 + (unsigned)(x >> 30) % 12, 1 + (unsigned)(x >> 40) % 28,
                     x % 17 == 0 ? "-" : "", cents / 100, cents % 100);
        }
        memcpy(prev, line, sizeof prev);
        assert_int_equal(st_buf_puts(&csv, line), STRATA_OK);
    }
    static const char *const policies[] = {"keep", "cap", "reject"};
    static const unsigned threads[] = {1, 2, 3, 7};
    for (size_t pi = 0; pi < 3; pi++) {
        st_dataset ref;
        st_grouping ref_g;
        st_outlier_report ref_rep;
        int32_t ref_as_of = 0;
        assert_int_equal(strata_config_set(f->ctx, "clean.outliers", policies[pi]), STRATA_OK);
        assert_int_equal(strata_config_set(f->ctx, "clean.outlier_percentile", "99"), STRATA_OK);
        for (size_t ti = 0; ti < 4; ti++) {
            st_dataset ds;
            int32_t as_of = STRATA_DAY_NONE;
            if (pi == 1) assert_int_equal(strata_day_parse("2024-10-15", &as_of), STRATA_OK);
            st_grouping g;
            st_outlier_report rep;
            load_and_clean(f, &csv, threads[ti], &as_of, &ds, &g, &rep);
            assert_true(ds.quality[ST_IN_ORDERS].reasons[ST_REASON_DUPLICATE] > 100);
            if (pi == 1) assert_true(ds.quality[ST_IN_ORDERS].reasons[ST_REASON_AFTER_AS_OF] > 100);
            assert_true(rep.rows_above > 0);
            if (ti == 0) {
                ref = ds, ref_g = g, ref_rep = rep, ref_as_of = as_of;
                continue;
            }
            assert_int_equal(as_of, ref_as_of);
            assert_memory_equal(&rep, &ref_rep, sizeof rep);
            assert_memory_equal(ds.quality, ref.quality, sizeof ds.quality);
            assert_int_equal(g.n, ref_g.n);
            assert_int_equal(g.npersons, ref_g.npersons);
            assert_memory_equal(g.offsets, ref_g.offsets, (g.npersons + 1) * sizeof *g.offsets);
            assert_int_equal(ds.orders.n, ref.orders.n);
            assert_memory_equal(ds.orders.rows, ref.orders.rows, ds.orders.n * sizeof *ds.orders.rows);
            assert_int_equal(ds.nrejects, ref.nrejects);
            for (size_t r = 0; r < ds.nrejects; r++) {
                assert_int_equal(ds.rejects[r].line, ref.rejects[r].line);
                assert_int_equal(ds.rejects[r].reason, ref.rejects[r].reason);
                assert_string_equal(ds.rejects[r].detail, ref.rejects[r].detail);
            }
            free_cleaned(&ds, &g);
        }
        free_cleaned(&ref, &ref_g);
    }
    strata_set_threads(f->ctx, 2);
    st_buf_clear(&csv);
}

/* Category and brand names go through a small cache of recent short names: over hundreds of
 * names of 1 to 25 bytes that share slots and prefixes, every row keeps its own name. */
static void dictionary_names_survive_the_cache(void **state)
{
    fx *f = *state;
    enum { N = 4000, NAMES = 300 };
    static char names[NAMES][32];
    /* many names per length share their first 8 bytes, and 300 names fill 64 slots */
    static const char *const formats[] = {"%d", "c%03d", "catego%03d", "category_%03d",
                                          "category-name-%03d", "a very long category %03d"};
    for (int k = 0; k < NAMES; k++)
        snprintf(names[k], sizeof names[k], formats[k % 6], k);
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount,category,brand\n"),
                     STRATA_OK);
    int *cat = st_malloc(N * sizeof *cat), *brand = st_malloc(N * sizeof *brand);
    uint64_t x = 0xC0FFEEull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cat[i] = (int)(x % NAMES), brand[i] = (int)((x >> 20) % 7);
        assert_int_equal(st_buf_printf(&csv, "o%d,u%d,2024-01-01,1,%s,%s\n", i, i % 50,
                                       names[cat[i]], names[brand[i]]),
                         STRATA_OK);
    }
    assert_int_equal(load(f, ST_IN_ORDERS, "n.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.orders.n, N);
    for (size_t r = 0; r < N; r++) { /* rows are in file order after loading */
        const st_order_row *row = &f->ds.orders.rows[r];
        size_t i = row->line - 2;
        st_sv c = st_dict_name(&f->ds.categories, row->category);
        st_sv b = st_dict_name(&f->ds.brands, row->brand);
        assert_int_equal(c.len, strlen(names[cat[i]]));
        assert_memory_equal(c.ptr, names[cat[i]], c.len);
        assert_int_equal(b.len, strlen(names[brand[i]]));
        assert_memory_equal(b.ptr, names[brand[i]], b.len);
    }
    assert_int_equal(f->ds.categories.names.count, NAMES + 1); /* + "none" */
    st_free(cat);
    st_free(brand);
}

/* Plain rows wait in a batch with their fields in the batch's slots while rows with quoted
 * text (unescaped into the cursor's scratch) or a wrong field count go on their own: mixed
 * in one block, every row keeps its own values and the bad ones are rejected. */
static void batched_rows_keep_their_fields(void **state)
{
    fx *f = *state;
    enum { N = 200 };
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount,category\n"), STRATA_OK);
    size_t bad = 0;
    for (int i = 0; i < N; i++) {
        strata_status st;
        if (i % 7 == 3) /* a field short */
            st = st_buf_printf(&csv, "o%d,u%d,2024-01-01,%d.25\n", i, i % 13, i), bad++;
        else if (i % 3 == 0) /* quoted, with doubled quotes */
            st = st_buf_printf(&csv, "o%d,\"u%d\",2024-01-01,%d.25,\"c \"\"%d\"\"\"\n", i, i % 13,
                               i, i % 5);
        else
            st = st_buf_printf(&csv, "o%d,u%d,2024-01-01,%d.25,c%d\n", i, i % 13, i, i % 5);
        assert_int_equal(st, STRATA_OK);
    }
    assert_int_equal(load(f, ST_IN_ORDERS, "b.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.quality[ST_IN_ORDERS].reasons[ST_REASON_FIELD_COUNT], bad);
    assert_int_equal(f->ds.orders.n, N - bad);
    for (size_t r = 0; r < f->ds.orders.n; r++) {
        const st_order_row *row = &f->ds.orders.rows[r];
        int i = (int)row->line - 2;
        assert_int_equal(row->amount, (int64_t)i * 1000000 + 250000);
        char want[32], order[16], user[16];
        snprintf(want, sizeof want, i % 3 == 0 ? "c \"%d\"" : "c%d", i % 5);
        st_sv c = st_dict_name(&f->ds.categories, row->category);
        assert_int_equal(c.len, strlen(want));
        assert_memory_equal(c.ptr, want, c.len);
        snprintf(order, sizeof order, "o%d", i);
        assert_true(row->order == st_hash64(order, strlen(order)));
        snprintf(user, sizeof user, "u%d", i % 13);
        assert_int_equal(row->key, key_of(&f->ds, user));
    }
}

/* Every column counts in an order row's fingerprint, whichever code adds its term (the row
 * function for the fields it parses, the general loop for the rest): a row that differs from
 * the first in one column only has a fingerprint of its own, and a row that differs only in
 * how equal values are written (numbers, flags, a date with a midnight time, blanks) shares
 * the first row's. Then the same with the amount from quantity × unit price. */
static void fingerprint_covers_every_column(void **state)
{
    fx *f = *state;
    static const char header[] = "order_id,user_id,order_ts,amount,quantity,unit_price,category,"
                                 "brand,channel,payment_method,coupon_used,discount,status,"
                                 "refund,note\n";
    static const char *const rows[] = {
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* the first */
        "o2,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* order id */
        "o1,u1,2024-01-02,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* date */
        "o1,u1,2024-01-01 00:00:01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* time */
        "o1,u1,2024-01-01,10.51,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* amount */
        "o1,u1,2024-01-01,10.5,3,5.25,food,A,app,card,0,0.5,paid,0,n",  /* quantity */
        "o1,u1,2024-01-01,10.5,x,5.25,food,A,app,card,0,0.5,paid,0,n",  /* quantity as text */
        "o1,u1,2024-01-01,10.5,,5.25,food,A,app,card,0,0.5,paid,0,n",   /* no quantity */
        "o1,u1,2024-01-01,10.5,2,5.26,food,A,app,card,0,0.5,paid,0,n",  /* unit price */
        "o1,u1,2024-01-01,10.5,2,5.25,toys,A,app,card,0,0.5,paid,0,n",  /* category */
        "o1,u1,2024-01-01,10.5,2,5.25,food,B,app,card,0,0.5,paid,0,n",  /* brand */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,web,card,0,0.5,paid,0,n",  /* channel */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,cash,0,0.5,paid,0,n",  /* payment method */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,1,0.5,paid,0,n",  /* coupon */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,,0.5,paid,0,n",   /* no coupon flag */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.6,paid,0,n",  /* discount */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,,paid,0,n",     /* no discount */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,sent,0,n",  /* status */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,1,n",  /* refund */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,,n",   /* no refund flag */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,m",  /* a column of its own */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,",   /* ... empty */
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,,0,n",      /* no status */
        "o1,u2,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n",  /* person */
        /* the first row's values written otherwise */
        " o1 ,u1,2024-01-01 00:00:00,10.50,2.0,5.250,food ,A,app, card,false,0.50,paid,no,n",
        "o1,u1,2024-01-01T00:00:00,+10.5,02,5.25,food,A,app,card,0,.5,paid,0,n",
    };
    enum { DIFFERENT = 24 }; /* rows[1 .. DIFFERENT-1] differ from rows[0] */
    load_order_lines(f, "every.csv", header, rows, ST_ARRAY_LEN(rows));
    const st_order_row *r = f->ds.orders.rows;
    for (size_t i = 1; i < ST_ARRAY_LEN(rows); i++) {
        bool same = r[i].fp == r[0].fp;
        if (i < DIFFERENT && same) fail_msg("line %zu shares the first row's fingerprint", i + 2);
        if (i >= DIFFERENT && !same) fail_msg("line %zu has a fingerprint of its own", i + 2);
        for (size_t j = 1; j < i && i < DIFFERENT; j++)
            if (r[i].fp == r[j].fp) fail_msg("lines %zu and %zu share a fingerprint", j + 2, i + 2);
    }

    /* the amount from quantity x unit price (no amount column value) */
    reset_dataset(f);
    static const char *const product[] = {
        "o1,u1,2024-01-01,,2,5.25,food,A,app,card,0,0.5,paid,0,n",
        "o1,u1,2024-01-01,,2,5.26,food,A,app,card,0,0.5,paid,0,n",
        "o1,u1,2024-01-01,,3,5.25,food,A,app,card,0,0.5,paid,0,n",
        "o1,u1,2024-01-01,10.5,2,5.25,food,A,app,card,0,0.5,paid,0,n", /* amount given */
        "o1,u1,2024-01-01, ,2.00,5.250,food,A,app,card,0,0.5,paid,0,n", /* = the first */
    };
    load_order_lines(f, "product.csv", header, product, ST_ARRAY_LEN(product));
    r = f->ds.orders.rows;
    assert_int_equal(r[0].amount, 10500000);
    for (size_t i = 1; i < 4; i++)
        for (size_t j = 0; j < i; j++)
            if (r[i].fp == r[j].fp) fail_msg("product rows %zu and %zu share a fingerprint", j, i);
    assert_true(r[4].fp == r[0].fp);
}

/* Fingerprints follow values, not text or path: a row padded with blanks (trimmed away) and
 * written with other number formats matches its plain copy; rows with a text field too long
 * for the fingerprint's buffer (hashed by the general loop in pieces) match exactly their
 * own copies and differ when one byte differs. */
static void fingerprint_follows_values(void **state)
{
    fx *f = *state;
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount,category,channel\n"),
                     STRATA_OK);
    for (int pad = 0; pad < 2; pad++)
        for (int i = 0; i < 3; i++)
            assert_int_equal(st_buf_printf(&csv, "o%d,u1,2024-01-0%d%s,1%d.5%s,%*scat%d,app\n", i,
                                           i + 1, pad ? " 00:00:00" : "", i, pad ? "00" : "",
                                           pad ? 1500 : 0, "", i),
                             STRATA_OK);
    char long_text[1601];
    memset(long_text, 'x', 1600);
    long_text[1600] = 0;
    for (int k = 0; k < 3; k++) {
        if (k == 2) long_text[1599] = 'y';
        assert_int_equal(st_buf_printf(&csv, "o9,u1,2024-01-09,9,%s,app\n", long_text), STRATA_OK);
    }
    assert_int_equal(load(f, ST_IN_ORDERS, "fp.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.orders.n, 9);
    const st_order_row *r = f->ds.orders.rows;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].line + 3, r[i + 3].line);
        assert_true(r[i].fp == r[i + 3].fp);
        if (i) assert_true(r[i].fp != r[i - 1].fp);
    }
    assert_true(r[6].fp == r[7].fp);
    assert_true(r[6].fp != r[8].fp);

    /* texts that differ only in where two fields split, in length, or in byte order: each
     * a row of its own (one order, so only the fingerprint tells them apart) */
    static const char *const pairs[][2] = {
        {"ab", "c"},
        {"a", "bc"},
        {"abc", ""},
        {"", "abc"},
        {"abb", "c"},
        {"ba", "c"},
        {"", ""},
        {"abcdefghijklmnopq", "r"},
        {"abcdefghijklmnop", "qr"},
        {"abcdefgh", "i"},
        {"abcdefghi", ""},
        {"0", ""},
        {"", "0"},
    };
    reset_dataset(f);
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount,category,channel\n"),
                     STRATA_OK);
    for (size_t i = 0; i < ST_ARRAY_LEN(pairs); i++)
        assert_int_equal(
            st_buf_printf(&csv, "o1,u1,2024-01-01,1,%s,%s\n", pairs[i][0], pairs[i][1]), STRATA_OK);
    assert_int_equal(load(f, ST_IN_ORDERS, "fp2.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.orders.n, ST_ARRAY_LEN(pairs));
    r = f->ds.orders.rows;
    for (size_t i = 0; i < ST_ARRAY_LEN(pairs); i++)
        for (size_t j = 0; j < i; j++)
            if (r[i].fp == r[j].fp) fail_msg("rows %zu and %zu share a fingerprint", j, i);
}

/* Rows in person order, reversed, strided, and half of them one person's: whole parts of the
 * table fall in a few buckets of the person sort (each bucket sorted through scratch room, or
 * in place when it holds over an eighth of the rows), and every thread count must give the
 * table of one thread. */
static void person_sort_any_layout(void **state)
{
    fx *f = *state;
    enum { P = 3000, R = 6 };
    for (int layout = 0; layout < 4; layout++) {
        st_buf csv;
        st_buf_init(&csv, 0);
        assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount\n"), STRATA_OK);
        for (int i = 0; i < P * R; i++) {
            /* persons are numbered as first seen: one row each in order, then the rest */
            int k = i - P;
            int person = i < P         ? i
                         : layout == 0 ? k / (R - 1)
                         : layout == 1 ? P - 1 - k / (R - 1)
                         : layout == 2 ? (k / (R - 1) * 7) % P
                                       : (k % 2 ? 5 : k / (R - 1)); /* one person: half the rows */
            assert_int_equal(st_buf_printf(&csv, "o%d,u%05d,2024-01-%02d,%d.50\n", i % 5, person,
                                           1 + i % 28, 1 + i % 90),
                             STRATA_OK);
        }
        st_dataset ref;
        st_grouping ref_g;
        static const unsigned threads[] = {1, 2, 3, 7};
        for (size_t ti = 0; ti < 4; ti++) {
            st_dataset ds;
            int32_t as_of = STRATA_DAY_NONE;
            st_grouping g;
            st_outlier_report rep;
            load_and_clean(f, &csv, threads[ti], &as_of, &ds, &g, &rep);
            assert_int_equal(g.npersons, P);
            for (size_t p = 0; p < g.npersons; p++)
                for (uint32_t r = g.offsets[p]; r < g.offsets[p + 1]; r++) {
                    const st_order_row *x = &ds.orders.rows[r], *y = x - 1;
                    assert_int_equal(x->key, p);
                    /* each person's rows strictly by (order, fingerprint, line) */
                    if (r > g.offsets[p])
                        assert_true(y->order < x->order ||
                                    (y->order == x->order &&
                                     (y->fp < x->fp || (y->fp == x->fp && y->line < x->line))));
                }
            if (ti == 0) {
                ref = ds, ref_g = g;
                continue;
            }
            assert_int_equal(ds.orders.n, ref.orders.n);
            assert_memory_equal(ds.orders.rows, ref.orders.rows,
                                ds.orders.n * sizeof *ds.orders.rows);
            assert_memory_equal(g.offsets, ref_g.offsets, (g.npersons + 1) * sizeof *g.offsets);
            free_cleaned(&ds, &g);
        }
        free_cleaned(&ref, &ref_g);
        st_buf_clear(&csv);
    }
    strata_set_threads(f->ctx, 2);
}

/* Refund statuses in any case and of any length (one past 63 bytes too); other statuses,
 * also of a refund status's length, leave the row as paid. */
static void refund_statuses(void **state)
{
    fx *f = *state;
    char long_status[71], longer[72];
    memset(long_status, 'x', 70), long_status[70] = 0;
    memset(longer, 'x', 71), longer[71] = 0;
    char list[128];
    snprintf(list, sizeof list, "refunded,R,%s", long_status);
    assert_int_equal(strata_config_set(f->ctx, "orders.refund_status", list), STRATA_OK);
    struct {
        const char *status;
        bool refunded;
    } cases[] = {{"refunded", true},  {"REFUNDED", true},  {"r", true},        {"R", true},
                 {"paid", false},     {"refunder", false}, {"s", false},       {"", false},
                 {long_status, true}, {longer, false},     {"returned", false}};
    st_buf csv;
    st_buf_init(&csv, 0);
    assert_int_equal(st_buf_puts(&csv, "order_id,user_id,order_ts,amount,status\n"), STRATA_OK);
    for (size_t i = 0; i < ST_ARRAY_LEN(cases); i++)
        assert_int_equal(st_buf_printf(&csv, "o%zu,u1,2024-01-01,5,%s\n", i, cases[i].status),
                         STRATA_OK);
    assert_int_equal(load(f, ST_IN_ORDERS, "refunds.csv", csv.data), STRATA_OK);
    st_buf_clear(&csv);
    assert_int_equal(f->ds.orders.n, ST_ARRAY_LEN(cases));
    for (size_t i = 0; i < ST_ARRAY_LEN(cases); i++) {
        const st_order_row *r = &f->ds.orders.rows[i];
        size_t c = r->line - 2;
        bool refunded = (r->flags & ST_ORDER_REFUNDED) != 0;
        if (refunded != cases[c].refunded || r->amount != (refunded ? 0 : 5000000))
            fail_msg("status '%s': refunded=%d amount=%lld", cases[c].status, refunded,
                     (long long)r->amount);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(order_row_fields_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(retail_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_column_is_config_error, setup, teardown),
        cmocka_unit_test_setup_teardown(jsonl_equals_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(cleaning, setup, teardown),
        cmocka_unit_test_setup_teardown(many_rows_per_person, setup, teardown),
        cmocka_unit_test_setup_teardown(outlier_threshold_is_nearest_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(outlier_warning_when_few_rows_carry_most, setup, teardown),
        cmocka_unit_test_setup_teardown(cleaning_same_on_any_thread_count, setup, teardown),
        cmocka_unit_test_setup_teardown(dictionary_names_survive_the_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(batched_rows_keep_their_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(fingerprint_covers_every_column, setup, teardown),
        cmocka_unit_test_setup_teardown(fingerprint_follows_values, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(person_sort_any_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(as_of_defaults_to_day_after_last_order, setup, teardown),
        cmocka_unit_test_setup_teardown(identifiers_hashed, setup, teardown),
        cmocka_unit_test_setup_teardown(no_row_after_cutoff_changes_a_feature, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
