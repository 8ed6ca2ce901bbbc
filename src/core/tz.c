/*
 * tz.c — time zone rules: UTC, fixed offsets and IANA zones read from the system's TZif
 * files (RFC 8536). Owns struct st_tz: a table of UTC transition instants with the offset in
 * force from each one on, plus the zone's POSIX TZ rule for instants after the table. Used
 * by the timestamp parser (time.c) at ingest and by anything that turns local days back into
 * instants (as-of boundaries, range queries). Contract in timefmt.h.
 *
 * TZif layout (all integers big-endian; RFC 8536 section 3):
 *   offset  size  field
 *   0       4     magic "TZif"
 *   4       1     version: 0 (v1), '2', '3' or '4'
 *   5       15    unused
 *   20      4     isutcnt   number of UT/local indicators (0 or typecnt)
 *   24      4     isstdcnt  number of standard/wall indicators (0 or typecnt)
 *   28      4     leapcnt   number of leap-second records
 *   32      4     timecnt   number of transitions
 *   36      4     typecnt   number of local time types (>= 1)
 *   40      4     charcnt   bytes of designation strings (>= 1)
 *   44            data block:
 *                   timecnt x time (4 bytes in v1, 8 in v2+)   transition instants, ascending
 *                   timecnt x 1                                type index of each transition
 *                   typecnt x 6   int32 utoff, uint8 isdst, uint8 desigidx
 *                   charcnt x 1   designations (NUL-terminated)
 *                   leapcnt x (4 or 8) + 4                     leap-second records
 *                   isstdcnt x 1, isutcnt x 1
 * In v2+ files a second header and data block with 64-bit times follow the v1 block, then
 * a footer "\n<POSIX TZ string>\n" that describes instants after the last transition. We
 * read the v1 block only from v1 files. Leap-second ("right/") files are refused: their
 * instants are not POSIX seconds, and being off by 27 s would move events across midnight.
 *
 * The footer rule ("EST5EDT,M3.2.0,M11.1.0") is expanded into explicit transitions up to
 * RULE_EXPAND_YEAR when the zone is loaded, so the hot path (st_tz_offset_at, called per row
 * for epoch inputs) is one binary search; later instants evaluate the rule directly.
 */
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>

#define DAY 86400
/* Offsets further than this from UTC are refused (RFC 8536 bounds utoff to -89999..93599). */
#define MAX_OFFSET (26 * 3600)
/* The footer rule is expanded into the transition table up to the end of this year. */
#define RULE_EXPAND_YEAR 2200
/* Refuse zone files larger than this (real ones are a few kB). */
#define TZIF_MAX_BYTES (1u << 20)

/* One POSIX TZ rule date: "Mm.w.d", "Jn" or "n", with the time of day it takes effect. */
typedef struct rule_date {
    char kind;        /* 'M', 'J' (1-365, Feb 29 never counted) or 'N' (0-365 zero-based) */
    int month;        /* M: 1-12 */
    int week;         /* M: 1-5 (5 = last) */
    int wday;         /* M: 0-6, 0 = Sunday */
    int yday;         /* J: 1-365; N: 0-365 */
    int32_t time;     /* seconds after local midnight, -167h..167h (RFC 8536 v3) */
} rule_date;

/* A POSIX TZ string's content, offsets already in seconds east of UTC. */
typedef struct posix_rule {
    int32_t std_off;
    int32_t dst_off;
    bool has_dst;
    rule_date start; /* standard -> daylight, at standard local time */
    rule_date end;   /* daylight -> standard, at daylight local time */
} posix_rule;

struct st_tz {
    size_t count;      /* transitions in the table */
    int64_t *at;       /* UTC instants, strictly ascending */
    int32_t *off;      /* offset in force from at[i] until at[i+1] */
    int32_t first_off; /* offset before at[0], or everywhere when count == 0 and no rule */
    bool has_rule;     /* instants >= rule_from follow `rule` (only when has_rule) */
    int64_t rule_from;
    posix_rule rule;
};

