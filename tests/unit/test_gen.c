/* test_gen.c — the synthetic data generator: byte-identical output for one seed, files
 * that parse cleanly with a strict independent CSV reader, exact money arithmetic, sorted
 * times, ids that resolve through users.csv or identities.csv, requested sizes and shares,
 * every injected problem kind present and counted exactly as in the report, bad options,
 * and no leak even when allocations fail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/core.h"
#include "gen/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define TEST_DIR STRATA_BINARY_DIR "/test_gen_out"

static strata_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    mkdir(TEST_DIR, 0777);
    return strata_ctx_create(&ctx) == STRATA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    strata_ctx_free(ctx);
    return 0;
}

static strata_gen_opts opts_for(const char *dir, uint64_t users, uint64_t orders, uint64_t events, uint64_t seed,
                                double dirt)
{
    strata_gen_opts o = {.users = users, .orders = orders, .events = events, .seed = seed, .dirt = dirt,
                         .start_day = STRATA_DAY_NONE, .out_dir = dir};
    return o;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* ---- a strict RFC 4180 reader, written independently of the generator ---- */
typedef struct csv_reader {
    const char *p, *end;
    char *scratch; /* unquoted field text of the current record */
} csv_reader;

/* Fields of the next record into fields[]; 0 at the end, -1 if malformed. */
static int csv_record(csv_reader *r, st_sv *fields, int max, st_sv *raw, bool *quoted)
{
    if (r->p >= r->end) return 0;
    const char *start = r->p;
    size_t out = 0;
    int n = 0;
    *quoted = false;
    for (;;) {
        if (n == max) return -1;
        size_t field_start = out;
        if (r->p < r->end && *r->p == '"') {
            *quoted = true;
            r->p++;
            for (;;) {
                if (r->p >= r->end) return -1;
                char c = *r->p++;
                if (c != '"') r->scratch[out++] = c;
                else if (r->p < r->end && *r->p == '"') r->scratch[out++] = *r->p++;
                else break;
            }
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\n') {
                if (*r->p == '"' || *r->p == '\r') return -1;
                r->scratch[out++] = *r->p++;
            }
        }
        fields[n++] = st_sv_make(r->scratch + field_start, out - field_start);
        if (r->p >= r->end) return -1; /* every record ends with LF */
        char c = *r->p++;
        if (c == '\n') break;
        if (c != ',') return -1;
    }
    *raw = st_sv_make(start, (size_t)(r->p - 1 - start));
    return n;
}

typedef struct csv_file {
    char *data;
    size_t len;
    csv_reader r;
} csv_file;

static void csv_open(csv_file *f, const char *dir, const char *name, const char *header)
{
    f->data = slurp(dir, name, &f->len);
    f->r.p = f->data;
    f->r.end = f->data + f->len;
    f->r.scratch = malloc(f->len + 1);
    assert_non_null(f->r.scratch);
    size_t hl = strlen(header);
    if (f->len <= hl || memcmp(f->data, header, hl) != 0 || f->data[hl] != '\n')
        fail_msg("%s: header is not '%s'", name, header);
    f->r.p += hl + 1;
}

static void csv_close(csv_file *f)
{
    free(f->data);
    free(f->r.scratch);
}

/* ---- field checks ---- */
static bool sv_is(st_sv v, const char *s)
{
    return st_sv_eq(v, st_sv_cstr(s));
}

static bool one_of(st_sv v, const char *const *list)
{
    for (; *list; list++)
        if (sv_is(v, *list)) return true;
    return false;
}

static bool digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    return true;
}

/* "YYYY-MM-DD HH:MM:SS", a real date and time */
static bool is_ts(st_sv v)
{
    const char *p = v.ptr;
    if (v.len != 19 || !digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' || !digits(p + 8, 2) ||
        p[10] != ' ' || !digits(p + 11, 2) || p[13] != ':' || !digits(p + 14, 2) || p[16] != ':' || !digits(p + 17, 2))
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    unsigned m = (unsigned)((p[5] - '0') * 10 + (p[6] - '0')), d = (unsigned)((p[8] - '0') * 10 + (p[9] - '0'));
    int hh = (p[11] - '0') * 10 + (p[12] - '0'), mm = (p[14] - '0') * 10 + (p[15] - '0');
    int ss = (p[17] - '0') * 10 + (p[18] - '0');
    return st_valid_civil(y, m, d) && hh < 24 && mm < 60 && ss < 60;
}

