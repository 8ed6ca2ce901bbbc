/* test_core.c — exact money parsing and printing, string views, interning, the counting
 * allocator with fault injection, and configuration errors that name line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/core.h"

#include <math.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static void micros_parsing(void **state)
{
    (void)state;
    struct {
        const char *text;
        bool ok;
        int64_t micros;
        bool rounded;
    } cases[] = {
        {"0", true, 0, false},
        {"12.5", true, 12500000, false},
        {"-3.25", true, -3250000, false},
        {"+7", true, 7000000, false},
        {" 1.000001 ", true, 1000001, false},
        {"0.0000005", true, 1, true},
        {"0.0000004", true, 0, true},
        {"-0.0000005", true, -1, true},
        {"1e3", true, 1000000000, false},
        {"2.5E-1", true, 250000, false},
        {".5", true, 500000, false},
        {"5.", true, 5000000, false},
        {"1.23456789", true, 1234568, true},
        {"9223372036854.775807", true, INT64_MAX, false},
        {"9223372036854.775808", false, 0, false},
        {"abc", false, 0, false},
        {"", false, 0, false},
        {"1.2.3", false, 0, false},
        {"1e", false, 0, false},
        {"-", false, 0, false},
        {"12,5", false, 0, false},
        {"0x10", false, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -99;
        bool rounded = false;
        bool ok = st_sv_to_micros(st_sv_cstr(cases[i].text), &v, &rounded);
        if (ok != cases[i].ok) fail_msg("'%s': ok=%d", cases[i].text, ok);
        if (ok) {
            assert_int_equal(v, cases[i].micros);
            assert_int_equal(rounded, cases[i].rounded);
        }
    }
}

/* st_popcount64 against the compiler's builtin: every single bit, every all-ones prefix and
 * pseudo-random words */
static void popcount_matches_builtin(void **state)
{
    (void)state;
    for (int b = 0; b < 64; b++) {
        assert_int_equal(st_popcount64((uint64_t)1 << b), 1);
        uint64_t prefix = b == 63 ? ~(uint64_t)0 : ((uint64_t)1 << (b + 1)) - 1;
        assert_int_equal(st_popcount64(prefix), (unsigned)b + 1);
    }
    assert_int_equal(st_popcount64(0), 0);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        assert_int_equal(st_popcount64(x), (unsigned)__builtin_popcountll(x));
    }
}

/* Every string of up to 5 bytes over an alphabet of digits, the bytes just outside '0'-'9',
 * dots, signs, a blank, a letter and a high byte, and every string of 6-9 bytes over smaller
 * alphabets (the word-at-a-time path takes up to 8 bytes after a sign): the inline fast paths
 * must give what the general parser gives, value and rounding. */
static void micros_fast_paths_match_general(void **state)
{
    (void)state;
    static const char *const alphabets[] = {"0159./:-+ x\xb0", "0159./:-+ x\xb0", "0159./:-+ x\xb0",
                                            "0159./:-+ x\xb0", "0159./:-+ x\xb0", "0159./",
                                            "0159./",          "09./-:",          "09.-"};
    char buf[16]; /* 9 bytes and a NUL; room past that keeps GCC's range analysis quiet under LTO */
    size_t checked = 0;
    for (size_t len = 1; len <= 9; len++) {
        const char *alphabet = alphabets[len - 1];
        size_t base = strlen(alphabet), total = 1;
        for (size_t i = 0; i < len; i++)
            total *= base;
        for (size_t code = 0; code < total; code++) {
            size_t c = code;
            for (size_t i = 0; i < len; i++) {
                buf[i] = alphabet[c % base];
                c /= base;
            }
            buf[len] = '\0';
            int64_t fast = -1, slow = -2;
            bool rf = true, rs = false;
            bool okf = st_sv_to_micros(st_sv_make(buf, len), &fast, &rf);
            bool oks = st_sv_to_micros_general(st_sv_make(buf, len), &slow, &rs);
            if (okf != oks) fail_msg("'%s': fast ok=%d, general ok=%d", buf, okf, oks);
            if (okf && (fast != slow || rf != rs))
                fail_msg("'%s': fast %lld/%d, general %lld/%d", buf, (long long)fast, rf,
                         (long long)slow, rs);
            checked++;
        }
    }
    assert_true(checked > 2500000);
}

