/*
 * test_time.c — unit tests for timestamp parsing (src/core/time.c) and time zones
 * (src/core/tz.c), contract in src/core/timefmt.h.
 *
 * Expected values are independent of the code under test:
 *   - day numbers and epoch seconds of civil dates come from Python
 *     (`(date(y,m,d) - date(1970,1,1)).days`, `datetime(...).timestamp()`);
 *   - offsets in real zones come from Python's zoneinfo (/usr/bin/python3) and agree with
 *     `TZ=Europe/London date -d @1711846800` (02:00:00 BST) and
 *     `TZ=America/New_York date -d @1730613600` (01:00:00 EST), run when writing this file;
 *   - offsets for hand-built TZif files with POSIX footers come from glibc, which evaluates
 *     the same TZ string itself: `TZ='<-02>2<-01>,M3.5.0/-1,M10.5.0/0' date -d @t +%z`.
 * Real zones are read from the system's tzdata; those tests skip when it is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/timefmt.h"

#define HOUR 3600
#define DAY 86400

/* Day numbers (days since 1970-01-01), from Python. */
#define D_1000_01_01 (-354285)
#define D_1969_12_31 (-1)
#define D_1999_12_31 10956
#define D_2000_02_29 11016
#define D_2023_11_15 19676
#define D_2024_01_01 19723
#define D_2024_02_29 19782
#define D_2024_03_05 19787
#define D_2024_03_06 19788
#define D_2024_03_31 19813
#define D_9999_12_31 2932896

/* Every text goes through st_ts_parse and st_ts_parse_memo (with a fresh memo, then with the
 * memo the text itself left): all must agree on acceptance and value. */
static bool parse(const char *text, st_ts_format fmt, const st_tz *tz, int64_t *out)
{
    *out = -777; /* a value no test expects */
    bool ok = st_ts_parse(st_sv_cstr(text), fmt, tz, out);
    st_ts_memo memo = {0};
    for (int pass = 0; pass < 2; pass++) {
        int64_t got = -777;
        bool got_ok = st_ts_parse_memo(st_sv_cstr(text), fmt, tz, &memo, &got);
        if (got_ok != ok || got != *out)
            fail_msg("'%s' (format %d): memo pass %d gives %d/%lld, plain %d/%lld", text, (int)fmt,
                     pass, got_ok, (long long)got, ok, (long long)*out);
    }
    return ok;
}

/* One memo over a sequence: a date equal in its first 8 bytes only, a clock out of range on
 * a remembered date, 'T' for ' ', blanks and zones on a remembered date, an invalid date after
 * a valid one. */
static void test_memo_sequence(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "2024-02-29 10:00:00", "2024-02-28 10:00:00",   "2024-02-28 23:59:59",
        "2024-02-28 24:00:00", "2024-02-28 10:60:00",   "2024-02-28 10:00:60",
        "2024-02-28T10:00:01", "2024-02-28 10:00:01Z",  " 2024-02-28 10:00:0",
        "2024-02-28 10:00:0 ", "2023-02-29 10:00:00",   "2023-02-28 1a:00:00",
        "2024-02-28x10:00:00", "2024-02-28 10-00:00",   "2024-02-29 10:00:00",
        "0999-12-31 10:00:00", "1000-01-01 00:00:00",   "2024-13-01 00:00:00",
        "2024-12-31 00:00:00", "2024-12-31 00:00:00.5",
    };
    st_tz *fixed = NULL;
    assert_int_equal(st_tz_load(NULL, "+05:45", &fixed), STRATA_OK);
    const st_tz *zones[] = {NULL, fixed};
    for (int f = ST_TS_AUTO; f <= ST_TS_EPOCH_MS; f++)
        for (int z = 0; z < 2; z++) {
            st_ts_memo memo = {0};
            for (size_t i = 0; i < ST_ARRAY_LEN(texts); i++) {
                int64_t want = -777, got = -777;
                bool ok = st_ts_parse(st_sv_cstr(texts[i]), (st_ts_format)f, zones[z], &want);
                bool got_ok =
                    st_ts_parse_memo(st_sv_cstr(texts[i]), (st_ts_format)f, zones[z], &memo, &got);
                if (got_ok != ok || got != want)
                    fail_msg(
                        "'%s' (format %d, zone %d) after %zu texts: memo %d/%lld, plain %d/%lld",
                        texts[i], f, z, i, got_ok, (long long)got, ok, (long long)want);
            }
        }
    int64_t t;
    st_ts_memo memo = {0};
    assert_true(st_ts_parse_memo(st_sv_cstr("2024-02-29 10:00:00"), ST_TS_AUTO, NULL, &memo, &t));
    assert_int_equal(t, (int64_t)D_2024_02_29 * 86400 + 36000);
    assert_true(st_ts_parse_memo(st_sv_cstr("2024-02-28 10:00:00"), ST_TS_AUTO, NULL, &memo, &t));
    assert_int_equal(t, (int64_t)(D_2024_02_29 - 1) * 86400 + 36000);
    st_tz_free(fixed);
}

static void expect_ok(const char *text, st_ts_format fmt, const st_tz *tz, int64_t want)
{
    int64_t got;
    if (!parse(text, fmt, tz, &got)) fail_msg("rejected '%s' (format %d)", text, (int)fmt);
    if (got != want)
        fail_msg("'%s' (format %d): got %lld, want %lld", text, (int)fmt, (long long)got,
                 (long long)want);
}

static void expect_bad(const char *text, st_ts_format fmt)
{
    int64_t got;
    if (parse(text, fmt, NULL, &got))
        fail_msg("accepted '%s' (format %d) as %lld", text, (int)fmt, (long long)got);
}

/* Load a system zone; false (and the test skips) when tzdata is not installed. */
static st_tz *system_zone(const char *name)
{
    st_tz *tz = NULL;
    if (st_tz_load(NULL, name, &tz) != STRATA_OK) return NULL;
    return tz;
}

#define NEED_ZONE(var, name)                                                                  \
    st_tz *var = system_zone(name);                                                           \
    if (!var) {                                                                               \
        print_message("tzdata missing: %s\n", name);                                          \
        skip();                                                                               \
    }