/* a decimal with exactly two fraction digits, as micros */
static bool money2(st_sv v, int64_t *micros)
{
    size_t i = v.len && v.ptr[0] == '-' ? 1 : 0;
    if (v.len < i + 4 || v.ptr[v.len - 3] != '.' || !digits(v.ptr + i, (int)(v.len - 3 - i)) ||
        !digits(v.ptr + v.len - 2, 2))
        return false;
    bool rounded = false;
    return st_sv_to_micros(v, micros, &rounded) && !rounded;
}

static bool in_period(st_sv ts)
{
    return memcmp(ts.ptr, "2024-01-01 00:00:00", 19) >= 0 && memcmp(ts.ptr, "2026-01-01 00:00:00", 19) < 0;
}

static uint32_t intern(st_intern *t, st_sv v, bool *added)
{
    uint32_t id = st_intern_put(t, v.ptr, v.len, st_hash64(v.ptr, v.len), added);
    assert_int_not_equal(id, ST_INTERN_NONE);
    return id;
}

static uint32_t find(const st_intern *t, st_sv v)
{
    return st_intern_find(t, v.ptr, v.len, st_hash64(v.ptr, v.len));
}

static bool sv_starts(st_sv v, const char *prefix)
{
    size_t n = strlen(prefix);
    return v.len >= n && memcmp(v.ptr, prefix, n) == 0;
}

static bool files_equal(const char *dir_a, const char *dir_b, const char *name)
{
    size_t la, lb;
    char *a = slurp(dir_a, name, &la), *b = slurp(dir_b, name, &lb);
    bool same = la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return same;
}

/* ---- tests ---- */

static void same_seed_same_bytes(void **state)
{
    (void)state;
    static const char *const files[] = {"orders.csv", "events.csv", "users.csv", "identities.csv"};
    strata_gen_opts a = opts_for(TEST_DIR "/det_a", 1500, 12000, 20000, 11, 0.02);
    strata_gen_opts b = opts_for(TEST_DIR "/det_b/nested", 1500, 12000, 20000, 11, 0.02);
    strata_gen_opts c = opts_for(TEST_DIR "/det_c", 1500, 12000, 20000, 12, 0.02);
    strata_gen_opts d = opts_for(TEST_DIR "/det_d", 1500, 12000, 0, 11, 0.02);
    assert_int_equal(strata_gen(ctx, &a), STRATA_OK);
    assert_int_equal(strata_gen(ctx, &b), STRATA_OK); /* also creates the missing parents */
    assert_int_equal(strata_gen(ctx, &c), STRATA_OK);
    assert_int_equal(strata_gen(ctx, &d), STRATA_OK);
    for (size_t i = 0; i < 4; i++) {
        if (!files_equal(a.out_dir, b.out_dir, files[i])) fail_msg("%s differs for the same seed", files[i]);
        if (files_equal(a.out_dir, c.out_dir, files[i])) fail_msg("%s equal for seeds 11 and 12", files[i]);
    }
    /* the orders do not depend on how many events are asked for */
    assert_true(files_equal(a.out_dir, d.out_dir, "orders.csv"));
    assert_true(files_equal(a.out_dir, d.out_dir, "users.csv"));
}

static const char *const acq_channels[] = {"organic", "search_ads", "social", "referral", "offline", NULL};
static const char *const categories[] = {"apparel", "beauty", "electronics", "home",
                                         "food",    "baby",   "sports",      "books", NULL};
static const char *const channels[] = {"app", "web", "mini_program", "store", NULL};
static const char *const payments[] = {"alipay", "wechat_pay", "card", "cod", NULL};
static const char *const id_types[] = {"phone", "email", "device_id", "openid", "unionid", NULL};
static const char *const event_types[] = {"view",  "search",   "add_to_cart", "favorite",        "like",     "comment",
                                          "share", "activity", "login",       "service_contact", "purchase", NULL};