/* Random decimals of every shape near the fast path's edges (digit counts, signs, a dot with
 * nothing after it, exponents, junk) against an exact reference built here. */
static void micros_random_against_reference(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 200000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char buf[64];
        size_t n = 0;
        int sign = (int)(x % 3), nint = (int)((x >> 2) % 15), nfrac = (int)((x >> 6) % 9);
        bool dot = (x >> 10) & 1, junk = ((x >> 11) % 50) == 0;
        if (sign) buf[n++] = sign == 1 ? '-' : '+';
        uint64_t y = x;
        __int128 whole = 0, frac = 0;
        for (int i = 0; i < nint; i++, y = y * 6364136223846793005ull + 1) {
            int d = (int)((y >> 33) % 10);
            buf[n++] = (char)('0' + d);
            whole = whole * 10 + d;
        }
        int shown = dot ? nfrac : 0;
        if (dot) buf[n++] = '.';
        for (int i = 0; i < shown; i++, y = y * 6364136223846793005ull + 1) {
            int d = (int)((y >> 33) % 10);
            buf[n++] = (char)('0' + d);
            frac = frac * 10 + d;
        }
        if (junk) buf[n++] = 'x';
        buf[n] = '\0';
        int64_t got = -99;
        bool rounded = false;
        bool ok = st_sv_to_micros(st_sv_cstr(buf), &got, &rounded);
        bool any_digit = nint + shown > 0;
        if (junk || !any_digit) {
            if (ok) fail_msg("'%s' accepted as %lld", buf, (long long)got);
            continue;
        }
        /* exact value in micros, rounded half away from zero past 6 fraction digits */
        __int128 scaled = whole * 1000000, f = frac;
        int fd = shown;
        bool lost = false;
        while (fd > 6) {
            int last = (int)(f % 10);
            f /= 10, fd--;
            if (fd == 6 && last >= 5) f += 1;
            lost |= last != 0;
        }
        for (; fd < 6; fd++)
            f *= 10;
        __int128 want = scaled + f;
        if (want > INT64_MAX) {
            if (ok) fail_msg("'%s' accepted past the range", buf);
            continue;
        }
        if (!ok) fail_msg("'%s' refused", buf);
        if (sign == 1) want = -want;
        if ((__int128)got != want)
            fail_msg("'%s' gave %lld, want %lld", buf, (long long)got, (long long)want);
        if (rounded != lost) fail_msg("'%s': rounded=%d", buf, rounded);
    }
}

/* Trimming removes spaces and tabs at both ends and nothing else, whatever the edge bytes. */
static void trim_only_blanks(void **state)
{
    (void)state;
    for (int a = 0; a < 256; a++)
        for (int z = 0; z < 256; z += (z < 40 ? 1 : 7)) {
            char text[4] = {(char)a, 'x', (char)z, 0};
            for (size_t len = 1; len <= 3; len++) {
                st_sv v = st_sv_trim(st_sv_make(text, len));
                size_t lo = 0, hi = len;
                while (lo < hi && (text[lo] == ' ' || text[lo] == '\t'))
                    lo++;
                while (hi > lo && (text[hi - 1] == ' ' || text[hi - 1] == '\t'))
                    hi--;
                if (v.ptr != text + lo || v.len != hi - lo)
                    fail_msg("bytes %d,x,%d (%zu): got [%td, +%zu)", a, z, len, v.ptr - text,
                             v.len);
            }
        }
}

