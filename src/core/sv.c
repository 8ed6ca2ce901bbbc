/*
 * sv.c — parsing of numbers and flags from string views (pointer + length, no copies and no
 * NUL terminator needed). These replace atoi/strtod on untrusted input.
 */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

st_sv st_sv_trim_slow(st_sv v)
{
    while (v.len && is_blank(v.ptr[0]))
        v.ptr++, v.len--;
    while (v.len && is_blank(v.ptr[v.len - 1]))
        v.len--;
    return v;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool st_sv_eq_nocase(st_sv a, st_sv b)
{
    if (a.len != b.len) return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.ptr[i]) != lower(b.ptr[i])) return false;
    return true;
}

bool st_sv_to_i64(st_sv v, int64_t *out)
{
    v = st_sv_trim(v);
    size_t i = 0;
    bool neg = false;
    if (i < v.len && (v.ptr[i] == '-' || v.ptr[i] == '+')) neg = v.ptr[i++] == '-';
    if (i == v.len) return false;
    uint64_t acc = 0;
    for (; i < v.len; i++) {
        unsigned d = (unsigned)(v.ptr[i] - '0');
        if (d > 9) return false;
        if (acc > (UINT64_MAX - d) / 10) return false;
        acc = acc * 10 + d;
    }
    if (neg ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX) return false;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return true;
}

bool st_sv_to_double(st_sv v, double *out)
{
    v = st_sv_trim(v);
    if (v.len == 0 || v.len > 63) return false;
    char tmp[64];
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        /* strtod would also take hex, inf and nan; numbers in data files are decimal */
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return false;
        tmp[i] = c;
    }
    tmp[v.len] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (end != tmp + v.len || !isfinite(d)) return false;
    *out = d;
    return true;
}

bool st_sv_to_micros_general(st_sv v, int64_t *out, bool *rounded)
{
    v = st_sv_trim(v);
    size_t i = 0, n = v.len;
    const char *p = v.ptr;
    bool neg = false;
    if (rounded) *rounded = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
    /* collect up to 19 significant digits and the decimal exponent they stand for */
    uint64_t mant = 0;
    int exp10 = 0, digits = 0, first_dropped = -1; /* the digit right after the kept ones */
    bool any = false, dropped_nonzero = false;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        any = true;
        if (digits < 19) {
            mant = mant * 10 + (unsigned)(p[i] - '0');
            if (mant) digits++;
        } else {
            exp10++;
            if (first_dropped < 0) first_dropped = p[i] - '0';
            dropped_nonzero |= p[i] != '0';
        }
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            any = true;
            if (digits < 19) {
                mant = mant * 10 + (unsigned)(p[i] - '0');
                if (mant) digits++;
                exp10--;
            } else {
                if (first_dropped < 0) first_dropped = p[i] - '0';
                dropped_nonzero |= p[i] != '0';
            }
        }
    }
    if (!any) return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        int64_t e;
        if (!st_sv_to_i64(st_sv_make(p + i + 1, n - i - 1), &e) || e > 400 || e < -400)
            return false;
        exp10 += (int)e;
        i = n;
    }
    if (i != n) return false;
    /* value = mant * 10^exp10; we want value * 10^6 */
    int shift = exp10 + 6;
    uint64_t res = mant;
    if (shift >= 0) {
        for (int k = 0; k < shift; k++) {
            if (res > UINT64_MAX / 10) return mant == 0 ? (*out = 0, true) : false;
            res *= 10;
        }
        /* 19 kept digits ending exactly at the micro: the first dropped digit rounds (a larger
         * shift with dropped digits cannot fit in int64 micros) */
        if (shift == 0 && dropped_nonzero) {
            if (rounded) *rounded = true;
            if (first_dropped >= 5) res++;
        }
    } else {
        uint64_t rem_nonzero = 0, last = 0;
        for (int k = 0; k < -shift; k++) {
            rem_nonzero |= last;
            last = res % 10;
            res /= 10;
        }
        if (last || rem_nonzero || dropped_nonzero) {
            if (rounded) *rounded = true;
            if (last >= 5) res++; /* half away from zero */
        }
    }
    if (res > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)res : (int64_t)res;
    return true;
}

bool st_sv_to_bool_general(st_sv v, bool *out)
{
    v = st_sv_trim(v);
    if (v.len == 1) { /* 0/1 flags fill whole columns: no list walk for them */
        char c = lower(v.ptr[0]);
        if (c == '1' || c == 'y' || c == 't') return *out = true, true;
        if (c == '0' || c == 'n' || c == 'f') return *out = false, true;
        return false;
    }
    static const st_sv yes[] = {{"true", 4}, {"yes", 3}};
    static const st_sv no[] = {{"false", 5}, {"no", 2}};
    for (size_t i = 0; i < ST_ARRAY_LEN(yes); i++) {
        if (st_sv_eq_nocase(v, yes[i])) return *out = true, true;
        if (st_sv_eq_nocase(v, no[i])) return *out = false, true;
    }
    return false;
}