static const char *const flags01[] = {"0", "1", NULL};

/* Who is who: users.csv ids, and app_ ids linked to one of them by a shared identifier. */
typedef struct people {
    st_intern users;  /* u ids from users.csv */
    st_intern linked; /* app ids sharing an identifier value with a users.csv id */
    uint64_t max_ids_per_value, values_over_20;
} people;

static void read_users(people *pp, const char *dir, uint64_t *rows)
{
    csv_file f;
    csv_open(&f, dir, "users.csv",
             "user_id,signup_ts,gender,birth_year,region,acquisition_channel,cac,consent_sms,consent_push,"
             "consent_email,consent_wecom,nps");
    st_sv v[16], raw;
    bool quoted, added;
    int n;
    *rows = 0;
    while ((n = csv_record(&f.r, v, 16, &raw, &quoted)) != 0) {
        if (n != 12 || quoted) fail_msg("users.csv: bad row '%.*s'", (int)raw.len, raw.ptr);
        (*rows)++;
        intern(&pp->users, v[0], &added);
        if (!added) fail_msg("users.csv: %.*s twice", (int)v[0].len, v[0].ptr);
        assert_true(sv_starts(v[0], "u") && is_ts(v[1]) && in_period(v[1]));
        assert_true(v[2].len == 0 || sv_is(v[2], "F") || sv_is(v[2], "M"));
        int64_t year = 0, cac = 0, nps = 0;
        assert_true(v[3].len == 0 || (st_sv_to_i64(v[3], &year) && year >= 1950 && year <= 2008));
        assert_true(v[4].len > 0 && one_of(v[5], acq_channels));
        assert_true(money2(v[6], &cac) && cac >= 0);
        for (int k = 7; k <= 10; k++) assert_true(one_of(v[k], flags01));
        assert_true(v[11].len == 0 || (st_sv_to_i64(v[11], &nps) && nps >= 0 && nps <= 10));
    }
    csv_close(&f);
}

static void read_identities(people *pp, const char *dir, uint64_t *rows)
{
    csv_file f;
    csv_open(&f, dir, "identities.csv", "user_id,id_type,id_value");
    st_intern values, pairs;
    st_intern_init(&values);
    st_intern_init(&pairs);
    uint64_t *ids_per_value = calloc(f.len, sizeof *ids_per_value);
    bool *held_by_user = calloc(f.len, sizeof *held_by_user);
    assert_true(ids_per_value && held_by_user);
    st_sv v[8], raw;
    bool quoted, added;
    int n;
    *rows = 0;
    /* pass 1: which values a users.csv id holds; and no (user, value) link twice */
    while ((n = csv_record(&f.r, v, 8, &raw, &quoted)) != 0) {
        if (n != 3 || quoted) fail_msg("identities.csv: bad row '%.*s'", (int)raw.len, raw.ptr);
        (*rows)++;
        assert_true(one_of(v[1], id_types) && v[2].len > 0);
        uint32_t id = intern(&values, v[2], &added);
        ids_per_value[id]++;
        if (find(&pp->users, v[0]) != ST_INTERN_NONE) held_by_user[id] = true;
        else assert_true(sv_starts(v[0], "app_"));
        intern(&pairs, raw, &added);
        if (!added) fail_msg("identities.csv: row twice '%.*s'", (int)raw.len, raw.ptr);
    }
    /* pass 2: app ids linked through a shared value */
    f.r.p = strchr(f.data, '\n') + 1;
    while ((n = csv_record(&f.r, v, 8, &raw, &quoted)) != 0)
        if (sv_starts(v[0], "app_") && held_by_user[find(&values, v[2])]) intern(&pp->linked, v[0], &added);
    for (size_t id = 0; id < values.count; id++) {
        pp->max_ids_per_value = ST_MAX(pp->max_ids_per_value, ids_per_value[id]);
        pp->values_over_20 += ids_per_value[id] > 20;
    }
    free(ids_per_value);
    free(held_by_user);
    st_intern_clear(&values);
    st_intern_clear(&pairs);
    csv_close(&f);
}

