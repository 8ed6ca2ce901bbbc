/*
 * time.c — timestamp parsing: turns the timestamp texts SPEC.md accepts (ISO-8601, YYYYMMDD,
 * YYYY/MM/DD, M/D/YYYY, epoch seconds or milliseconds) into local seconds of the configured
 * zone. Called by ingest once per input row, so it is hand-written digit parsing over a
 * string view: no allocation, no locale, no libc time functions. Owns nothing; zone rules
 * live in tz.c. Contract and the list of formats in timefmt.h.
 *
 * Strictness is the point: a text that does not have exactly one of the shapes below, or
 * whose fields are out of range, is rejected (the caller counts and reports it) rather than
 * guessed at, because a silently misread date moves revenue between periods.
 */
#include "core/timefmt.h"

#define DAY 86400
/* Texts and epoch numbers must fall within years 1000-9999 (UTC for epoch numbers). */
#define EPOCH_MIN (-30610224000LL)  /* 1000-01-01T00:00:00Z */
#define EPOCH_MAX (253402300799LL)  /* 9999-12-31T23:59:59Z */
/* Fraction digits accepted after the seconds (nanoseconds); they are truncated. */
#define MAX_FRACTION_DIGITS 9

st_ts_format st_ts_format_from_name(const char *name)
{
    static const struct {
        const char *name;
        st_ts_format fmt;
    } names[] = {{"auto", ST_TS_AUTO},           {"iso", ST_TS_ISO},
                 {"ymd", ST_TS_YMD},             {"ymd_slash", ST_TS_YMD_SLASH},
                 {"mdy", ST_TS_MDY},             {"epoch_s", ST_TS_EPOCH_S},
                 {"epoch_ms", ST_TS_EPOCH_MS}};
    if (!name) return ST_TS_AUTO;
    st_sv v = st_sv_cstr(name);
    for (size_t i = 0; i < ST_ARRAY_LEN(names); i++)
        if (st_sv_eq_nocase(v, st_sv_cstr(names[i].name))) return names[i].fmt;
    return ST_TS_AUTO;
}

/* ---- digit helpers: unsigned arithmetic makes any non-digit a value above 9 ---- */

static inline unsigned dig(const char *p)
{
    return (unsigned)(unsigned char)*p - '0';
}

/* Exactly two digits at p. */
static inline __attribute__((always_inline)) bool two(const char *p, unsigned *out)
{
    unsigned a = dig(p), b = dig(p + 1);
    if (a > 9 || b > 9) return false;
    *out = a * 10 + b;
    return true;
}

/* Exactly four digits at p. */
static inline bool four(const char *p, unsigned *out)
{
    unsigned a = dig(p), b = dig(p + 1), c = dig(p + 2), d = dig(p + 3);
    if (a > 9 || b > 9 || c > 9 || d > 9) return false;
    *out = a * 1000 + b * 100 + c * 10 + d;
    return true;
}

/* One or two digits at p[*i] (within n); advances *i. */
static inline bool one_or_two(const char *p, size_t n, size_t *i, unsigned *out)
{
    if (*i >= n || dig(p + *i) > 9) return false;
    unsigned v = dig(p + (*i)++);
    if (*i < n && dig(p + *i) <= 9) v = v * 10 + dig(p + (*i)++);
    *out = v;
    return true;
}

/* Seconds since 1970 of a validated wall-clock date and time. */
static inline bool civil_seconds(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                                 unsigned s, int64_t *out)
{
    if (y < 1000 || !st_valid_civil((int)y, mo, d) || h > 23 || mi > 59 || s > 59) return false;
    *out = (int64_t)st_days_from_civil((int)y, mo, d) * DAY + h * 3600 + mi * 60 + s;
    return true;
}

/* Convert a UTC instant to local seconds of tz. */
static inline int64_t utc_to_local(const st_tz *tz, int64_t utc)
{
    return tz ? utc + st_tz_offset_at(tz, utc) : utc;
}

/* ---- the formats ---- */

/* Zone suffix at p[i..n): "Z", "±HH", "±HH:MM" or "±HHMM"; the whole rest must match. */
static bool parse_zone(const char *p, size_t i, size_t n, int32_t *offset)
{
    if (p[i] == 'Z') {
        *offset = 0;
        return i + 1 == n;
    }
    if (p[i] != '+' && p[i] != '-') return false;
    size_t rest = n - i - 1;
    unsigned h, m = 0;
    if (rest < 2 || !two(p + i + 1, &h)) return false;
    if (rest == 5) {
        if (p[i + 3] != ':' || !two(p + i + 4, &m)) return false;
    } else if (rest == 4) {
        if (!two(p + i + 3, &m)) return false;
    } else if (rest != 2) {
        return false;
    }
    if (h > 23 || m > 59) return false;
    *offset = (int32_t)(h * 3600 + m * 60) * (p[i] == '-' ? -1 : 1);
    return true;
}

/* YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]][zone] */
static bool parse_iso(const char *p, size_t n, const st_tz *tz, int64_t *out)
{
    unsigned y, mo, d, h = 0, mi = 0, s = 0;
    if (n < 10 || p[4] != '-' || p[7] != '-' || !four(p, &y) || !two(p + 5, &mo) ||
        !two(p + 8, &d))
        return false;
    if (n == 10) return civil_seconds(y, mo, d, 0, 0, 0, out);
    if (n < 16 || (p[10] != 'T' && p[10] != ' ') || p[13] != ':' || !two(p + 11, &h) ||
        !two(p + 14, &mi))
        return false;
    size_t i = 16;
    if (i < n && p[i] == ':') {
        if (n < 19 || !two(p + 17, &s)) return false;
        i = 19;
        if (i < n && p[i] == '.') {
            size_t start = ++i;
            while (i < n && dig(p + i) <= 9) i++;
            if (i == start || i - start > MAX_FRACTION_DIGITS) return false;
        }
    }
    int64_t local;
    if (!civil_seconds(y, mo, d, h, mi, s, &local)) return false;
    if (i == n) {
        *out = local;
        return true;
    }
    int32_t zone;
    if (!parse_zone(p, i, n, &zone)) return false;
    *out = utc_to_local(tz, local - zone);
    return true;
}

/* YYYYMMDD */
static bool parse_ymd(const char *p, size_t n, int64_t *out)
{
    unsigned y, mo, d;
    if (n != 8 || !four(p, &y) || !two(p + 4, &mo) || !two(p + 6, &d)) return false;
    return civil_seconds(y, mo, d, 0, 0, 0, out);
}

/* Optional " H:MM[:SS]" (or " HH:MM[:SS]" when two_digit_hour) at p[i..n); the rest must
 * match exactly. */
static bool parse_clock(const char *p, size_t n, size_t i, bool two_digit_hour, unsigned *h,
                        unsigned *mi, unsigned *s)
{
    *h = *mi = *s = 0;
    if (i == n) return true;
    if (p[i] != ' ') return false;
    i++;
    if (two_digit_hour) {
        if (n - i < 2 || !two(p + i, h)) return false;
        i += 2;
    } else if (!one_or_two(p, n, &i, h)) {
        return false;
    }
    if (n - i < 3 || p[i] != ':' || !two(p + i + 1, mi)) return false;
    i += 3;
    if (i == n) return true;
    if (n - i != 3 || p[i] != ':' || !two(p + i + 1, s)) return false;
    return true;
}

/* YYYY/M/D[ H:MM[:SS]] — month, day and hour with one or two digits, as spreadsheet
 * exports in China write them (2024/1/5 9:03); the year-first order keeps it unambiguous. */
static bool parse_ymd_slash(const char *p, size_t n, int64_t *out)
{
    unsigned y, mo, d, h, mi, s;
    size_t i = 5;
    if (n < 8 || p[4] != '/' || !four(p, &y)) return false;
    if (!one_or_two(p, n, &i, &mo) || i >= n || p[i++] != '/') return false;
    if (!one_or_two(p, n, &i, &d)) return false;
    if (!parse_clock(p, n, i, false, &h, &mi, &s)) return false;
    return civil_seconds(y, mo, d, h, mi, s, out);
}

/* M/D/YYYY[ H:MM[:SS]] with 1- or 2-digit month, day and hour */
static bool parse_mdy(const char *p, size_t n, int64_t *out)
{
    unsigned y, mo, d, h, mi, s;
    size_t i = 0;
    if (!one_or_two(p, n, &i, &mo) || i >= n || p[i++] != '/') return false;
    if (!one_or_two(p, n, &i, &d) || i >= n || p[i++] != '/') return false;
    if (n - i < 4 || !four(p + i, &y)) return false;
    if (!parse_clock(p, n, i + 4, false, &h, &mi, &s)) return false;
    return civil_seconds(y, mo, d, h, mi, s, out);
}

