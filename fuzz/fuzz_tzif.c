/*
 * fuzz_tzif.c — libFuzzer target for the TZif parser (st_tz_from_tzif in src/core/tz.c).
 * Parses arbitrary bytes; when they are accepted, queries offsets across the whole int64
 * range and checks that every offset is within ±26 h and that local_to_utc gives back an
 * instant whose local time is the one asked for, unless that local time falls in a gap.
 * A violated property aborts, which libFuzzer reports as a crash.
 */
#include "core/timefmt.h"

#include <stdlib.h>

static void check(bool cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_tz *tz = (st_tz *)1;
    strata_status st = st_tz_from_tzif(data, size, &tz);
    if (st != STRATA_OK) {
        check(tz == NULL);
        check(st == STRATA_ECONFIG || st == STRATA_ENOMEM);
        return 0;
    }
    static const int64_t probes[] = {INT64_MIN,      INT64_MIN / 2, -5000000000000LL,
                                     -30610224000LL, -2208988800LL, -1,
                                     0,              1700000000,    4102444800LL,
                                     7258118400LL,   253402300799LL, INT64_MAX / 2,
                                     INT64_MAX};
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size && i < 64; i++) h = (h ^ data[i]) * 1099511628211ULL;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0] + 16; i++) {
        int64_t t = i < sizeof probes / sizeof probes[0]
                        ? probes[i]
                        : (int64_t)(h = h * 6364136223846793005ULL + 1442695040888963407ULL) >> 20;
        int32_t off = st_tz_offset_at(tz, t);
        check(off >= -26 * 3600 && off <= 26 * 3600);
        if (t < -((int64_t)1 << 50) || t > ((int64_t)1 << 50)) continue;
        int64_t u = st_tz_local_to_utc(tz, t);
        int32_t back = st_tz_offset_at(tz, u);
        /* either an exact inverse, or t was in a gap and u lies within 26 h of it */
        check(u + back == t || (u > t - 26 * 3600 && u < t + 26 * 3600));
    }
    st_tz_free(tz);
    return 0;
}