static bool known_person(const people *pp, st_sv id)
{
    return find(&pp->users, id) != ST_INTERN_NONE || find(&pp->linked, id) != ST_INTERN_NONE;
}

/* The person number behind u<n> or app_<n>. */
static int64_t person_of(st_sv id)
{
    st_sv num = sv_starts(id, "app_") ? st_sv_make(id.ptr + 4, id.len - 4) : st_sv_make(id.ptr + 1, id.len - 1);
    int64_t n = -1;
    assert_true(st_sv_to_i64(num, &n));
    return n;
}

static void clean_files_are_consistent(void **state)
{
    (void)state;
    const uint64_t users = 3000, want_orders = 24000, want_events = 60000;
    strata_gen_opts o = opts_for(TEST_DIR "/clean", users, want_orders, want_events, 5, 0);
    st_gen_report rep;
    assert_int_equal(st_gen_run(ctx, &o, &rep), STRATA_OK);

    people pp = {0};
    st_intern_init(&pp.users);
    st_intern_init(&pp.linked);
    uint64_t user_rows, id_rows;
    read_users(&pp, o.out_dir, &user_rows);
    read_identities(&pp, o.out_dir, &id_rows);
    assert_int_equal(user_rows, users);
    assert_int_equal(rep.users_csv.rows, users);
    assert_int_equal(rep.identities_csv.rows, id_rows);
    assert_true(id_rows >= users && id_rows <= 3 * users + 2 * rep.second_id_persons + 40 * rep.shared_identifiers);
    /* a shared family device links more than 20 ids; second ids are linked */
    assert_true(pp.values_over_20 >= 1 && pp.values_over_20 == rep.shared_identifiers);
    assert_true(pp.max_ids_per_value > 20);
    assert_int_equal(pp.linked.count, rep.second_id_persons);
    assert_true(rep.second_id_persons > 0);

    /* orders.csv */
    csv_file f;
    csv_open(&f, o.out_dir, "orders.csv",
             "order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,payment_method,"
             "coupon_used,discount,status");
    st_intern order_ids, rows_seen;
    st_intern_init(&order_ids);
    st_intern_init(&rows_seen);
    uint32_t *positive_lines = calloc(f.len, sizeof *positive_lines);
    uint8_t *order_flags = calloc(f.len, 1); /* 1 refunded, 2 coupon */
    bool *buyer = calloc(users + 1, sizeof *buyer);
    assert_true(positive_lines && order_flags && buyer);
    st_sv v[16], raw;
    bool quoted, added;
    int n;
    char prev_ts[20] = "";
    uint64_t rows = 0, returns = 0, app_rows = 0;
    while ((n = csv_record(&f.r, v, 16, &raw, &quoted)) != 0) {
        if (n != 13 || quoted) fail_msg("orders.csv: bad row '%.*s'", (int)raw.len, raw.ptr);
        rows++;
        intern(&rows_seen, raw, &added);
        if (!added) fail_msg("orders.csv: exact duplicate row '%.*s'", (int)raw.len, raw.ptr);
        uint32_t oid = intern(&order_ids, v[0], &added);
        if (!known_person(&pp, v[1])) fail_msg("orders.csv: unknown user '%.*s'", (int)v[1].len, v[1].ptr);
        app_rows += sv_starts(v[1], "app_");
        buyer[person_of(v[1])] = true;
        assert_true(is_ts(v[2]) && in_period(v[2]));
        if (memcmp(prev_ts, v[2].ptr, 19) > 0) fail_msg("orders.csv: %.19s after %s", v[2].ptr, prev_ts);
        memcpy(prev_ts, v[2].ptr, 19);
        int64_t amount = 0, quantity = 0, unit = 0, discount = 0;
        assert_true(money2(v[3], &amount) && st_sv_to_i64(v[4], &quantity) && money2(v[5], &unit));
        assert_true(unit > 0 && quantity != 0);
        if (amount != quantity * unit)
            fail_msg("orders.csv: amount %.*s != %.*s x %.*s", (int)v[3].len, v[3].ptr, (int)v[4].len, v[4].ptr,
                     (int)v[5].len, v[5].ptr);
        assert_true(amount <= 20001 * INT64_C(1000000)); /* order values are capped at 20000 */
        assert_true(one_of(v[6], categories) && v[7].len > 0 && one_of(v[8], channels) && one_of(v[9], payments));
        assert_true(one_of(v[10], flags01) && money2(v[11], &discount) && discount >= 0);
        assert_true(sv_is(v[12], "paid") || sv_is(v[12], "refunded"));
        if (amount < 0) {
            returns++;
            assert_true(sv_is(v[12], "paid") && discount == 0);
        } else {
            positive_lines[oid]++;
            /* a coupon line has a discount and only a coupon line has one */
            assert_int_equal(sv_is(v[10], "1"), discount > 0);
        }
        if (sv_is(v[12], "refunded")) order_flags[oid] |= 1;
        if (sv_is(v[10], "1")) order_flags[oid] |= 2;
    }
    csv_close(&f);
    uint64_t orders = order_ids.count, multi = 0, refunded = 0, coupon = 0, buyers = 0;
    for (size_t i = 0; i < orders; i++) {
        multi += positive_lines[i] > 1;
        refunded += (order_flags[i] & 1) != 0;
        coupon += (order_flags[i] & 2) != 0;
    }
    for (uint64_t i = 0; i <= users; i++) buyers += buyer[i];
    print_message("orders %llu rows %llu multi %llu refunded %llu coupon %llu returns %llu buyers %llu\n",
                  (unsigned long long)orders, (unsigned long long)rows, (unsigned long long)multi,
                  (unsigned long long)refunded, (unsigned long long)coupon, (unsigned long long)returns,
                  (unsigned long long)buyers);
    /* the report tells the truth about the file */
    assert_int_equal(rep.orders, orders);
    assert_int_equal(rep.orders_csv.rows, rows);
    assert_int_equal(rep.multi_line_orders, multi);
    assert_int_equal(rep.refunded_orders, refunded);
    assert_int_equal(rep.coupon_orders, coupon);
    assert_int_equal(rep.return_lines, returns);
    assert_int_equal(rep.buyers, buyers);
    for (int k = 0; k < ST_GEN_DIRT__COUNT; k++) assert_int_equal(rep.orders_csv.dirt[k], 0);
    /* sizes and shares as asked for */
    assert_true(orders > want_orders * 0.9 && orders < want_orders * 1.1);
    assert_true(multi > orders * 0.25 && multi < orders * 0.35);
    assert_true(refunded > orders * 0.02 && refunded < orders * 0.04);
    assert_true(returns > orders * 0.01 && returns < orders * 0.03);
    assert_true(coupon > orders * 0.02 && coupon < orders * 0.10);
    assert_true(app_rows > 0);
    /* some persons only browse */
    assert_true(users - buyers > users * 0.08 && users - buyers < users * 0.25);

    /* events.csv */
    csv_open(&f, o.out_dir, "events.csv", "user_id,event_ts,event_type,session_id,item,keyword,page");
    uint64_t events = 0, by_type[16] = {0}, browsing_non_buyers = 0;
    st_intern sessions;
    st_intern_init(&sessions);
    prev_ts[0] = '\0';
    while ((n = csv_record(&f.r, v, 16, &raw, &quoted)) != 0) {
        if (n != 7 || quoted) fail_msg("events.csv: bad row '%.*s'", (int)raw.len, raw.ptr);
        events++;
        if (!known_person(&pp, v[0])) fail_msg("events.csv: unknown user '%.*s'", (int)v[0].len, v[0].ptr);
        assert_true(is_ts(v[1]) && in_period(v[1]));
        if (memcmp(prev_ts, v[1].ptr, 19) > 0) fail_msg("events.csv: %.19s after %s", v[1].ptr, prev_ts);
        memcpy(prev_ts, v[1].ptr, 19);
        size_t t = 0;
        while (event_types[t] && !sv_is(v[2], event_types[t])) t++;
        if (!event_types[t]) fail_msg("events.csv: type '%.*s'", (int)v[2].len, v[2].ptr);
        by_type[t]++;
        assert_true(v[3].len > 0 && v[6].len > 0);
        intern(&sessions, v[3], &added);
        assert_int_equal(sv_is(v[2], "search"), v[5].len > 0); /* keyword only on search */
        bool is_buyer = buyer[person_of(v[0])];
        if (sv_is(v[2], "purchase")) assert_true(is_buyer);
        browsing_non_buyers += !is_buyer;
    }
    csv_close(&f);
    print_message("events %llu sessions %zu views %llu carts %llu purchases %llu by non-buyers %llu\n",
                  (unsigned long long)events, sessions.count, (unsigned long long)by_type[0],
                  (unsigned long long)by_type[2], (unsigned long long)by_type[10],
                  (unsigned long long)browsing_non_buyers);
    assert_int_equal(rep.events_csv.rows, events);
    assert_int_equal(rep.sessions, sessions.count);
    assert_int_equal(rep.purchase_events, by_type[10]);
    assert_true(events > want_events * 0.9 && events < want_events * 1.1);
    /* a funnel: views >> carts >> purchases > 0; sessions hold several events */
    assert_true(by_type[0] > 3 * by_type[2] && by_type[2] > by_type[10] && by_type[10] > 0);
    assert_true(events > 3 * sessions.count);
    assert_true(browsing_non_buyers > 0);

    st_intern_clear(&sessions);
    st_intern_clear(&order_ids);
    st_intern_clear(&rows_seen);
    st_intern_clear(&pp.users);
    st_intern_clear(&pp.linked);
    free(positive_lines);
    free(order_flags);
    free(buyer);
}