/* Integer seconds (scale 1) or milliseconds (scale 1000) since 1970-01-01T00:00Z. A minus
 * sign is allowed when `signed_ok`; the instant must fall within years 1000-9999. */
static bool parse_epoch(const char *p, size_t n, int64_t scale, bool signed_ok,
                        const st_tz *tz, int64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (signed_ok && n > 0 && p[0] == '-') neg = true, i = 1;
    /* 16 digits exceed every epoch within range in either unit, and cannot overflow */
    if (i == n || n - i > 16) return false;
    int64_t v = 0;
    for (; i < n; i++) {
        unsigned c = dig(p + i);
        if (c > 9) return false;
        v = v * 10 + c;
    }
    if (neg) v = -v;
    int64_t sec = v / scale;
    if (v % scale < 0) sec--; /* -1 ms is in the second before the epoch */
    if (sec < EPOCH_MIN || sec > EPOCH_MAX) return false;
    *out = utc_to_local(tz, sec);
    return true;
}

/* The 19-character ISO date-time without a zone, both formats that read it as ISO: digits
 * where digits go, separators where they go; anything else (blanks to trim, a zone, a
 * fraction) takes the general path. */
bool st_ts_parse_memo(st_sv text, st_ts_format fmt, const st_tz *tz, st_ts_memo *memo,
                      int64_t *local_seconds)
{
    const char *p = text.ptr;
    unsigned h, mi, s;
    if ((fmt == ST_TS_AUTO || fmt == ST_TS_ISO) && text.len == 19 &&
        (p[10] == ' ' || p[10] == 'T') && p[13] == ':' && p[16] == ':' && two(p + 11, &h) &&
        two(p + 14, &mi) && two(p + 17, &s) && h <= 23 && mi <= 59 && s <= 59) {
        int64_t clock = h * 3600 + mi * 60 + s;
        uint64_t date8;
        uint16_t date2;
        memcpy(&date8, p, 8);
        memcpy(&date2, p + 8, 2);
        if (memo->valid && date8 == memo->date8 && date2 == memo->date2) {
            *local_seconds = memo->midnight + clock;
            return true;
        }
        unsigned y, mo, d;
        int64_t midnight;
        if (p[4] == '-' && p[7] == '-' && four(p, &y) && two(p + 5, &mo) && two(p + 8, &d) &&
            civil_seconds(y, mo, d, 0, 0, 0, &midnight)) {
            memo->date8 = date8;
            memo->date2 = date2;
            memo->midnight = midnight;
            memo->valid = true;
            *local_seconds = midnight + clock;
            return true;
        }
    }
    return st_ts_parse(text, fmt, tz, local_seconds);
}

/* Auto mode: the shape decides, never the value (timefmt.h). */
static bool parse_auto(const char *p, size_t n, const st_tz *tz, int64_t *out)
{
    unsigned year;
    if (n >= 5 && four(p, &year)) {
        if (p[4] == '-') return parse_iso(p, n, tz, out);
        if (p[4] == '/') return parse_ymd_slash(p, n, out);
    }
    if (n >= 3 && (p[1] == '/' || p[2] == '/')) return parse_mdy(p, n, out);
    size_t digits = 0;
    while (digits < n && dig(p + digits) <= 9) digits++;
    if (digits != n) return false;
    if (n == 8) return parse_ymd(p, n, out);
    if (n >= 9 && n <= 11) return parse_epoch(p, n, 1, false, tz, out);
    if (n >= 12 && n <= 14) return parse_epoch(p, n, 1000, false, tz, out);
    return false;
}

bool st_ts_parse(st_sv text, st_ts_format fmt, const st_tz *tz, int64_t *local_seconds)
{
    const char *p = text.ptr;
    size_t n = text.len;
    if (!p) return false;
    while (n && (p[0] == ' ' || p[0] == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0) return false;
    switch (fmt) {
    case ST_TS_AUTO: return parse_auto(p, n, tz, local_seconds);
    case ST_TS_ISO: return parse_iso(p, n, tz, local_seconds);
    case ST_TS_YMD: return parse_ymd(p, n, local_seconds);
    case ST_TS_YMD_SLASH: return parse_ymd_slash(p, n, local_seconds);
    case ST_TS_MDY: return parse_mdy(p, n, local_seconds);
    case ST_TS_EPOCH_S: return parse_epoch(p, n, 1, true, tz, local_seconds);
    case ST_TS_EPOCH_MS: return parse_epoch(p, n, 1000, true, tz, local_seconds);
    }
    return false;
}