/* ---- calendar helpers that never overflow int32 day numbers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* Days beyond int32 are far outside any data; clamping keeps the civil helpers defined. */
static int32_t clamp_day(int64_t day)
{
    if (day > INT32_MAX - 1000) return INT32_MAX - 1000;
    if (day < INT32_MIN + 1000) return INT32_MIN + 1000;
    return (int32_t)day;
}

static int year_of_seconds(int64_t seconds)
{
    int y;
    unsigned m, d;
    st_civil_from_days(clamp_day(floor_div(seconds, DAY)), &y, &m, &d);
    return y;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* UTC instant at which `date` happens in year y, for a wall clock at offset `off`. */
static int64_t rule_instant(const rule_date *date, int y, int32_t off)
{
    int64_t day;
    if (date->kind == 'M') {
        int32_t first = st_days_from_civil(y, (unsigned)date->month, 1);
        int32_t next = date->month == 12 ? st_days_from_civil(y + 1, 1, 1)
                                         : st_days_from_civil(y, (unsigned)date->month + 1, 1);
        int first_wday = (int)(((int64_t)first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        day = first + (date->wday - first_wday + 7) % 7 + 7 * (date->week - 1);
        while (day >= next) day -= 7; /* week 5 = the last such weekday of the month */
    } else if (date->kind == 'J') {
        day = st_days_from_civil(y, 1, 1) + date->yday - 1;
        if (is_leap(y) && date->yday >= 60) day++;
    } else {
        day = st_days_from_civil(y, 1, 1) + date->yday;
    }
    return day * DAY + date->time - off;
}

static int32_t rule_offset_at(const posix_rule *r, int64_t utc)
{
    if (!r->has_dst) return r->std_off;
    /* Keep the year within a million years of 1970, inside the range the calendar
     * helpers handle without overflow; instants beyond that are not data. */
    const int64_t lim = (int64_t)365000000 * DAY;
    if (utc > lim) utc = lim;
    if (utc < -lim) utc = -lim;
    int y = year_of_seconds(utc + r->std_off);
    int64_t start = rule_instant(&r->start, y, r->std_off);
    int64_t end = rule_instant(&r->end, y, r->dst_off);
    bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool at_char(const cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static bool is_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Zone abbreviation: three or more letters, or <...> of letters, digits and signs. */
static bool parse_abbr(cursor *c)
{
    const char *start = c->p;
    if (at_char(c, '<')) {
        c->p++;
        start = c->p;
        while (c->p < c->end && (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '+' ||
                                 *c->p == '-'))
            c->p++;
        if (!at_char(c, '>') || c->p - start < 3) return false;
        c->p++;
        return true;
    }
    while (c->p < c->end && is_alpha(*c->p)) c->p++;
    return c->p - start >= 3;
}

/* Unsigned number of at most `max_digits` digits, no larger than `max`. */
static bool parse_num(cursor *c, int max_digits, int max, int *out)
{
    int v = 0, n = 0;
    while (c->p < c->end && is_digit(*c->p) && n < max_digits) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n == 0 || v > max || (c->p < c->end && is_digit(*c->p))) return false;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds; hours up to max_hours. */
static bool parse_hms(cursor *c, int max_hours, int32_t *out)
{
    int sign = 1, h = 0, m = 0, s = 0;
    if (at_char(c, '+') || at_char(c, '-')) sign = *c->p++ == '-' ? -1 : 1;
    if (!parse_num(c, 3, max_hours, &h)) return false;
    if (at_char(c, ':')) {
        c->p++;
        if (!parse_num(c, 2, 59, &m)) return false;
        if (at_char(c, ':')) {
            c->p++;
            if (!parse_num(c, 2, 59, &s)) return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool parse_rule_date(cursor *c, rule_date *d)
{
    memset(d, 0, sizeof *d);
    if (at_char(c, 'M')) {
        c->p++;
        d->kind = 'M';
        if (!parse_num(c, 2, 12, &d->month) || d->month < 1 || !at_char(c, '.')) return false;
        c->p++;
        if (!parse_num(c, 1, 5, &d->week) || d->week < 1 || !at_char(c, '.')) return false;
        c->p++;
        if (!parse_num(c, 1, 6, &d->wday)) return false;
    } else if (at_char(c, 'J')) {
        c->p++;
        d->kind = 'J';
        if (!parse_num(c, 3, 365, &d->yday) || d->yday < 1) return false;
    } else {
        d->kind = 'N';
        if (!parse_num(c, 3, 365, &d->yday)) return false;
    }
    d->time = 2 * 3600; /* POSIX default */
    if (at_char(c, '/')) {
        c->p++;
        if (!parse_hms(c, 167, &d->time)) return false;
    }
    return true;
}

/* Parse a whole, non-empty POSIX TZ string ("CST-8", "GMT0BST,M3.5.0/1,M10.5.0"). */
static bool parse_posix_tz(const char *s, size_t len, posix_rule *r)
{
    cursor c = {s, s + len};
    int32_t off;
    memset(r, 0, sizeof *r);
    if (!parse_abbr(&c) || !parse_hms(&c, 24, &off)) return false;
    r->std_off = -off; /* POSIX counts hours west of Greenwich */
    if (c.p == c.end) return true;
    if (!parse_abbr(&c)) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (c.p < c.end && *c.p != ',') {
        if (!parse_hms(&c, 24, &off)) return false;
        r->dst_off = -off;
    }
    /* zic always writes the rules; POSIX leaves their absence implementation-defined. */
    if (!at_char(&c, ',')) return false;
    c.p++;
    if (!parse_rule_date(&c, &r->start) || !at_char(&c, ',')) return false;
    c.p++;
    if (!parse_rule_date(&c, &r->end)) return false;
    return c.p == c.end;
}

/* ---- the table ---- */

void st_tz_free(st_tz *tz)
{
    if (!tz) return;
    st_free(tz->at);
    st_free(tz->off);
    st_free(tz);
}

static st_tz *tz_fixed(int32_t offset)
{
    st_tz *tz = st_calloc(1, sizeof *tz);
    if (!tz) return NULL;
    tz->first_off = offset;
    tz->rule_from = INT64_MAX;
    return tz;
}

int32_t st_tz_offset_at(const st_tz *tz, int64_t utc_seconds)
{
    if (!tz) return 0;
    if (tz->has_rule && utc_seconds >= tz->rule_from)
        return rule_offset_at(&tz->rule, utc_seconds);
    if (tz->count == 0 || utc_seconds < tz->at[0]) return tz->first_off;
    /* Largest i with at[i] <= utc_seconds. */
    size_t lo = 0, hi = tz->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= utc_seconds)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

static bool valid_at(const st_tz *tz, int64_t local, int32_t off, int64_t *utc)
{
    *utc = local - off;
    return st_tz_offset_at(tz, *utc) == off;
}

int64_t st_tz_local_to_utc(const st_tz *tz, int64_t local_seconds)
{
    /* Keep local ± MAX_OFFSET away from overflow; such instants are not data anyway. */
    const int64_t lim = INT64_MAX / 2;
    if (local_seconds > lim) local_seconds = lim;
    if (local_seconds < -lim) local_seconds = -lim;
    /* Every instant u with u + offset(u) == local lies within MAX_OFFSET of local, so the
     * offsets in force at the ends of that window are the candidates (zones never change
     * offset twice within two days; the inner look-ups cover the odd historical case). */
    int32_t early = st_tz_offset_at(tz, local_seconds - MAX_OFFSET);
    int32_t late = st_tz_offset_at(tz, local_seconds + MAX_OFFSET);
    int32_t cand[4] = {early, late, st_tz_offset_at(tz, local_seconds - early),
                       st_tz_offset_at(tz, local_seconds - late)};
    bool found = false;
    int64_t best = 0;
    for (int i = 0; i < 4; i++) {
        int64_t u;
        if (valid_at(tz, local_seconds, cand[i], &u) && (!found || u < best)) {
            best = u;
            found = true;
        }
    }
    if (found) return best; /* unique, or the earlier instant of an overlap */
    return local_seconds - late; /* a gap: the offset in force after it */
}

/* Append one transition of the expanded rule. An instant equal to the last one replaces it
 * (the later rule wins, as when daylight time ends exactly where next year's begins), and a
 * transition that changes nothing is dropped, so the table stays strictly ascending. */
static void table_push(st_tz *tz, size_t cap, int64_t at, int32_t off)
{
    if (tz->count && at < tz->at[tz->count - 1]) return;
    if (tz->count && at == tz->at[tz->count - 1]) tz->count--;
    int32_t prev = tz->count ? tz->off[tz->count - 1] : tz->first_off;
    if (off == prev || tz->count == cap) return;
    tz->at[tz->count] = at;
    tz->off[tz->count] = off;
    tz->count++;
}

/* After the table's last transition the footer rule applies. Expand it into the table up to
 * RULE_EXPAND_YEAR when the table ends in modern times; otherwise evaluate it directly. */
static strata_status attach_rule(st_tz *tz, const posix_rule *rule)
{
    int64_t last = tz->count ? tz->at[tz->count - 1] : INT64_MIN;
    if (last == INT64_MAX) return STRATA_OK; /* no instant comes after the table */
    tz->has_rule = true;
    tz->rule = *rule;
    tz->rule_from = tz->count ? last + 1 : INT64_MIN;
    if (!rule->has_dst || tz->count == 0) return STRATA_OK;
    int first_year = year_of_seconds(last) - 1;
    if (first_year < 1800 || first_year > RULE_EXPAND_YEAR) return STRATA_OK;
    size_t extra = 2 * (size_t)(RULE_EXPAND_YEAR - first_year + 1);
    size_t cap = tz->count + extra;
    int64_t *at = st_realloc(tz->at, cap * sizeof *at);
    if (!at) return STRATA_ENOMEM;
    tz->at = at;
    int32_t *off = st_realloc(tz->off, cap * sizeof *off);
    if (!off) return STRATA_ENOMEM;
    tz->off = off;
    /* From the first transition of the following year on, the rule is evaluated directly;
     * the table holds every transition before that instant. */
    int64_t next_start = rule_instant(&rule->start, RULE_EXPAND_YEAR + 1, rule->std_off);
    int64_t next_end = rule_instant(&rule->end, RULE_EXPAND_YEAR + 1, rule->dst_off);
    int64_t from = ST_MIN(next_start, next_end);
    for (int y = first_year; y <= RULE_EXPAND_YEAR; y++) {
        int64_t start = rule_instant(&rule->start, y, rule->std_off);
        int64_t end = rule_instant(&rule->end, y, rule->dst_off);
        bool start_first = start < end;
        for (int k = 0; k < 2; k++) {
            bool is_start = (k == 0) == start_first;
            int64_t when = is_start ? start : end;
            if (when > last && when < from)
                table_push(tz, cap, when, is_start ? rule->dst_off : rule->std_off);
        }
    }
    tz->rule_from = ST_MAX(from, last + 1);
    return STRATA_OK;
}

/* ---- TZif ---- */

typedef struct tzif_header {
    unsigned version; /* 1, 2, 3, 4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool read_header(const unsigned char *p, size_t len, tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    if (p[4] == 0)
        h->version = 1;
    else if (p[4] >= '2' && p[4] <= '4')
        h->version = (unsigned)(p[4] - '0');
    else
        return false;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

/* Bytes of a data block; 64-bit arithmetic so 32-bit counts cannot overflow it. */
static uint64_t block_size(const tzif_header *h, unsigned time_size)
{
    return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Validate one data block (RFC 8536 3.2) and build the table from it. */
static const char *read_block(const unsigned char *p, const tzif_header *h, unsigned time_size,
                              st_tz *tz)
{
    if (h->typecnt == 0 || h->typecnt > 256) return "bad number of local time types";
    if (h->charcnt == 0) return "no time zone designations";
    if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) return "bad standard/wall indicators";
    if (h->isutcnt != 0 && h->isutcnt != h->typecnt) return "bad UT/local indicators";
    if (h->leapcnt != 0) return "leap-second zone files are not supported";
    const unsigned char *times = p;
    const unsigned char *idx = times + (size_t)h->timecnt * time_size;
    const unsigned char *types = idx + h->timecnt;
    int32_t utoff[256];
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + 6 * (size_t)i;
        utoff[i] = (int32_t)be32(t);
        if (utoff[i] < -MAX_OFFSET || utoff[i] > MAX_OFFSET) return "offset out of range";
        if (t[4] > 1) return "bad daylight flag";
        if (t[5] >= h->charcnt) return "bad designation index";
    }
    /* The indicators only matter for POSIX TZ defaults, which we never apply: check their
     * range and otherwise ignore them. (leapcnt is 0 here, so no leap records precede.) */
    const unsigned char *flags = types + 6 * (size_t)h->typecnt + h->charcnt;
    for (uint32_t i = 0; i < h->isstdcnt + h->isutcnt; i++)
        if (flags[i] > 1) return "bad indicator";
    tz->first_off = utoff[0];
    if (h->timecnt == 0) return NULL;
    tz->at = st_malloc(h->timecnt * sizeof *tz->at);
    tz->off = st_malloc(h->timecnt * sizeof *tz->off);
    if (!tz->at || !tz->off) return ""; /* "" = out of memory */
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t at = time_size == 8 ? be64(times + 8 * (size_t)i)
                                    : (int64_t)(int32_t)be32(times + 4 * (size_t)i);
        if (i > 0 && at <= tz->at[i - 1]) return "transitions out of order";
        if (idx[i] >= h->typecnt) return "bad transition type";
        tz->at[i] = at;
        tz->off[i] = utoff[idx[i]];
    }
    tz->count = h->timecnt;
    return NULL;
}

/* Parse TZif bytes; on failure *why says what is wrong ("" for out of memory). */
static strata_status tzif_parse(const unsigned char *data, size_t len, st_tz **out,
                                const char **why)
{
    *out = NULL;
    *why = "not a TZif file";
    tzif_header h;
    if (!data || !read_header(data, len, &h)) return STRATA_ECONFIG;
    uint64_t size = block_size(&h, 4);
    const unsigned char *block = data + 44;
    unsigned time_size = 4;
    const char *footer = NULL;
    size_t footer_len = 0;
    if (h.version >= 2) {
        /* Skip the v1 block; the 64-bit block follows with its own header. */
        if (size > len - 44 || len - 44 - size < 44) return (*why = "truncated", STRATA_ECONFIG);
        const unsigned char *h2 = block + size;
        tzif_header v1 = h;
        if (!read_header(h2, 44, &h) || h.version != v1.version)
            return (*why = "bad second header", STRATA_ECONFIG);
        block = h2 + 44;
        time_size = 8;
        size = block_size(&h, 8);
        size_t used = (size_t)(block - data);
        if (size > len - used) return (*why = "truncated", STRATA_ECONFIG);
        const char *f = (const char *)block + size;
        size_t rest = len - used - (size_t)size;
        const char *nl = rest > 1 ? memchr(f + 1, '\n', rest - 1) : NULL;
        if (rest < 2 || f[0] != '\n' || !nl) return (*why = "missing footer", STRATA_ECONFIG);
        footer = f + 1;
        footer_len = (size_t)(nl - footer);
    } else if (size > len - 44) {
        return (*why = "truncated", STRATA_ECONFIG);
    }
    st_tz *tz = tz_fixed(0);
    if (!tz) return (*why = "", STRATA_ENOMEM);
    const char *bad = read_block(block, &h, time_size, tz);
    strata_status st = STRATA_OK;
    if (bad) {
        *why = bad;
        st = bad[0] ? STRATA_ECONFIG : STRATA_ENOMEM;
    } else if (footer_len > 0) {
        posix_rule rule;
        if (!parse_posix_tz(footer, footer_len, &rule)) {
            *why = "bad POSIX TZ footer";
            st = STRATA_ECONFIG;
        } else {
            st = attach_rule(tz, &rule);
            if (st != STRATA_OK) *why = "";
        }
    }
    if (st != STRATA_OK) {
        st_tz_free(tz);
        return st;
    }
    *out = tz;
    return STRATA_OK;
}

strata_status st_tz_from_tzif(const unsigned char *data, size_t len, st_tz **out)
{
    const char *why;
    return tzif_parse(data, len, out, &why);
}

/* ---- st_tz_load ---- */

/* "+08:00", "-05:30", "+0530", "+8", "-11"; false if the text is not of that shape. */
static bool parse_fixed_offset(const char *s, int32_t *out)
{
    size_t n = strlen(s);
    if (n < 2 || (s[0] != '+' && s[0] != '-')) return false;
    const char *d = s + 1;
    size_t dn = n - 1;
    int h, m = 0;
    if (dn == 1 && is_digit(d[0])) {
        h = d[0] - '0';
    } else if (dn >= 2 && is_digit(d[0]) && is_digit(d[1])) {
        h = (d[0] - '0') * 10 + (d[1] - '0');
        const char *mm = dn == 5 && d[2] == ':' ? d + 3 : dn == 4 ? d + 2 : NULL;
        if (dn != 2 && !mm) return false;
        if (mm) {
            if (!is_digit(mm[0]) || !is_digit(mm[1])) return false;
            m = (mm[0] - '0') * 10 + (mm[1] - '0');
        }
    } else {
        return false;
    }
    if (h > 23 || m > 59) return false;
    *out = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

static bool valid_zone_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '+' || c == '-' || c == '/'))
            return false;
        if (c == '/' && s[i + 1] == '/') return false;
    }
    return true;
}

/* Read at most TZIF_MAX_BYTES of a file into an allocated buffer. */
static strata_status read_small_file(const char *path, unsigned char **data, size_t *len,
                                     const char **why)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return (*why = "unknown time zone (no such zone file)", STRATA_ECONFIG);
    size_t cap = 8192, n = 0;
    unsigned char *buf = st_malloc(cap);
    strata_status st = buf ? STRATA_OK : STRATA_ENOMEM;
    while (st == STRATA_OK) {
        if (n == cap) {
            if (cap >= TZIF_MAX_BYTES) {
                *why = "zone file too large";
                st = STRATA_ECONFIG;
                break;
            }
            unsigned char *bigger = st_realloc(buf, cap * 2);
            if (!bigger) {
                st = STRATA_ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                *why = "cannot read zone file";
                st = STRATA_ECONFIG;
            }
            break;
        }
    }
    fclose(f);
    if (st != STRATA_OK) {
        st_free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return STRATA_OK;
}

strata_status st_tz_load(strata_ctx *ctx, const char *spec, st_tz **out)
{
    *out = NULL;
    if (!spec) spec = "";
    int32_t fixed = 0;
    st_sv name = st_sv_cstr(spec);
    if (name.len == 0 || st_sv_eq_nocase(name, ST_SV("UTC")) || st_sv_eq_nocase(name, ST_SV("Z")) ||
        parse_fixed_offset(spec, &fixed)) {
        *out = tz_fixed(fixed);
        return *out ? STRATA_OK : st_error(ctx, STRATA_ENOMEM, "time zone '%s': out of memory", spec);
    }
    if (!valid_zone_name(spec))
        return st_error(ctx, STRATA_ECONFIG,
                        "time zone '%s': not UTC, an offset like +08:00 or an IANA name", spec);
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0]) dir = "/usr/share/zoneinfo";
    char path[4096];
    int pn = snprintf(path, sizeof path, "%s/%s", dir, spec);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return st_error(ctx, STRATA_ECONFIG, "time zone '%s': path too long", spec);
    unsigned char *data;
    size_t len;
    const char *why = "";
    strata_status st = read_small_file(path, &data, &len, &why);
    if (st == STRATA_OK) {
        st = tzif_parse(data, len, out, &why);
        st_free(data);
    }
    if (st == STRATA_ENOMEM) return st_error(ctx, st, "time zone '%s': out of memory", spec);
    if (st != STRATA_OK) return st_error(ctx, st, "time zone '%s' (%s): %s", spec, path, why);
    return STRATA_OK;
}