/* Count the problems of each kind in a file, the way a cleaning step would see them. */
static void count_dirt(const char *dir, const char *name, const char *header, int user_col, int ts_col,
                       int amount_col,
                       uint64_t found[ST_GEN_DIRT__COUNT], uint64_t *rows)
{
    csv_file f;
    csv_open(&f, dir, name, header);
    st_sv v[16], raw, prev = {0};
    bool quoted;
    int n, fields = -1;
    *rows = 0;
    memset(found, 0, ST_GEN_DIRT__COUNT * sizeof *found);
    while ((n = csv_record(&f.r, v, 16, &raw, &quoted)) != 0) {
        if (n < 0) fail_msg("%s: malformed row after '%.*s'", name, (int)prev.len, prev.ptr);
        if (fields < 0) fields = n;
        assert_int_equal(n, fields);
        (*rows)++;
        if (st_sv_eq(raw, prev)) {
            found[ST_GEN_DIRT_DUPLICATE]++;
            prev = (st_sv){0};
            continue;
        }
        prev = raw;
        found[ST_GEN_DIRT_MISSING_USER] += v[user_col].len == 0;
        found[ST_GEN_DIRT_BAD_DATE] += !is_ts(v[ts_col]);
        bool comma_inside = false;
        for (int k = 0; k < n; k++) comma_inside |= v[k].len && memchr(v[k].ptr, ',', v[k].len) != NULL;
        found[ST_GEN_DIRT_QUOTED_COMMA] += quoted && comma_inside;
        if (amount_col >= 0) {
            int64_t amount = 0;
            if (!money2(v[amount_col], &amount)) found[ST_GEN_DIRT_BAD_AMOUNT]++;
            else found[ST_GEN_DIRT_ABSURD_AMOUNT] += amount >= INT64_C(1000000000) * 1000000;
        }
    }
    csv_close(&f);
}