static void micros_printing(void **state)
{
    (void)state;
    struct {
        int64_t v;
        const char *text;
    } cases[] = {{0, "0.00"},
                 {12500000, "12.50"},
                 {-3250000, "-3.25"},
                 {105000, "0.105"},
                 {1, "0.000001"},
                 {123456789012, "123456.789012"},
                 {INT64_MIN + 1, "-9223372036854.775807"},
                 {INT64_MIN, "-9223372036854.775808"},
                 {-10000, "-0.01"},
                 {7000000, "7.00"},
                 {99990000, "99.99"},
                 {-990000, "-0.99"},
                 {1230000000000, "1230000.00"},
                 {INT64_MAX - 775807 + 770000, "9223372036854.77"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_buf b;
        st_buf_init(&b, 0);
        assert_int_equal(st_buf_micros(&b, cases[i].v), STRATA_OK);
        assert_string_equal(b.data, cases[i].text);
        st_buf_clear(&b);
    }
    /* random amounts, whole cents and not, against printf with the zeros trimmed by hand */
    uint64_t x = 0x243f6a8885a308d3ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (x % 40));
        if (x % 3 == 0) v -= v % 10000;
        if (x % 5 == 0) v = -v;
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        char want[48], got[ST_FMT_NUMBER_MAX + 1];
        int n = snprintf(want, sizeof want, "%s%llu.%06llu", v < 0 ? "-" : "",
                         (unsigned long long)(mag / 1000000), (unsigned long long)(mag % 1000000));
        while (want[n - 1] == '0' && want[n - 3] != '.')
            want[--n] = '\0';
        char *end = st_fmt_micros(got, v);
        *end = '\0';
        assert_string_equal(got, want);
    }
}

typedef struct key_pair {
    uint64_t key;
    uint32_t val;
} key_pair;

static int key_pair_cmp(const void *a, const void *b)
{
    const key_pair *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->val < y->val ? -1 : x->val > y->val; /* vals are input positions: stable */
}

/* The radix sort against qsort by (key, input position), on keys that vary in no byte, in
 * one, in a few scattered ones and in all eight. */
static void radix_sort_is_stable_and_total(void **state)
{
    (void)state;
    static const uint64_t masks[] = {0,
                                     0xff,
                                     0x80,
                                     0x8000000000000000ull,
                                     0xff00ff0000ull,
                                     0xff000000000000ffull,
                                     0x00ffffff00000000ull,
                                     ~0ull};
    uint64_t x = 0x6a09e667f3bcc909ull;
    for (size_t m = 0; m < ST_ARRAY_LEN(masks); m++)
        for (size_t n = 0; n < 3000; n = n * 3 + 1) {
            uint64_t *keys = st_malloc((n + 1) * sizeof *keys);
            uint32_t *vals = st_malloc((n + 1) * sizeof *vals);
            key_pair *want = st_malloc((n + 1) * sizeof *want);
            assert_non_null(keys), assert_non_null(vals), assert_non_null(want);
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                keys[i] = 0x1234567890abcdefull ^ (x & masks[m] & (i % 3 ? ~0ull : 0xf0f0));
                vals[i] = (uint32_t)i;
                want[i] = (key_pair){keys[i], (uint32_t)i};
            }
            qsort(want, n, sizeof *want, key_pair_cmp);
            uint64_t *alone = st_malloc((n + 1) * sizeof *alone); /* the keys-only sort */
            assert_non_null(alone);
            memcpy(alone, keys, n * sizeof *keys);
            assert_int_equal(st_radix_sort_pairs(keys, vals, n), STRATA_OK);
            assert_int_equal(st_radix_sort_pairs(alone, NULL, n), STRATA_OK);
            for (size_t i = 0; i < n; i++)
                if (keys[i] != want[i].key || vals[i] != want[i].val || alone[i] != want[i].key)
                    fail_msg("mask %zu, n %zu: position %zu differs", m, n, i);
            st_free(keys), st_free(vals), st_free(want), st_free(alone);
        }
}

