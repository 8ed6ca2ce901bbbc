/*
 * fuzz_dates.c — libFuzzer target for the timestamp parser (src/core/time.c). Runs every
 * format on the input, in UTC, a fixed offset and (when tzdata is present) a DST zone, and
 * checks properties that must hold for any accepted text:
 *   - the local day is within years 1000-9999 (give or take the zone offset);
 *   - texts without a zone do not depend on the configured zone (they are wall-clock time);
 *   - a date parsed as ymd or iso formats back (strata_day_format) to the same digits;
 *   - auto mode agrees with the explicit format the shape selects;
 *   - st_ts_parse_memo, whose memo persists from input to input, agrees with st_ts_parse.
 * A violated property aborts, which libFuzzer reports as a crash.
 */
#include "core/timefmt.h"

#include <stdlib.h>

static st_tz *zones[3]; /* NULL (UTC), +05:45, America/New_York or -03:30 */
static st_ts_memo memos[ST_TS_EPOCH_MS + 1][3]; /* the dates of earlier inputs */

static void setup(void)
{
    static bool done;
    if (done) return;
    done = true;
    if (st_tz_load(NULL, "+05:45", &zones[1]) != STRATA_OK) abort();
    if (st_tz_load(NULL, "America/New_York", &zones[2]) != STRATA_OK &&
        st_tz_load(NULL, "-03:30", &zones[2]) != STRATA_OK)
        abort();
}

static void check(bool cond)
{
    if (!cond) abort();
}

static bool all_digits(st_sv v)
{
    bool digits = v.len > 0;
    for (size_t i = 0; i < v.len; i++) digits &= v.ptr[i] >= '0' && v.ptr[i] <= '9';
    return digits;
}

/* Does the (trimmed) text carry its own zone or is it an epoch number? */
static bool zone_dependent(st_sv v, st_ts_format fmt)
{
    if (fmt == ST_TS_EPOCH_S || fmt == ST_TS_EPOCH_MS) return true;
    if (fmt == ST_TS_AUTO && all_digits(v) && v.len != 8) return true;
    if (v.len <= 10) return false;
    char last = v.ptr[v.len - 1];
    return last == 'Z' || memchr(v.ptr + 10, '+', v.len - 10) ||
           memchr(v.ptr + 10, '-', v.len - 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    st_sv text = st_sv_make((const char *)data, size);
    st_sv trimmed = st_sv_trim(text);
    const int32_t lo_day = -354285 - 2, hi_day = 2932896 + 2; /* 1000-01-01 .. 9999-12-31 */
    for (int f = ST_TS_AUTO; f <= ST_TS_EPOCH_MS; f++) {
        int64_t local[3];
        bool ok[3];
        for (int z = 0; z < 3; z++) {
            ok[z] = st_ts_parse(text, (st_ts_format)f, zones[z], &local[z]);
            int64_t memo_local = 0;
            bool memo_ok =
                st_ts_parse_memo(text, (st_ts_format)f, zones[z], &memos[f][z], &memo_local);
            check(memo_ok == ok[z] && (!ok[z] || memo_local == local[z]));
            if (ok[z]) {
                int32_t day = st_local_day(local[z]);
                check(day >= lo_day && day <= hi_day);
            }
        }
        /* acceptance never depends on the zone */
        check(ok[0] == ok[1] && ok[1] == ok[2]);
        if (!ok[0]) continue;
        if (!zone_dependent(trimmed, (st_ts_format)f))
            check(local[0] == local[1] && local[1] == local[2]);
        /* dates round-trip through the day formatter */
        char buf[11];
        strata_day_format(st_local_day(local[0]), buf);
        if ((f == ST_TS_YMD || f == ST_TS_AUTO) && trimmed.len == 8 && all_digits(trimmed)) {
            check(memcmp(buf, trimmed.ptr, 4) == 0 && memcmp(buf + 5, trimmed.ptr + 4, 2) == 0 &&
                  memcmp(buf + 8, trimmed.ptr + 6, 2) == 0);
            check(local[0] % 86400 == 0);
        }
        if ((f == ST_TS_ISO || f == ST_TS_AUTO) && trimmed.len >= 10 && trimmed.ptr[4] == '-' &&
            !zone_dependent(trimmed, (st_ts_format)f)) {
            check(memcmp(buf, trimmed.ptr, 10) == 0);
            if (trimmed.len == 10) check(local[0] % 86400 == 0);
        }
        /* no text is two different dates: auto agrees with any date format accepting it */
        if (f != ST_TS_AUTO) {
            int64_t a;
            bool date_format =
                f == ST_TS_ISO || f == ST_TS_YMD || f == ST_TS_YMD_SLASH || f == ST_TS_MDY;
            if (date_format && st_ts_parse(text, ST_TS_AUTO, NULL, &a)) check(a == local[0]);
        }
    }
    return 0;
}