static void test_format_names(void **state)
{
    (void)state;
    assert_int_equal(st_ts_format_from_name("auto"), ST_TS_AUTO);
    assert_int_equal(st_ts_format_from_name("iso"), ST_TS_ISO);
    assert_int_equal(st_ts_format_from_name("ymd"), ST_TS_YMD);
    assert_int_equal(st_ts_format_from_name("ymd_slash"), ST_TS_YMD_SLASH);
    assert_int_equal(st_ts_format_from_name("mdy"), ST_TS_MDY);
    assert_int_equal(st_ts_format_from_name("epoch_s"), ST_TS_EPOCH_S);
    assert_int_equal(st_ts_format_from_name("EPOCH_MS"), ST_TS_EPOCH_MS);
    assert_int_equal(st_ts_format_from_name(NULL), ST_TS_AUTO);
    assert_int_equal(st_ts_format_from_name("dmy"), ST_TS_AUTO);
}

static void test_iso_dates(void **state)
{
    (void)state;
    expect_ok("2024-02-29", ST_TS_ISO, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_ok("2000-02-29", ST_TS_ISO, NULL, (int64_t)D_2000_02_29 * DAY); /* 400-year rule */
    expect_ok("1999-12-31", ST_TS_ISO, NULL, (int64_t)D_1999_12_31 * DAY);
    expect_ok("1969-12-31", ST_TS_ISO, NULL, (int64_t)D_1969_12_31 * DAY);
    expect_ok("1000-01-01", ST_TS_ISO, NULL, (int64_t)D_1000_01_01 * DAY);
    expect_ok("9999-12-31", ST_TS_ISO, NULL, (int64_t)D_9999_12_31 * DAY);
    expect_ok("  2024-02-29\t", ST_TS_ISO, NULL, (int64_t)D_2024_02_29 * DAY); /* blanks */
    expect_bad("1900-02-29", ST_TS_ISO); /* century, not a leap year */
    expect_bad("2023-02-29", ST_TS_ISO);
    expect_bad("2024-02-30", ST_TS_ISO);
    expect_bad("2024-04-31", ST_TS_ISO);
    expect_bad("2024-01-32", ST_TS_ISO);
    expect_bad("2024-13-01", ST_TS_ISO);
    expect_bad("2024-00-10", ST_TS_ISO);
    expect_bad("2024-01-00", ST_TS_ISO);
    expect_bad("0999-12-31", ST_TS_ISO); /* years 1000-9999 only */
    expect_bad("2024-3-05", ST_TS_ISO);
    expect_bad("2024-03-5", ST_TS_ISO);
    expect_bad("24-03-05", ST_TS_ISO);
    expect_bad("2024/03/05", ST_TS_ISO);
    expect_bad("2024-03-05x", ST_TS_ISO);
    expect_bad("2024-03-05Z", ST_TS_ISO); /* a zone needs a time */
    expect_bad("", ST_TS_ISO);
    expect_bad("   ", ST_TS_ISO);
    expect_bad("+2024-03-05", ST_TS_ISO);
    expect_bad("２０２４-03-05", ST_TS_ISO); /* full-width digits are not digits */
}

static void test_iso_datetimes(void **state)
{
    (void)state;
    const int64_t d = (int64_t)D_2024_03_05 * DAY;
    expect_ok("2024-03-05T10:20:30", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60 + 30);
    expect_ok("2024-03-05 10:20:30", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60 + 30);
    expect_ok("2024-03-05T10:20", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60); /* no seconds */
    expect_ok("2024-03-05T00:00:00", ST_TS_ISO, NULL, d);
    expect_ok("2024-03-05T23:59:59", ST_TS_ISO, NULL, d + DAY - 1);
    /* fractions are truncated, never rounded into the next second */
    expect_ok("2024-03-05T23:59:59.999", ST_TS_ISO, NULL, d + DAY - 1);
    expect_ok("2024-03-05T10:20:30.5", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60 + 30);
    expect_ok("2024-03-05T10:20:30.123456789", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60 + 30);
    expect_ok(" 2024-03-05T10:20:30.25Z ", ST_TS_ISO, NULL, d + 10 * HOUR + 20 * 60 + 30);
    expect_bad("2024-03-05T10:20:30.1234567890", ST_TS_ISO); /* over 9 fraction digits */
    expect_bad("2024-03-05T10:20:30.", ST_TS_ISO);
    expect_bad("2024-03-05T10:20.5", ST_TS_ISO); /* a fraction needs seconds */
    expect_bad("2024-03-05T10:20:30,5", ST_TS_ISO);
    expect_bad("2024-03-05T24:00:00", ST_TS_ISO);
    expect_bad("2024-03-05T24:00", ST_TS_ISO);
    expect_bad("2024-03-05T23:60:00", ST_TS_ISO);
    expect_bad("2024-03-05T23:59:60", ST_TS_ISO); /* no leap seconds */
    expect_bad("2024-03-05T10", ST_TS_ISO);
    expect_bad("2024-03-05T10:2", ST_TS_ISO);
    expect_bad("2024-03-05T10:20:3", ST_TS_ISO);
    expect_bad("2024-03-05T1:20:30", ST_TS_ISO);
    expect_bad("2024-03-05t10:20:30", ST_TS_ISO);
    expect_bad("2024-03-05  10:20:30", ST_TS_ISO);
    expect_bad("2024-03-05T10:20:30abc", ST_TS_ISO);
    expect_bad("2024-03-05T10:20:30 Z", ST_TS_ISO);
    expect_bad("2024-03-05T10:20:30 +08:00", ST_TS_ISO);
}

static void test_iso_zones(void **state)
{
    (void)state;
    const int64_t d = (int64_t)D_2024_03_05 * DAY;
    const int64_t t = d + 10 * HOUR; /* 2024-03-05T10:00 */
    /* tz NULL = UTC: the zone suffix moves the wall clock to UTC */
    expect_ok("2024-03-05T10:00:00Z", ST_TS_ISO, NULL, t);
    expect_ok("2024-03-05T10:00:00+08:00", ST_TS_ISO, NULL, t - 8 * HOUR);
    expect_ok("2024-03-05T10:00:00+0800", ST_TS_ISO, NULL, t - 8 * HOUR);
    expect_ok("2024-03-05T10:00:00+08", ST_TS_ISO, NULL, t - 8 * HOUR);
    expect_ok("2024-03-05T10:00-05:30", ST_TS_ISO, NULL, t + 5 * HOUR + 30 * 60);
    expect_ok("2024-03-05T10:00:00.5-0530", ST_TS_ISO, NULL, t + 5 * HOUR + 30 * 60);
    expect_ok("2024-03-05T10:00:00-00:00", ST_TS_ISO, NULL, t);
    /* into a fixed +08:00 zone: 20:00 at -05:00 is 01:00Z next day, 09:00 local */
    st_tz *east8 = NULL;
    assert_int_equal(st_tz_load(NULL, "+08:00", &east8), STRATA_OK);
    expect_ok("2024-03-05T20:00:00-05:00", ST_TS_ISO, east8,
              (int64_t)D_2024_03_06 * DAY + 9 * HOUR);
    expect_ok("2024-03-05T10:00:00+08:00", ST_TS_ISO, east8, t); /* same zone: unchanged */
    /* texts without a zone are already wall-clock time, whatever the zone */
    expect_ok("2024-03-05T10:00:00", ST_TS_ISO, east8, t);
    st_tz_free(east8);
    expect_bad("2024-03-05T10:00:00+8", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+08:0", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+080", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+08:000", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+24:00", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+08:60", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00+08-00", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00ZZ", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00z", ST_TS_ISO);
    expect_bad("2024-03-05T10:00:00UTC", ST_TS_ISO);
}

static void test_ymd(void **state)
{
    (void)state;
    expect_ok("20240229", ST_TS_YMD, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_ok("20000229", ST_TS_YMD, NULL, (int64_t)D_2000_02_29 * DAY);
    expect_ok(" 20240229 ", ST_TS_YMD, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_bad("19000229", ST_TS_YMD);
    expect_bad("20241301", ST_TS_YMD);
    expect_bad("20240100", ST_TS_YMD);
    expect_bad("2024022", ST_TS_YMD);
    expect_bad("202402290", ST_TS_YMD);
    expect_bad("2024-02-29", ST_TS_YMD); /* explicit formats accept only their own shape */
    expect_bad("2024022x", ST_TS_YMD);
}

static void test_ymd_slash(void **state)
{
    (void)state;
    const int64_t d = (int64_t)D_2024_02_29 * DAY;
    expect_ok("2024/02/29", ST_TS_YMD_SLASH, NULL, d);
    expect_ok("2024/02/29 23:59", ST_TS_YMD_SLASH, NULL, d + 23 * HOUR + 59 * 60);
    expect_ok("2024/02/29 23:59:59", ST_TS_YMD_SLASH, NULL, d + DAY - 1);
    expect_ok("2024/02/29 00:00:00", ST_TS_YMD_SLASH, NULL, d);
    expect_bad("1900/02/29", ST_TS_YMD_SLASH);
    /* one-digit month, day and hour, as Chinese spreadsheet exports write them */
    expect_ok("2024/2/29", ST_TS_YMD_SLASH, NULL, d);
    expect_ok("2024/2/29 9:05", ST_TS_YMD_SLASH, NULL, d + 9 * HOUR + 5 * 60);
    expect_ok("2024/1/5 9:03:07", ST_TS_YMD_SLASH, NULL, (int64_t)(D_2024_02_29 - 55) * DAY + 9 * HOUR + 3 * 60 + 7);
    expect_bad("2024/002/29", ST_TS_YMD_SLASH);
    expect_bad("2024/2/29 9:5", ST_TS_YMD_SLASH); /* minutes keep two digits */
    expect_bad("24/2/29", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 24:00", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23:60", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23:59:60", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23:59:", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29T23:59", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23:59Z", ST_TS_YMD_SLASH);
    expect_bad("2024/02/29 23:59:59.5", ST_TS_YMD_SLASH);
    expect_bad("2024/13/01", ST_TS_YMD_SLASH);
}

static void test_mdy(void **state)
{
    (void)state;
    const int64_t d = (int64_t)D_2024_02_29 * DAY;
    expect_ok("2/29/2024", ST_TS_MDY, NULL, d);
    expect_ok("02/29/2024", ST_TS_MDY, NULL, d);
    expect_ok("2/29/2024 9:05", ST_TS_MDY, NULL, d + 9 * HOUR + 5 * 60);
    expect_ok("2/29/2024 09:05", ST_TS_MDY, NULL, d + 9 * HOUR + 5 * 60);
    expect_ok("2/29/2024 23:59:59", ST_TS_MDY, NULL, d + DAY - 1);
    expect_ok("12/31/1999 0:00", ST_TS_MDY, NULL, (int64_t)D_1999_12_31 * DAY);
    expect_ok("1/1/2024", ST_TS_MDY, NULL, (int64_t)D_2024_01_01 * DAY);
    expect_bad("2/29/1900", ST_TS_MDY);
    expect_bad("2/30/2024", ST_TS_MDY);
    expect_bad("13/1/2024", ST_TS_MDY); /* month first: 13 is not a month */
    expect_bad("0/1/2024", ST_TS_MDY);
    expect_bad("1/0/2024", ST_TS_MDY);
    expect_bad("1/1/24", ST_TS_MDY); /* four-digit year */
    expect_bad("1/1/20245", ST_TS_MDY);
    expect_bad("123/1/2024", ST_TS_MDY);
    expect_bad("1//2024", ST_TS_MDY);
    expect_bad("1/1/2024 24:00", ST_TS_MDY);
    expect_bad("1/1/2024 9:5", ST_TS_MDY);
    expect_bad("1/1/2024 9", ST_TS_MDY);
    expect_bad("1/1/2024 9:05:", ST_TS_MDY);
    expect_bad("1/1/2024 9:05:60", ST_TS_MDY);
    expect_bad("1/1/2024 123:05", ST_TS_MDY);
    expect_bad("1/1/2024T9:05", ST_TS_MDY);
    expect_bad("1-1-2024", ST_TS_MDY);
}

static void test_epoch(void **state)
{
    (void)state;
    expect_ok("0", ST_TS_EPOCH_S, NULL, 0);
    expect_ok("1700000000", ST_TS_EPOCH_S, NULL, 1700000000);
    expect_ok("-1", ST_TS_EPOCH_S, NULL, -1); /* negative epoch in the explicit formats */
    expect_ok("-30610224000", ST_TS_EPOCH_S, NULL, -30610224000LL); /* 1000-01-01T00:00Z */
    expect_ok("253402300799", ST_TS_EPOCH_S, NULL, 253402300799LL); /* 9999-12-31T23:59:59Z */
    expect_bad("253402300800", ST_TS_EPOCH_S);
    expect_bad("-30610224001", ST_TS_EPOCH_S);
    expect_bad("99999999999999999999", ST_TS_EPOCH_S); /* would overflow int64 */
    expect_bad("+5", ST_TS_EPOCH_S);
    expect_bad("-", ST_TS_EPOCH_S);
    expect_bad("1e9", ST_TS_EPOCH_S);
    expect_bad("1700000000.5", ST_TS_EPOCH_S);
    expect_bad("17000 00000", ST_TS_EPOCH_S);
    expect_ok("1700000000999", ST_TS_EPOCH_MS, NULL, 1700000000); /* truncated */
    expect_ok("999", ST_TS_EPOCH_MS, NULL, 0);
    expect_ok("-1", ST_TS_EPOCH_MS, NULL, -1); /* floor: -1 ms is in second -1 */
    expect_ok("-1000", ST_TS_EPOCH_MS, NULL, -1);
    expect_ok("-1001", ST_TS_EPOCH_MS, NULL, -2);
    expect_bad("253402300800000", ST_TS_EPOCH_MS);
    expect_bad("2024-03-05", ST_TS_EPOCH_MS);
}

static void test_auto(void **state)
{
    (void)state;
    /* 8 digits = YYYYMMDD, never an epoch */
    expect_ok("20240229", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_bad("20241301", ST_TS_AUTO);
    /* 9-11 digits = epoch seconds */
    expect_ok("170000000", ST_TS_AUTO, NULL, 170000000);
    expect_ok("1700000000", ST_TS_AUTO, NULL, 1700000000);
    expect_ok("17000000000", ST_TS_AUTO, NULL, 17000000000LL);
    /* 12-14 digits = epoch milliseconds */
    expect_ok("170000000000", ST_TS_AUTO, NULL, 170000000);
    expect_ok("1700000000123", ST_TS_AUTO, NULL, 1700000000);
    expect_ok("17000000000999", ST_TS_AUTO, NULL, 17000000000LL);
    /* any other digit count, or a sign, is rejected */
    expect_bad("1234567", ST_TS_AUTO);
    expect_bad("123456789012345", ST_TS_AUTO);
    expect_bad("1", ST_TS_AUTO);
    expect_bad("-1700000000", ST_TS_AUTO);
    expect_bad("+1700000000", ST_TS_AUTO);
    /* the other shapes */
    expect_ok("2024-02-29", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_ok("2024-02-29T01:02:03Z", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY + 3723);
    expect_ok("2024/02/29 01:02:03", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY + 3723);
    expect_ok("2/29/2024 1:02:03", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY + 3723);
    expect_ok("12/1/2024", ST_TS_AUTO, NULL, (int64_t)(D_2024_02_29 + 276) * DAY); /* Dec 1 */
    expect_ok("12/31/1999", ST_TS_AUTO, NULL, (int64_t)D_1999_12_31 * DAY);
    expect_ok("\t1700000000 ", ST_TS_AUTO, NULL, 1700000000);
    expect_ok("2024/2/29", ST_TS_AUTO, NULL, (int64_t)D_2024_02_29 * DAY);
    expect_bad("29.02.2024", ST_TS_AUTO);
    expect_bad("Feb 29 2024", ST_TS_AUTO);
    expect_bad("2024-02-29T01:02:03 junk", ST_TS_AUTO);
    expect_bad("", ST_TS_AUTO);
    expect_bad(" \t ", ST_TS_AUTO);
    expect_bad("abc", ST_TS_AUTO);
    int64_t out;
    assert_false(st_ts_parse(st_sv_make(NULL, 0), ST_TS_AUTO, NULL, &out));
    /* views need no NUL: only the first 10 bytes are the text */
    assert_true(st_ts_parse(st_sv_make("2024-02-29T99:99", 10), ST_TS_AUTO, NULL, &out));
    assert_int_equal(out, (int64_t)D_2024_02_29 * DAY);
}

static void test_local_day(void **state)
{
    (void)state;
    assert_int_equal(st_local_day(0), 0);
    assert_int_equal(st_local_day(86399), 0);
    assert_int_equal(st_local_day(86400), 1);
    assert_int_equal(st_local_day(-1), -1);
    assert_int_equal(st_local_day(-86400), -1);
    assert_int_equal(st_local_day(-86401), -2);
    assert_int_equal(st_local_day(-30610224000LL), D_1000_01_01);
    int64_t t;
    assert_true(parse("1969-12-31T23:59:59", ST_TS_ISO, NULL, &t));
    assert_int_equal(st_local_day(t), D_1969_12_31);
    assert_true(parse("9999-12-31T23:59:59", ST_TS_ISO, NULL, &t));
    assert_int_equal(st_local_day(t), D_9999_12_31);
}

/* ---- zones ---- */

static void test_tz_fixed(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        int32_t offset;
    } ok[] = {{"UTC", 0},           {"utc", 0},          {"Z", 0},           {"", 0},
              {"+08:00", 8 * HOUR}, {"-05:30", -19800},  {"+0530", 19800},   {"+8", 8 * HOUR},
              {"-11", -11 * HOUR},  {"+00:00", 0},       {"-0945", -35100},  {"+23:59", 86340}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        st_tz *tz = NULL;
        if (st_tz_load(NULL, ok[i].spec, &tz) != STRATA_OK) fail_msg("rejected '%s'", ok[i].spec);
        assert_int_equal(st_tz_offset_at(tz, 0), ok[i].offset);
        assert_int_equal(st_tz_offset_at(tz, -5000000000LL), ok[i].offset);
        assert_int_equal(st_tz_offset_at(tz, 5000000000LL), ok[i].offset);
        assert_int_equal(st_tz_offset_at(tz, INT64_MAX), ok[i].offset);
        assert_int_equal(st_tz_offset_at(tz, INT64_MIN), ok[i].offset);
        assert_int_equal(st_tz_local_to_utc(tz, 1000000), 1000000 - ok[i].offset);
        st_tz_free(tz);
    }
    strata_ctx *ctx = NULL;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    static const char *const bad[] = {"+24:00", "+08:60", "+8:30", "+123", "+08:0", "+",
                                      "08:00", "+08:00 ", "UTC+8", "-0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_tz *tz = (st_tz *)1;
        if (strcmp(bad[i], "-0") == 0) {
            /* "-0" is a valid zero offset */
            assert_int_equal(st_tz_load(ctx, bad[i], &tz), STRATA_OK);
            assert_int_equal(st_tz_offset_at(tz, 0), 0);
            st_tz_free(tz);
            continue;
        }
        if (st_tz_load(ctx, bad[i], &tz) != STRATA_ECONFIG) fail_msg("accepted '%s'", bad[i]);
        assert_null(tz);
        if (!strstr(strata_errmsg(ctx), bad[i])) fail_msg("message lacks zone: %s", strata_errmsg(ctx));
    }
    /* NULL tz means UTC everywhere */
    assert_int_equal(st_tz_offset_at(NULL, 123), 0);
    assert_int_equal(st_tz_local_to_utc(NULL, 123), 123);
    strata_ctx_free(ctx);
}

static void test_tz_names_rejected(void **state)
{
    (void)state;
    strata_ctx *ctx = NULL;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    static const char *const bad[] = {"../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd",
                                      "Europe//London", "Europe/London/", "Europe/London ",
                                      "Europe/Lon don", "Europe\\London", "Nowhere/Atlantis",
                                      "Europe", "Europe/London.gz", "a;b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_tz *tz = (st_tz *)1;
        if (st_tz_load(ctx, bad[i], &tz) != STRATA_ECONFIG) fail_msg("accepted '%s'", bad[i]);
        assert_null(tz);
        if (!strstr(strata_errmsg(ctx), bad[i])) fail_msg("message lacks zone: %s", strata_errmsg(ctx));
    }
    strata_ctx_free(ctx);
}

typedef struct probe {
    int64_t utc;
    int32_t offset;
} probe;

static void check_probes(const st_tz *tz, const probe *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int32_t got = st_tz_offset_at(tz, p[i].utc);
        if (got != p[i].offset)
            fail_msg("%s at %lld: offset %d, want %d", what, (long long)p[i].utc, got,
                     p[i].offset);
    }
}

static void test_tz_shanghai(void **state)
{
    (void)state;
    NEED_ZONE(tz, "Asia/Shanghai");
    static const probe p[] = {
        {1700000000, 28800},  /* 2023-11-14T22:13:20Z */
        {583718400, 32400},   /* 1988-07-01: China observed DST 1986-1991 */
        {-2208988800, 29143}, /* 1900-01-01: local mean time +8:05:43 */
        {4102444800, 28800},  /* 2100-01-01 */
    };
    check_probes(tz, p, sizeof p / sizeof p[0], "Asia/Shanghai");
    /* epoch numbers become the local (Beijing) calendar day */
    expect_ok("1699977599", ST_TS_AUTO, tz, 1700006399); /* 2023-11-14T23:59:59 local */
    expect_ok("1699977600", ST_TS_AUTO, tz, 1700006400); /* 2023-11-15T00:00:00 local */
    int64_t t;
    assert_true(parse("1699977600000", ST_TS_AUTO, tz, &t));
    assert_int_equal(st_local_day(t), D_2023_11_15);
    assert_true(parse("1699977599", ST_TS_EPOCH_S, tz, &t));
    assert_int_equal(st_local_day(t), D_2023_11_15 - 1);
    assert_true(parse("2023-11-14T16:00:00Z", ST_TS_ISO, tz, &t));
    assert_int_equal(t, 1700006400);
    st_tz_free(tz);
}

static void test_tz_london(void **state)
{
    (void)state;
    NEED_ZONE(tz, "Europe/London");
    static const probe p[] = {
        {1711846799, 0},     /* 2024-03-31T00:59:59Z GMT */
        {1711846800, 3600},  /* 2024-03-31T01:00:00Z BST begins */
        {1729990799, 3600},  /* 2024-10-27T00:59:59Z */
        {1729990800, 0},     /* 2024-10-27T01:00:00Z BST ends */
        {4078429199, 0},     /* 2099-03-29T00:59:59Z: from the footer rule GMT0BST,M3.5.0/1,... */
        {4078429200, 3600},  /* 2099-03-29T01:00:00Z */
        {4096573200, 0},     /* 2099-10-25T01:00:00Z */
        {-36806400, 3600},   /* 1968-11-01: British Standard Time experiment (+1 all year) */
        {-4102444800, -75},  /* 1840-01-01: local mean time -0:01:15 */
        {-3786825600, 0},    /* 1850-01-01: GMT since 1847-12-01 */
        {10429430400, 3600}, /* 2300-07-01: beyond the expanded table, rule evaluated */
        {10442649600, 0},    /* 2300-12-01 */
    };
    check_probes(tz, p, sizeof p / sizeof p[0], "Europe/London");
    /* epoch → local day: 23:30Z on 30 June is 00:30 BST on 1 July */
    int64_t t;
    assert_true(parse("1719790200", ST_TS_AUTO, tz, &t));
    assert_int_equal(t, 1719793800);
    assert_int_equal(st_local_day(t), 19905); /* 2024-07-01 */
    assert_true(parse("1735687800000", ST_TS_AUTO, tz, &t)); /* 2024-12-31T23:30Z, GMT */
    assert_int_equal(st_local_day(t), 20088);                 /* 2024-12-31 */
    /* local → UTC. Gap: 01:30 on 2024-03-31 does not exist; the later offset (+1) is used */
    const int64_t d31 = (int64_t)D_2024_03_31 * DAY;
    assert_int_equal(st_tz_local_to_utc(tz, d31 + HOUR + 1800), 1711845000);
    assert_int_equal(st_tz_local_to_utc(tz, d31), d31);                 /* midnight, GMT */
    assert_int_equal(st_tz_local_to_utc(tz, d31 + 2 * HOUR), 1711846800); /* 02:00 BST */
    /* overlap: 01:30 on 2024-10-27 happens twice; the earlier instant (BST) is used */
    assert_int_equal(st_tz_local_to_utc(tz, 1729992600), 1729989000);
    assert_int_equal(st_tz_local_to_utc(tz, 1729992600 + HOUR), 1729992600 + HOUR); /* 02:30 */
    st_tz_free(tz);
}

static void test_tz_new_york(void **state)
{
    (void)state;
    NEED_ZONE(tz, "America/New_York");
    static const probe p[] = {
        {1710053999, -18000}, /* 2024-03-10T06:59:59Z EST */
        {1710054000, -14400}, /* 2024-03-10T07:00:00Z EDT begins */
        {1730613599, -14400}, /* 2024-11-03T05:59:59Z */
        {1730613600, -18000}, /* 2024-11-03T06:00:00Z EST again */
        {4108690799, -18000}, /* 2100-03-14T06:59:59Z, footer EST5EDT,M3.2.0,M11.1.0 */
        {4108690800, -14400}, /* 2100-03-14T07:00:00Z */
        {4129250400, -18000}, /* 2100-11-07T06:00:00Z */
        {-2717654400, -17762}, /* 1883-11-18T16:00Z: local mean time before railway time */
    };
    check_probes(tz, p, sizeof p / sizeof p[0], "America/New_York");
    int64_t t;
    /* 2024-11-03T04:30Z is 00:30 EDT (Nov 3); 03:30Z is 23:30 EDT on Nov 2 */
    assert_true(parse("1730608200", ST_TS_AUTO, tz, &t));
    assert_int_equal(t, 1730593800);
    assert_int_equal(st_local_day(t), 20030);
    assert_true(parse("1730604600000", ST_TS_EPOCH_MS, tz, &t));
    assert_int_equal(t, 1730590200);
    assert_int_equal(st_local_day(t), 20029);
    assert_true(parse("2024-03-10T05:00:00Z", ST_TS_ISO, tz, &t)); /* local midnight EST */
    assert_int_equal(t, 1710028800);
    /* gap 02:30 on 2024-03-10 → later offset (EDT) → 06:30Z; overlap 01:30 on 2024-11-03 →
     * earlier instant (EDT) → 05:30Z */
    assert_int_equal(st_tz_local_to_utc(tz, 1710037800), 1710052200);
    assert_int_equal(st_tz_local_to_utc(tz, 1730597400), 1730611800);
    assert_int_equal(st_tz_local_to_utc(tz, 1710028800), 1710046800); /* plain midnight */
    st_tz_free(tz);
}

/* ---- hand-built TZif buffers ---- */

typedef struct tzif_buf {
    unsigned char b[2048];
    size_t n;
} tzif_buf;

static void put(tzif_buf *t, const void *p, size_t n)
{
    assert_true(t->n + n <= sizeof t->b);
    if (n == 0) return; /* p may be NULL */
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void put32(tzif_buf *t, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(t, b, 4);
}

static void put64(tzif_buf *t, int64_t v)
{
    put32(t, (uint32_t)((uint64_t)v >> 32));
    put32(t, (uint32_t)v);
}

static void header(tzif_buf *t, char version, uint32_t timecnt, uint32_t typecnt)
{
    put(t, "TZif", 4);
    unsigned char v[16] = {(unsigned char)version};
    put(t, v, 16);
    put32(t, 0);       /* isutcnt */
    put32(t, 0);       /* isstdcnt */
    put32(t, 0);       /* leapcnt */
    put32(t, timecnt);
    put32(t, typecnt);
    put32(t, 4);       /* charcnt: "LMT\0" */
}

/* A TZif file with the given transitions and types (all named "LMT"). version 0 writes a v1
 * file; '2' or '3' a minimal v1 block, the 64-bit block and the footer. Mirrors the builder
 * used with Python's ZoneInfo.from_file to derive the v1 expectations below. */
static void build(tzif_buf *t, char version, const int64_t *at, const unsigned char *idx,
                  size_t timecnt, const int32_t *utoff, size_t typecnt, const char *footer)
{
    t->n = 0;
    if (version != 0) {
        header(t, version, 0, 1);
        put32(t, 0);
        put(t, "\0\0LMT", 6); /* isdst 0, desigidx 0, then the 4 designation bytes */
    }
    header(t, version, (uint32_t)timecnt, (uint32_t)typecnt);
    for (size_t i = 0; i < timecnt; i++) {
        if (version == 0)
            put32(t, (uint32_t)(int32_t)at[i]);
        else
            put64(t, at[i]);
    }
    put(t, idx, timecnt);
    for (size_t i = 0; i < typecnt; i++) {
        put32(t, (uint32_t)utoff[i]);
        put(t, "\0\0", 2);
    }
    put(t, "LMT", 4);
    if (version != 0) {
        put(t, "\n", 1);
        put(t, footer, strlen(footer));
        put(t, "\n", 1);
    }
}

static st_tz *must_parse(const tzif_buf *t)
{
    st_tz *tz = NULL;
    assert_int_equal(st_tz_from_tzif(t->b, t->n, &tz), STRATA_OK);
    assert_non_null(tz);
    return tz;
}

static void test_tzif_v1(void **state)
{
    (void)state;
    tzif_buf t;
    const int64_t at[] = {-1000, 0, 1000000};
    const unsigned char idx[] = {1, 0, 1};
    const int32_t utoff[] = {3600, -7200};
    build(&t, 0, at, idx, 3, utoff, 2, NULL);
    st_tz *tz = must_parse(&t);
    /* from Python ZoneInfo.from_file on the same bytes */
    static const probe p[] = {{-3600, 3600}, {-1001, 3600}, {-1000, -7200}, {0, 3600},
                              {999999, 3600}, {1000000, -7200}, {4102444800, -7200}};
    check_probes(tz, p, sizeof p / sizeof p[0], "v1");
    st_tz_free(tz);
}

static void test_tzif_footers(void **state)
{
    (void)state;
    tzif_buf t;
    const int64_t y2000 = 946684800;
    const unsigned char idx0[] = {0};
    /* Nuuk since 2023: negative transition time (v3) */
    const int32_t nuuk_off[] = {-7200};
    build(&t, '3', &y2000, idx0, 1, nuuk_off, 1, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    st_tz *tz = must_parse(&t);
    static const probe nuuk[] = {{1711846799, -7200}, {1711846800, -3600}, {1729990799, -3600},
                                 {1729990800, -7200}, {12004675200, -3600}, {12020486400, -7200}};
    check_probes(tz, nuuk, sizeof nuuk / sizeof nuuk[0], "nuuk");
    st_tz_free(tz);
    /* Julian J60 (1 March even in leap years) and zero-based 300 */
    const int32_t plus3[] = {10800};
    build(&t, '2', &y2000, idx0, 1, plus3, 1, "AAA-3BBB,J60/1,300/23");
    tz = must_parse(&t);
    static const probe jul[] = {{1709243999, 10800}, {1709244000, 14400}, {1730055599, 14400},
                                {1730055600, 10800}, {1677621599, 10800}, {1677621600, 14400},
                                {1698519599, 14400}, {1698519600, 10800}};
    check_probes(tz, jul, sizeof jul / sizeof jul[0], "julian");
    st_tz_free(tz);
    /* all-year daylight time (RFC 8536 3.3.1). glibc reads this string as EST for the first
     * hours of each year; the RFC, Python's zoneinfo and we say EDT throughout. */
    const int32_t minus5[] = {-18000};
    build(&t, '3', &y2000, idx0, 1, minus5, 1, "EST5EDT,0/0,J365/25");
    tz = must_parse(&t);
    static const probe all[] = {{1704085199, -14400}, {1704085200, -14400}, {1719792000, -14400},
                                {1735689599, -14400}, {13569422400, -14400}};
    check_probes(tz, all, sizeof all / sizeof all[0], "all-year");
    st_tz_free(tz);
    /* no transitions at all: the rule covers every instant (southern hemisphere) */
    const int32_t plus10[] = {36000};
    build(&t, '2', NULL, NULL, 0, plus10, 1, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    tz = must_parse(&t);
    static const probe syd[] = {{-629942400, 39600}, {1712419199, 39600}, {1712419200, 36000},
                                {1728143999, 36000}, {1728144000, 39600}, {10445328000, 39600}};
    check_probes(tz, syd, sizeof syd / sizeof syd[0], "sydney rule");
    /* the rule at the ends of int64 (a fuzzer find: the year overflowed the calendar) */
    const int64_t extremes[] = {INT64_MIN, INT64_MIN / 2, INT64_MAX / 2, INT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        int32_t o = st_tz_offset_at(tz, extremes[i]);
        assert_true(o == 36000 || o == 39600);
        int64_t u = st_tz_local_to_utc(tz, extremes[i]);
        assert_true(i < 2 ? u < 0 : u > 0);
    }
    /* local → UTC on the rule: 2024-04-07 02:30 AEST/AEDT happens twice → earlier (AEDT) */
    assert_int_equal(st_tz_local_to_utc(tz, 1712457000), 1712457000 - 39600);
    st_tz_free(tz);
    /* a footer without daylight time, and an empty footer: the last type stays in force */
    const int64_t two[] = {0, 100};
    const unsigned char idx2[] = {1, 0};
    const int32_t offs[] = {28800, 32400};
    build(&t, '2', two, idx2, 2, offs, 2, "<+08>-8");
    tz = must_parse(&t);
    static const probe cst[] = {{-1, 28800}, {0, 32400}, {99, 32400}, {100, 28800},
                                {9000000000LL, 28800}};
    check_probes(tz, cst, sizeof cst / sizeof cst[0], "+08");
    st_tz_free(tz);
    build(&t, '2', two, idx2, 2, offs, 2, "");
    tz = must_parse(&t);
    check_probes(tz, cst, sizeof cst / sizeof cst[0], "no footer");
    st_tz_free(tz);
    /* transitions at the ends of int64 (zic writes -2^59 "big bang" entries) */
    const int64_t ends[] = {INT64_MIN, INT64_MAX};
    build(&t, '2', ends, idx2, 2, offs, 2, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    tz = must_parse(&t);
    static const probe endp[] = {{INT64_MIN, 32400}, {0, 32400}, {INT64_MAX - 1, 32400},
                                 {INT64_MAX, 28800}};
    check_probes(tz, endp, sizeof endp / sizeof endp[0], "int64 ends");
    st_tz_free(tz);
}

static void expect_bad_tzif(const unsigned char *b, size_t n, const char *what)
{
    st_tz *tz = (st_tz *)1;
    strata_status st = st_tz_from_tzif(b, n, &tz);
    if (st != STRATA_ECONFIG) fail_msg("%s: status %d", what, (int)st);
    if (tz) fail_msg("%s: output not cleared", what);
}

static void test_tzif_malformed(void **state)
{
    (void)state;
    tzif_buf good, t;
    const int64_t at[] = {0, 100};
    const unsigned char idx[] = {1, 0};
    const int32_t offs[] = {28800, 32400};
    build(&good, '2', at, idx, 2, offs, 2, "<+08>-8");
    st_tz_free(must_parse(&good));
    /* every truncation fails cleanly (the footer's closing newline is the last byte) */
    for (size_t n = 0; n < good.n; n++) expect_bad_tzif(good.b, n, "truncated");
    expect_bad_tzif(NULL, 0, "NULL");
    /* offsets of fields in the second (64-bit) header and block */
    const size_t h2 = 44 + 6 + 4, blk = h2 + 44;
    t = good;
    t.b[0] = 'X';
    expect_bad_tzif(t.b, t.n, "magic");
    t = good;
    t.b[4] = '9';
    expect_bad_tzif(t.b, t.n, "version");
    t = good;
    t.b[h2 + 4] = '3';
    expect_bad_tzif(t.b, t.n, "versions differ");
    static const size_t count_fields[] = {20, 24, 28, 32, 36, 40};
    for (size_t f = 0; f < 6; f++) { /* huge counts in the v2 header */
        t = good;
        memset(t.b + h2 + count_fields[f], 0xff, 4);
        expect_bad_tzif(t.b, t.n, "huge count");
        t = good;
        memset(t.b + count_fields[f], 0xff, 4); /* ... and in the v1 header */
        expect_bad_tzif(t.b, t.n, "huge v1 count");
    }
    t = good;
    memset(t.b + h2 + 36, 0, 4); /* typecnt 0 */
    expect_bad_tzif(t.b, t.n, "no types");
    t = good;
    t.b[blk + 16] = 2; /* type index out of range */
    expect_bad_tzif(t.b, t.n, "type index");
    t = good;
    t.b[blk + 15] = 0; /* second transition at 0: not ascending */
    expect_bad_tzif(t.b, t.n, "order");
    t = good;
    t.b[blk + 18] = 0x7f; /* utoff of type 0 far out of range */
    expect_bad_tzif(t.b, t.n, "offset");
    t = good;
    t.b[blk + 18 + 5] = 9; /* designation index beyond charcnt */
    expect_bad_tzif(t.b, t.n, "designation");
    t = good;
    t.b[blk + 18 + 4] = 7; /* isdst flag not 0/1 */
    expect_bad_tzif(t.b, t.n, "isdst");
    /* bad footers */
    static const char *const footers[] = {"garbage", "EST", "EST5EDT", "EST5EDT,M3.2.0",
                                          "EST5EDT,M13.2.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                                          "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J365",
                                          "EST5EDT,366,J365", "EST5EDT,M3.2.0/168,M11.1.0",
                                          "EST25", "<AB>5", "EST5EDT,M3.2.0,M11.1.0x"};
    for (size_t i = 0; i < sizeof footers / sizeof footers[0]; i++) {
        build(&t, '2', at, idx, 2, offs, 2, footers[i]);
        expect_bad_tzif(t.b, t.n, footers[i]);
    }
    /* a footer that never ends */
    t = good;
    t.n--;
    t.b[t.n - 1] = 'x';
    expect_bad_tzif(t.b, t.n, "unterminated footer");
    /* leap-second files are refused */
    t = good;
    t.b[h2 + 31] = 1;
    expect_bad_tzif(t.b, t.n, "leap seconds");
}

/* Write bytes to path, creating the directory first. */
static void write_file(const char *dir, const char *path, const void *b, size_t n)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_tzdir(void **state)
{
    (void)state;
    char root[512], dir[600], path[700];
    snprintf(root, sizeof root, "%s/test_time_tzdir", STRATA_BINARY_DIR);
    snprintf(dir, sizeof dir, "%s/Test", root);
    snprintf(path, sizeof path, "%s/Zone", dir);
    if (mkdir(root, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s", root);
    tzif_buf t;
    const int64_t at[] = {0};
    const unsigned char idx[] = {1};
    const int32_t offs[] = {0, 5 * HOUR + 45 * 60};
    build(&t, '2', at, idx, 1, offs, 2, "<+0545>-5:45");
    write_file(dir, path, t.b, t.n);
    snprintf(path, sizeof path, "%s/Test/Junk", root);
    write_file(dir, path, "TZif2 not really", 16);
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    assert_int_equal(setenv("TZDIR", root, 1), 0);
    st_tz *tz = NULL;
    assert_int_equal(st_tz_load(NULL, "Test/Zone", &tz), STRATA_OK);
    assert_int_equal(st_tz_offset_at(tz, -1), 0);
    assert_int_equal(st_tz_offset_at(tz, 1700000000), 20700);
    st_tz_free(tz);
    strata_ctx *ctx = NULL;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    assert_int_equal(st_tz_load(ctx, "Test/Junk", &tz), STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(ctx), "Test/Junk"));
    assert_int_equal(st_tz_load(ctx, "Test/Missing", &tz), STRATA_ECONFIG);
    assert_non_null(strstr(strata_errmsg(ctx), "Test/Missing"));
    strata_ctx_free(ctx);
    if (saved) {
        setenv("TZDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TZDIR");
    }
}

/* Every allocation of a zone load failing in turn gives STRATA_ENOMEM and leaks nothing. */
static void test_tz_out_of_memory(void **state)
{
    (void)state;
    NEED_ZONE(probe_tz, "Europe/London");
    st_tz_free(probe_tz);
    size_t base = strata_memory_used();
    int failures = 0;
    for (uint64_t nth = 1; nth < 100; nth++) {
        st_tz *tz = (st_tz *)1;
        strata_memory_fail_after(nth);
        strata_status st = st_tz_load(NULL, "Europe/London", &tz);
        strata_memory_fail_after(0);
        if (st == STRATA_OK) {
            assert_int_equal(st_tz_offset_at(tz, 1711846800), 3600);
            st_tz_free(tz);
            break;
        }
        assert_int_equal(st, STRATA_ENOMEM);
        assert_null(tz);
        assert_int_equal(strata_memory_used(), base);
        failures++;
    }
    assert_true(failures >= 3); /* file buffer, table, rule expansion */
    assert_int_equal(strata_memory_used(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),  cmocka_unit_test(test_iso_dates),
        cmocka_unit_test(test_iso_datetimes), cmocka_unit_test(test_iso_zones),
        cmocka_unit_test(test_ymd),           cmocka_unit_test(test_ymd_slash),
        cmocka_unit_test(test_mdy),           cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_auto),          cmocka_unit_test(test_local_day),
        cmocka_unit_test(test_tz_fixed),      cmocka_unit_test(test_tz_names_rejected),
        cmocka_unit_test(test_tz_shanghai),   cmocka_unit_test(test_tz_london),
        cmocka_unit_test(test_tz_new_york),   cmocka_unit_test(test_tzif_v1),
        cmocka_unit_test(test_tzif_footers),  cmocka_unit_test(test_tzif_malformed),
        cmocka_unit_test(test_tzdir),         cmocka_unit_test(test_tz_out_of_memory),
        cmocka_unit_test(test_memo_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