static void dirt_is_injected_and_counted(void **state)
{
    (void)state;
    const double dirt = 0.05;
    strata_gen_opts o = opts_for(TEST_DIR "/dirty", 2000, 16000, 40000, 9, dirt);
    st_gen_report rep;
    assert_int_equal(st_gen_run(ctx, &o, &rep), STRATA_OK);
    uint64_t found[ST_GEN_DIRT__COUNT], rows;
    struct {
        const char *name, *header;
        int user_col, ts_col, amount_col;
        const st_gen_file_counts *counts;
        unsigned kinds; /* bit per st_gen_dirt expected */
    } files[] = {
        {"orders.csv",
         "order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,payment_method,coupon_used,"
         "discount,status",
         1, 2, 3, &rep.orders_csv, 0x3f},
        {"events.csv", "user_id,event_ts,event_type,session_id,item,keyword,page", 0, 1, -1, &rep.events_csv, 0x27},
        {"users.csv",
         "user_id,signup_ts,gender,birth_year,region,acquisition_channel,cac,consent_sms,consent_push,consent_email,"
         "consent_wecom,nps",
         0, 1, -1, &rep.users_csv, 0x05},
    };
    for (size_t i = 0; i < ST_ARRAY_LEN(files); i++) {
        count_dirt(o.out_dir, files[i].name, files[i].header, files[i].user_col, files[i].ts_col,
                   files[i].amount_col, found, &rows);
        assert_int_equal(rows, files[i].counts->rows);
        uint64_t dirty = 0;
        for (int k = 0; k < ST_GEN_DIRT__COUNT; k++) {
            print_message("%s %s: report %llu, found %llu\n", files[i].name, st_gen_dirt_key((st_gen_dirt)k),
                          (unsigned long long)files[i].counts->dirt[k], (unsigned long long)found[k]);
            assert_int_equal(found[k], files[i].counts->dirt[k]);
            assert_int_equal(found[k] > 0, (files[i].kinds >> k) & 1);
            dirty += found[k];
        }
        /* the requested share, within sampling noise */
        double share = (double)dirty / (double)rows;
        assert_true(share > dirt * 0.6 && share < dirt * 1.4);
    }
    /* the same run without dirt: the dirty orders.csv is the clean one with the dirty rows
     * changed in place and the duplicates inserted */
    strata_gen_opts clean = opts_for(TEST_DIR "/dirty_clean", 2000, 16000, 40000, 9, 0);
    assert_int_equal(strata_gen(ctx, &clean), STRATA_OK);
    size_t dirty_len, clean_len;
    char *dirty_data = slurp(o.out_dir, "orders.csv", &dirty_len);
    char *clean_data = slurp(clean.out_dir, "orders.csv", &clean_len);
    uint64_t changed = 0, skipped = 0;
    char *d = dirty_data, *c = clean_data, *prev = NULL;
    size_t prev_len = 0;
    while (*d && *c) {
        char *d_end = strchr(d, '\n'), *c_end = strchr(c, '\n');
        size_t dl = (size_t)(d_end - d), cl = (size_t)(c_end - c);
        if (prev && dl == prev_len && memcmp(d, prev, dl) == 0) { /* an inserted duplicate */
            skipped++;
            prev = NULL;
            d = d_end + 1;
            continue;
        }
        changed += dl != cl || memcmp(d, c, dl) != 0;
        prev = d;
        prev_len = dl;
        d = d_end + 1;
        c = c_end + 1;
    }
    assert_true(*d == '\0' && *c == '\0');
    uint64_t in_place = 0;
    for (int k = 1; k < ST_GEN_DIRT__COUNT; k++) in_place += rep.orders_csv.dirt[k];
    assert_int_equal(skipped, rep.orders_csv.dirt[ST_GEN_DIRT_DUPLICATE]);
    assert_int_equal(changed, in_place);
    free(dirty_data);
    free(clean_data);

    /* identities stay clean; their rows still parse */
    count_dirt(o.out_dir, "identities.csv", "user_id,id_type,id_value", 0, 2, -1, found, &rows);
    assert_int_equal(rows, rep.identities_csv.rows);
}

