/*
 * timefmt.h — timestamps and time zones.
 *
 * Every timestamp is turned into *local seconds*: the wall-clock time in the configured zone,
 * counted as seconds since 1970-01-01 00:00 of that wall clock. The local calendar day is
 * then st_local_day(). Texts without a zone are already wall-clock time; texts with a zone
 * (Z, +08:00) and epoch numbers are converted with the zone's rules (IANA rules read from
 * the system's TZif files, or a fixed offset).
 *
 * Accepted formats (SPEC.md, Inputs); anything else is rejected, never guessed:
 *   iso        YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH[:MM]|±HHMM] ('T' or ' ')
 *   ymd        YYYYMMDD (exactly 8 digits)
 *   ymd_slash  YYYY/M/D[ H:MM[:SS]]   (1 or 2 digit month, day and hour)
 *   mdy        M/D/YYYY[ H:MM[:SS]]   (month first, US style, 1 or 2 digit month/day/hour)
 *   epoch_s    integer seconds since 1970-01-01T00:00Z (9 to 11 digits in auto mode)
 *   epoch_ms   integer milliseconds (12 to 14 digits in auto mode)
 * In auto mode the shape decides: 8 digits = ymd, 9-11 digits = epoch_s, 12-14 = epoch_ms.
 * Years must be 1000-9999; fields are range-checked (no Feb 30, no 24:00, no :60).
 * Details (time.c): up to 9 fraction digits, truncated; only 'Z' (upper case) as a zone
 * letter; the explicit epoch formats take an optional '-' and any digit count, auto mode
 * no sign; epoch numbers must fall within 1000-01-01T00:00Z .. 9999-12-31T23:59:59Z.
 */
#ifndef ST_TIMEFMT_H
#define ST_TIMEFMT_H

#include "core/core.h"

typedef enum st_ts_format {
    ST_TS_AUTO = 0,
    ST_TS_ISO,
    ST_TS_YMD,
    ST_TS_YMD_SLASH,
    ST_TS_MDY,
    ST_TS_EPOCH_S,
    ST_TS_EPOCH_MS
} st_ts_format;

/* "auto", "iso", ... as in config.def; ST_TS_AUTO for NULL or unknown names. */
st_ts_format st_ts_format_from_name(const char *name);

/* Time zone rules. */
typedef struct st_tz st_tz;

/* "UTC", "Z" or "" (any case), a fixed offset "+08:00" / "-0530" / "+8" (hours 0-23), or an
 * IANA name of [A-Za-z0-9_+-/] looked up under $TZDIR or /usr/share/zoneinfo. Fails with
 * STRATA_ECONFIG naming the zone (message on ctx, which may be NULL) or STRATA_ENOMEM;
 * *out is NULL on failure. Caller frees with st_tz_free(). Reads one small file. */
strata_status st_tz_load(strata_ctx *ctx, const char *spec, st_tz **out);
/* Parse TZif bytes (versions 1-4; the 64-bit block and POSIX TZ footer of v2+) — bounded and
 * validated; used by st_tz_load and the fuzzer. STRATA_ECONFIG for malformed or leap-second
 * ("right/") data, STRATA_ENOMEM; *out is NULL on failure. Caller frees with st_tz_free(). */
strata_status st_tz_from_tzif(const unsigned char *data, size_t len, st_tz **out);
void st_tz_free(st_tz *tz);
/* Offset of local time from UTC, in seconds, at a UTC instant (tz NULL = UTC). A binary
 * search over the transitions; the footer rule is pre-expanded up to year 2200. */
int32_t st_tz_offset_at(const st_tz *tz, int64_t utc_seconds);
/* UTC instant of a local wall-clock time (for the as-of boundary and range queries). In a
 * gap the later offset is used; in an overlap the earlier instant. Both cases give the
 * earlier candidate: London 2024-03-31 01:30 (gap) -> 00:30Z, i.e. 00:30 GMT, before the
 * transition; 2024-10-27 01:30 (overlap) -> 00:30Z (BST). Note a boundary at a local time
 * inside a gap therefore falls before the transition, not at it. */
int64_t st_tz_local_to_utc(const st_tz *tz, int64_t local_seconds);

/* Parse a timestamp; true and *local_seconds on success. Leading/trailing blanks (space,
 * tab) allowed. tz may be NULL (= UTC). No allocation, reentrant; about 20 ns for an ISO
 * date-time. */
bool st_ts_parse(st_sv text, st_ts_format fmt, const st_tz *tz, int64_t *local_seconds);

/* The date of the last "YYYY-MM-DD HH:MM:SS" (or 'T') text st_ts_parse_memo parsed, and its
 * local seconds at midnight. Rows of a file sorted by time share their date with the row
 * before, and then only the clock is read (a third of the instructions of a whole parse). */
typedef struct st_ts_memo {
    uint64_t date8; /* "YYYY-MM-", then "DD", as loaded */
    uint16_t date2;
    bool valid;
    int64_t midnight;
} st_ts_memo;

/* st_ts_parse with a memo (zero-initialised before the first call; one per thread): the same
 * result for every text, format and zone. */
bool st_ts_parse_memo(st_sv text, st_ts_format fmt, const st_tz *tz, st_ts_memo *memo,
                      int64_t *local_seconds);

/* Calendar day of local seconds (floor division, correct before 1970). */
static inline int32_t st_local_day(int64_t local_seconds)
{
    int64_t d = local_seconds / 86400;
    if (local_seconds % 86400 < 0) d--;
    return (int32_t)d;
}

#endif /* ST_TIMEFMT_H */