static void numbers_printing(void **state)
{
    (void)state;
    struct {
        double v;
        int digits;
        const char *text;
    } d[] = {{0.5, 4, "0.5"},        {1.0 / 3, 4, "0.3333"},
             {2.0 / 3, 4, "0.6667"}, {62.5, 4, "62.5"},
             {35, 2, "35"},          {-0.00001, 4, "0"},
             {-1.25, 2, "-1.25"},    {1e12, 2, "1000000000000"},
             {0.99999, 4, "1"},      {123.456, 0, "123"}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        st_buf b;
        st_buf_init(&b, 0);
        assert_int_equal(st_buf_double(&b, d[i].v, d[i].digits), STRATA_OK);
        assert_string_equal(b.data, d[i].text);
        st_buf_clear(&b);
    }
    /* reals of every size and precision against llround and printf */
    uint64_t y = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < 200000; i++) {
        y ^= y << 13, y ^= y >> 7, y ^= y << 17;
        int digits = (int)(y % 7);
        double v = (double)(y >> 11) / (double)(1ull << 53) * pow(10, (double)(y % 13) - 4);
        if (y % 5 == 0) v = -v;
        if (y % 11 == 0) v = floor(v * 1000) / 1000 + 0.0005; /* near a rounding edge */
        uint64_t mag = (uint64_t)llround(fabs(v) * pow(10, digits));
        char want[64], got[ST_FMT_NUMBER_MAX + 1];
        if (mag == 0) {
            strcpy(want, "0");
        } else {
            uint64_t scale = 1;
            for (int k = 0; k < digits; k++)
                scale *= 10;
            int shown = digits;
            uint64_t frac = mag % scale;
            while (shown > 0 && frac % 10 == 0)
                frac /= 10, shown--;
            int n = snprintf(want, sizeof want, "%s%llu", v < 0 ? "-" : "",
                             (unsigned long long)(mag / scale));
            if (shown)
                snprintf(want + n, sizeof want - (size_t)n, ".%0*llu", shown,
                         (unsigned long long)frac);
        }
        char *end = st_fmt_double(got, v, digits);
        assert_non_null(end);
        *end = '\0';
        if (strcmp(got, want))
            fail_msg("%.17g with %d digits: '%s', want '%s'", v, digits, got, want);
    }
    /* integers of every length and both signs against printf */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (x % 64));
        if (x % 7 == 0) v = -v;
        char want[32], got[ST_FMT_NUMBER_MAX + 1];
        snprintf(want, sizeof want, "%lld", (long long)v);
        *st_fmt_i64(got, v) = '\0';
        assert_string_equal(got, want);
    }
    int64_t ints[] = {0, 7, -7, 1234567890123LL, INT64_MIN, INT64_MAX};
    const char *texts[] = {
        "0", "7", "-7", "1234567890123", "-9223372036854775808", "9223372036854775807"};
    for (size_t i = 0; i < 6; i++) {
        st_buf b;
        st_buf_init(&b, 0);
        assert_int_equal(st_buf_i64(&b, ints[i]), STRATA_OK);
        assert_string_equal(b.data, texts[i]);
        st_buf_clear(&b);
    }
}

static void buffers_are_bounded(void **state)
{
    (void)state;
    st_buf b;
    st_buf_init(&b, 8);
    assert_int_equal(st_buf_puts(&b, "12345678"), STRATA_OK);
    assert_int_equal(st_buf_putc(&b, 'x'), STRATA_ELIMIT);
    assert_int_equal(b.len, 8);
    st_buf_reset(&b);
    assert_int_equal(st_buf_csv_field(&b, "a,\"b", 4), STRATA_OK);
    assert_string_equal(b.data, "\"a,\"\"b\"");
    st_buf_clear(&b);
    st_buf_init(&b, 0);
    assert_int_equal(st_buf_json_string(&b, "q\"\n\x01", 4), STRATA_OK);
    assert_string_equal(b.data, "\"q\\\"\\n\\u0001\"");
    st_buf_clear(&b);
}