static void bad_options(void **state)
{
    (void)state;
    strata_gen_opts o = opts_for(TEST_DIR "/bad", 0, 10, 0, 1, 0);
    assert_int_equal(strata_gen(ctx, &o), STRATA_EINVAL);
    o = opts_for(TEST_DIR "/bad", 10, 10, 0, 1, 0.7);
    assert_int_equal(strata_gen(ctx, &o), STRATA_EINVAL);
    o = opts_for(TEST_DIR "/bad", 10, 10, 0, 1, 0);
    o.days = 40000;
    assert_int_equal(strata_gen(ctx, &o), STRATA_EINVAL);
    o = opts_for(NULL, 10, 10, 0, 1, 0);
    assert_int_equal(strata_gen(ctx, &o), STRATA_EINVAL);
    o = opts_for(TEST_DIR "/bad", (uint64_t)1 << 40, 10, 0, 1, 0);
    assert_int_equal(strata_gen(ctx, &o), STRATA_ELIMIT);
    /* a file where the directory should be */
    FILE *f = fopen(TEST_DIR "/a_file", "w");
    assert_non_null(f);
    fclose(f);
    o = opts_for(TEST_DIR "/a_file/out", 10, 10, 0, 1, 0);
    assert_int_equal(strata_gen(ctx, &o), STRATA_EIO);
    assert_non_null(strstr(strata_errmsg(ctx), TEST_DIR "/a_file"));
}