static void interning(void **state)
{
    (void)state;
    st_intern t;
    st_intern_init(&t);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof name, "id-%d", i);
        bool added;
        assert_int_equal(st_intern_put(&t, name, (size_t)n, st_hash64(name, (size_t)n), &added),
                         (uint32_t)i);
        assert_true(added);
    }
    assert_int_equal(st_intern_find(&t, "id-4321", 7, st_hash64("id-4321", 7)), 4321);
    assert_int_equal(st_intern_find(&t, "id-5000", 7, st_hash64("id-5000", 7)), ST_INTERN_NONE);
    assert_string_equal(t.strs[17], "id-17");
    st_intern_clear(&t);
}

/* The table's growth: 200k strings through eight doublings in place (every id found again
 * after each), strings whose hashes pile onto the table's last home until the cluster runs past
 * the tail (the table is rebuilt larger), reserve, and the doubling when a cluster already sits
 * in the tail. Hashes are chosen by the test: the table takes them as given. */
static void interning_growth(void **state)
{
    (void)state;
    char name[32];
    st_intern t;
    st_intern_init(&t);
    for (uint32_t i = 0; i < 200000; i++) {
        int n = snprintf(name, sizeof name, "k%u", i);
        assert_int_equal(st_intern_put(&t, name, (size_t)n, st_hash64(name, (size_t)n), NULL), i);
        if ((i & (i - 1)) == 0 || i % 49999 == 0) /* around each doubling: every id still there */
            for (uint32_t j = 0; j <= i; j++) {
                n = snprintf(name, sizeof name, "k%u", j);
                assert_int_equal(st_intern_find(&t, name, (size_t)n, st_hash64(name, (size_t)n)),
                                 j);
            }
    }
    assert_true(t.mask + 1 >= 400000);
    /* a doubling of the mapped table that cannot get memory leaves it as it was */
    {
        uint32_t next = (uint32_t)t.count;
        int len;
        for (; (t.count + 1) * 2 <= t.mask + 1; next++) {
            len = snprintf(name, sizeof name, "k%u", next);
            assert_int_equal(
                st_intern_put(&t, name, (size_t)len, st_hash64(name, (size_t)len), NULL), next);
        }
        size_t homes = t.mask + 1;
        len = snprintf(name, sizeof name, "k%u", next);
        strata_memory_fail_after(1);
        assert_int_equal(st_intern_put(&t, name, (size_t)len, st_hash64(name, (size_t)len), NULL),
                         ST_INTERN_NONE);
        strata_memory_fail_after(0);
        assert_int_equal(t.mask + 1, homes);
        for (uint32_t j = 0; j < next; j += 7) {
            len = snprintf(name, sizeof name, "k%u", j);
            assert_int_equal(st_intern_find(&t, name, (size_t)len, st_hash64(name, (size_t)len)),
                             j);
        }
        len = snprintf(name, sizeof name, "k%u", next);
        assert_int_equal(st_intern_put(&t, name, (size_t)len, st_hash64(name, (size_t)len), NULL),
                         next);
        assert_int_equal(t.mask + 1, 2 * homes);
    }
    st_intern_clear(&t);

    /* 300 strings homed on the last slot of a 1024-slot table: the cluster outgrows the
     * 256-slot tail, the table is rebuilt (twice) until their homes spread */
    st_intern_init(&t);
    for (uint32_t i = 0; i < 300; i++) {
        int n = snprintf(name, sizeof name, "c%u", i);
        uint64_t h = (uint64_t)i << 12 | 0xfff;
        assert_int_equal(st_intern_put(&t, name, (size_t)n, h, NULL), i);
    }
    assert_true(t.mask + 1 >= 8192);
    for (uint32_t i = 0; i < 300; i++) {
        int n = snprintf(name, sizeof name, "c%u", i);
        assert_int_equal(st_intern_find(&t, name, (size_t)n, (uint64_t)i << 12 | 0xfff), i);
        assert_int_equal(st_intern_find(&t, name, (size_t)n, (uint64_t)i << 12 | 0xffe),
                         ST_INTERN_NONE);
    }
    /* the same strings again are found, not added; then enough others to double in place
     * with the long cluster still sitting at the top and in the tail */
    for (uint32_t i = 0; i < 300; i++) {
        int n = snprintf(name, sizeof name, "c%u", i);
        bool added = true;
        assert_int_equal(st_intern_put(&t, name, (size_t)n, (uint64_t)i << 12 | 0xfff, &added), i);
        assert_false(added);
    }
    size_t before = t.mask + 1;
    for (uint32_t i = 300; t.mask + 1 == before; i++) {
        int n = snprintf(name, sizeof name, "d%u", i);
        assert_int_equal(st_intern_put(&t, name, (size_t)n, st_hash64(name, (size_t)n), NULL), i);
    }
    for (uint32_t i = 0; i < t.count; i++) {
        st_sv v = st_intern_str(&t, i);
        uint64_t h = i < 300 ? (uint64_t)i << 12 | 0xfff : st_hash64(v.ptr, v.len);
        assert_int_equal(st_intern_find(&t, v.ptr, v.len, h), i);
    }
    st_intern_clear(&t);

    /* the last home slot of a 1024-slot table holds a string that moves up when the table
     * doubles (home 2047) and one in the tail that stays (home 1023) */
    st_intern_init(&t);
    assert_int_equal(st_intern_put(&t, "up", 2, 0x7ff, NULL), 0);
    assert_int_equal(st_intern_put(&t, "stay", 4, 0x3ff, NULL), 1);
    for (uint32_t i = 2; t.mask + 1 == 1024; i++) {
        int n = snprintf(name, sizeof name, "e%u", i);
        assert_int_equal(st_intern_put(&t, name, (size_t)n, st_hash64(name, (size_t)n), NULL), i);
    }
    assert_int_equal(st_intern_find(&t, "up", 2, 0x7ff), 0);
    assert_int_equal(st_intern_find(&t, "stay", 4, 0x3ff), 1);
    for (uint32_t i = 2; i < t.count; i++) {
        st_sv v = st_intern_str(&t, i);
        assert_int_equal(st_intern_find(&t, v.ptr, v.len, st_hash64(v.ptr, v.len)), i);
    }
    assert_true(st_intern_reserve(&t, 100000));
    assert_true(t.mask + 1 >= 200000);
    assert_int_equal(st_intern_find(&t, "up", 2, 0x7ff), 0);
    assert_int_equal(st_intern_find(&t, "stay", 4, 0x3ff), 1);
    for (uint32_t i = 2; i < t.count; i++) {
        st_sv v = st_intern_str(&t, i);
        assert_int_equal(st_intern_find(&t, v.ptr, v.len, st_hash64(v.ptr, v.len)), i);
    }
    st_intern_clear(&t);
}