static void custom_period(void **state)
{
    (void)state;
    strata_gen_opts o = opts_for(TEST_DIR "/period", 300, 1500, 2000, 2, 0);
    assert_int_equal(strata_day_parse("2019-12-20", &o.start_day), STRATA_OK);
    o.days = 40; /* crosses a year end */
    st_gen_report rep;
    assert_int_equal(st_gen_run(ctx, &o, &rep), STRATA_OK);
    const char *files[] = {"orders.csv", "events.csv"};
    for (int i = 0; i < 2; i++) {
        size_t len;
        char *data = slurp(o.out_dir, files[i], &len);
        /* every timestamp lies in [2019-12-20, 2020-01-29) */
        uint64_t seen_2020 = 0;
        for (char *p = strstr(data, "\n"); p && p[1]; p = strchr(p + 1, '\n')) {
            char *ts = i == 0 ? strchr(strchr(p + 1, ',') + 1, ',') + 1 : strchr(p + 1, ',') + 1;
            assert_true(memcmp(ts, "2019-12-20", 10) >= 0 && memcmp(ts, "2020-01-29", 10) < 0);
            seen_2020 += memcmp(ts, "2020", 4) == 0;
        }
        assert_true(seen_2020 > 0);
        free(data);
    }
    assert_true(rep.orders > 1500 * 0.8 && rep.orders < 1500 * 1.2);
}

/* Few persons with many orders each: the shared device cannot take more ids than exist,
 * and dropout must be scaled down so the request is still met. */
static void tiny_populations(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {1, 2, 24, 25, 30};
    for (size_t i = 0; i < ST_ARRAY_LEN(sizes); i++) {
        strata_gen_opts o = opts_for(TEST_DIR "/tiny", sizes[i], 150 * sizes[i], 100, 4, 0);
        o.days = 30;
        st_gen_report rep;
        assert_int_equal(st_gen_run(ctx, &o, &rep), STRATA_OK);
        assert_int_equal(rep.persons, sizes[i]);
        assert_int_equal(rep.shared_identifiers, sizes[i] >= 25 ? 1 : 0);
        if (sizes[i] >= 24) assert_true(rep.orders > 150 * sizes[i] * 0.6 && rep.orders < 150 * sizes[i] * 1.4);
    }
}

static void no_leak_even_when_allocation_fails(void **state)
{
    (void)state;
    strata_gen_opts o = opts_for(TEST_DIR "/oom", 60, 400, 800, 3, 0.05);
    size_t base = strata_memory_used();
    assert_int_equal(strata_gen(ctx, &o), STRATA_OK);
    assert_int_equal(strata_memory_used(), base);
    strata_status st = STRATA_ENOMEM;
    uint64_t nth;
    for (nth = 1; nth < 1000 && st != STRATA_OK; nth++) {
        strata_memory_fail_after(nth);
        st = strata_gen(ctx, &o);
        strata_memory_fail_after(0);
        if (st != STRATA_OK && st != STRATA_ENOMEM) fail_msg("allocation %llu: %s", (unsigned long long)nth, strata_errmsg(ctx));
        assert_int_equal(strata_memory_used(), base);
    }
    assert_int_equal(st, STRATA_OK);
    print_message("gen survives failure of each of its first %llu allocations\n", (unsigned long long)(nth - 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(same_seed_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(clean_files_are_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(dirt_is_injected_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_period, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_populations, setup, teardown),
        cmocka_unit_test_setup_teardown(no_leak_even_when_allocation_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