static void allocator_counts_and_fails(void **state)
{
    (void)state;
    size_t before = strata_memory_used();
    void *p = st_malloc(1000);
    assert_non_null(p);
    assert_true(strata_memory_used() >= before + 1000);
    st_free(p);
    assert_int_equal(strata_memory_used(), before);
    strata_memory_fail_after(2);
    void *a = st_malloc(10), *b = st_malloc(10), *c = st_malloc(10);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    st_free(a), st_free(c);
    /* a context creation under every possible failure point ends cleanly */
    for (uint64_t n = 1; n < 10; n++) {
        strata_memory_fail_after(n);
        strata_ctx *ctx = NULL;
        strata_status st = strata_ctx_create(&ctx);
        strata_memory_fail_after(0);
        if (st == STRATA_OK)
            strata_ctx_free(ctx);
        else
            assert_null(ctx);
    }
    assert_int_equal(strata_memory_used(), before);
}

static void config_errors_name_position(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *good = "timezone: Asia/Shanghai\norders:\n  columns:\n    user_id: CustomerID\n"
                       "tiers:\n  cuts: [0.1, 0.3, 0.6, 0.9]\n";
    assert_int_equal(st_config_load_buffer(ctx, "good.yaml", good, strlen(good)), STRATA_OK);
    assert_string_equal(strata_config_get(ctx, "orders.columns.user_id"), "CustomerID");
    assert_string_equal(strata_config_get(ctx, "tiers.cuts"), "0.1,0.3,0.6,0.9");
    const char *typo = "orders:\n  colums:\n    user_id: x\n";
    assert_int_equal(st_config_load_buffer(ctx, "typo.yaml", typo, strlen(typo)), STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(ctx), "typo.yaml:2:3"));
    assert_non_null(strstr(strata_errmsg(ctx), "unknown configuration section 'orders.colums'"));
    const char *badnum = "rfm:\n  weights:\n    r: lots\n";
    assert_int_equal(st_config_load_buffer(ctx, "n.yaml", badnum, strlen(badnum)), STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(ctx), "n.yaml:3:5"));
    const char *syntax = "a: [1, 2\n";
    assert_int_equal(st_config_load_buffer(ctx, "s.yaml", syntax, strlen(syntax)), STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(ctx), "s.yaml:"));
    assert_int_equal(strata_config_set(ctx, "clean.outliers", "explode"), STRATA_ECONFIG);
    assert_int_equal(strata_config_set(ctx, "clean.outliers", "CAP"), STRATA_OK);
    assert_string_equal(strata_config_get(ctx, "clean.outliers"), "cap");
    strata_ctx_free(ctx);
}

static void days(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(strata_day_parse("1970-01-01", &d), STRATA_OK);
    assert_int_equal(d, 0);
    assert_int_equal(strata_day_parse("2024-02-29", &d), STRATA_OK);
    assert_int_equal(d, 19782);
    assert_int_equal(strata_day_parse("2023-02-29", &d), STRATA_EINVAL);
    assert_int_equal(strata_day_parse("2024-1-01", &d), STRATA_EINVAL);
    char buf[11];
    strata_day_format(19782, buf);
    assert_string_equal(buf, "2024-02-29");
    strata_day_format(-1, buf);
    assert_string_equal(buf, "1969-12-31");
}

/* Flags: the words and letters of SPEC in any case, blanks around; anything else is junk,
 * every single byte checked. */
static void flags_parse(void **state)
{
    (void)state;
    static const char *const yes[] = {"1", "true", "TRUE", "Yes", "y", "T", " t ", "\ttrue"};
    static const char *const no[] = {"0", "false", "False", "NO", "n", "F", "no "};
    static const char *const junk[] = {"",      " ",   "2",  "ye", "tru", "yess",
                                       "truee", "0.0", "-1", "on", "off", "nope"};
    bool b;
    for (size_t i = 0; i < ST_ARRAY_LEN(yes); i++) {
        b = false;
        assert_true(st_sv_to_bool(st_sv_cstr(yes[i]), &b));
        assert_true(b);
    }
    for (size_t i = 0; i < ST_ARRAY_LEN(no); i++) {
        b = true;
        assert_true(st_sv_to_bool(st_sv_cstr(no[i]), &b));
        assert_false(b);
    }
    for (size_t i = 0; i < ST_ARRAY_LEN(junk); i++)
        assert_false(st_sv_to_bool(st_sv_cstr(junk[i]), &b));
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        bool ok = st_sv_to_bool(st_sv_make(&ch, 1), &b);
        bool want = strchr("01ynftYNFT", c) != NULL && c != 0;
        assert_int_equal(ok, want);
        if (ok) assert_int_equal(b, strchr("1ytYT", c) != NULL);
    }
}

/* Short strings compared by words: equal exactly when memcmp says so, for every length up
 * to 16 and a change at every position. */
static void short_strings_compare_like_memcmp(void **state)
{
    (void)state;
    char a[16], b[16];
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t len = 0; len <= 16; len++)
        for (int round = 0; round < 50; round++) {
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                a[i] = b[i] = (char)(x & (round % 2 ? 0xff : 0x3));
            }
            assert_true(st_short_eq(a, b, len));
            for (size_t i = 0; i < len; i++) {
                char keep = b[i];
                b[i] = (char)(b[i] ^ (1 << (round % 8)));
                assert_int_equal(st_short_eq(a, b, len), memcmp(a, b, len) == 0);
                assert_false(st_short_eq(a, b, len));
                b[i] = keep;
            }
        }
}

/* Short copies write exactly the bytes memcpy writes, for every length up to 16, and touch
 * nothing around them. */
static void short_copy_like_memcpy(void **state)
{
    (void)state;
    char src[16], dst[48], want[48];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)('a' + i);
    for (size_t len = 0; len <= 16; len++)
        for (size_t at = 0; at < 16; at++) {
            memset(dst, '#', sizeof dst), memset(want, '#', sizeof want);
            memcpy(want + at, src, len);
            st_short_copy(dst + at, src, len);
            assert_memory_equal(dst, want, sizeof dst);
        }
}

/* Each index of [0, n) is visited once, in chunks of the asked size, whatever the threads. */
typedef struct visit_log {
    _Atomic unsigned char *seen;
    atomic_size_t calls, bad_chunks;
    size_t chunk, n, fail_at;
} visit_log;

static strata_status visit(void *arg, size_t begin, size_t end, unsigned thread)
{
    visit_log *v = arg;
    atomic_fetch_add(&v->calls, 1);
    if (thread >= 64 || begin % v->chunk || end <= begin || end - begin > v->chunk || end > v->n ||
        (end - begin < v->chunk && end != v->n))
        atomic_fetch_add(&v->bad_chunks, 1);
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&v->seen[i], 1);
    return begin <= v->fail_at && v->fail_at < end ? STRATA_EIO : STRATA_OK;
}

static void parallel_chunks_cover_once(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 7, 64, 1000, 4099};
    static const size_t chunks[] = {1, 3, 64, 5000};
    static const unsigned threads[] = {1, 2, 3, 8};
    _Atomic unsigned char seen[4099];
    for (size_t a = 0; a < ST_ARRAY_LEN(sizes); a++)
        for (size_t b = 0; b < ST_ARRAY_LEN(chunks); b++)
            for (size_t c = 0; c < ST_ARRAY_LEN(threads); c++) {
                size_t n = sizes[a];
                for (size_t i = 0; i < n; i++)
                    atomic_init(&seen[i], 0);
                visit_log v = {seen, 0, 0, chunks[b], n, SIZE_MAX};
                assert_int_equal(st_parallel_chunks(threads[c], n, chunks[b], visit, &v),
                                 STRATA_OK);
                assert_int_equal(atomic_load(&v.bad_chunks), 0);
                assert_int_equal(atomic_load(&v.calls), (n + chunks[b] - 1) / chunks[b]);
                for (size_t i = 0; i < n; i++)
                    assert_int_equal(atomic_load(&seen[i]), 1);
            }
    /* a failing chunk is reported and stops the chunks not yet started */
    for (size_t i = 0; i < 4099; i++)
        atomic_init(&seen[i], 0);
    visit_log v = {seen, 0, 0, 1, 4099, 5};
    assert_int_equal(st_parallel_chunks(2, 4099, 1, visit, &v), STRATA_EIO);
    assert_true(atomic_load(&v.calls) < 4099);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(micros_parsing),
        cmocka_unit_test(short_copy_like_memcpy),
        cmocka_unit_test(trim_only_blanks),
        cmocka_unit_test(micros_fast_paths_match_general),
        cmocka_unit_test(popcount_matches_builtin),
        cmocka_unit_test(micros_random_against_reference),
        cmocka_unit_test(micros_printing),
        cmocka_unit_test(radix_sort_is_stable_and_total),
        cmocka_unit_test(numbers_printing),
        cmocka_unit_test(buffers_are_bounded),
        cmocka_unit_test(interning),
        cmocka_unit_test(interning_growth),
        cmocka_unit_test(allocator_counts_and_fails),
        cmocka_unit_test(config_errors_name_position),
        cmocka_unit_test(days),
        cmocka_unit_test(parallel_chunks_cover_once),
        cmocka_unit_test(short_strings_compare_like_memcmp),
        cmocka_unit_test(flags_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
