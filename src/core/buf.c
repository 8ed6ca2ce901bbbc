/*
 * buf.c — bounded growable byte buffers (after curl's dynbuf) and the text encoders the
 * writers share: CSV fields, JSON strings, exact money, trimmed doubles.
 */
#include "core/core.h"

static strata_status reserve(st_buf *b, size_t extra);

#include <math.h>
#include <stdio.h>

void st_buf_init(st_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
}

void st_buf_clear(st_buf *b)
{
    st_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void st_buf_reset(st_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

strata_status st_buf_reserve(st_buf *b, size_t extra)
{
    return reserve(b, extra);
}

static strata_status reserve(st_buf *b, size_t extra)
{
    if (extra > b->max - b->len) return STRATA_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return STRATA_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = st_realloc(b->data, cap);
    if (!p) return STRATA_ENOMEM;
    b->data = p;
    b->cap = cap;
    return STRATA_OK;
}

strata_status st_buf_append_slow(st_buf *b, const void *data, size_t len)
{
    strata_status st = reserve(b, len);
    if (st != STRATA_OK) return st;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return STRATA_OK;
}

strata_status st_buf_puts(st_buf *b, const char *s)
{
    return st_buf_append(b, s, strlen(s));
}


strata_status st_buf_vprintf(st_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return STRATA_EINTERNAL;
    if ((size_t)n < sizeof small) return st_buf_append(b, small, (size_t)n);
    strata_status st = reserve(b, (size_t)n);
    if (st != STRATA_OK) return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return STRATA_OK;
}

strata_status st_buf_printf(st_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strata_status st = st_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

strata_status st_buf_csv_field(st_buf *b, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') {
            quote = true;
            break;
        }
    if (!quote) return st_buf_append(b, s, len);
    strata_status st = st_buf_putc(b, '"');
    for (size_t i = 0; i < len && st == STRATA_OK; i++) {
        if (s[i] == '"') st = st_buf_putc(b, '"');
        if (st == STRATA_OK) st = st_buf_putc(b, s[i]);
    }
    return st == STRATA_OK ? st_buf_putc(b, '"') : st;
}

strata_status st_buf_json_string(st_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    strata_status st = st_buf_putc(b, '"');
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < len && st == STRATA_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        st = st_buf_append(b, s + run, i - run);
        run = i + 1;
        if (st != STRATA_OK) break;
        switch (c) {
        case '"': st = st_buf_puts(b, "\\\""); break;
        case '\\': st = st_buf_puts(b, "\\\\"); break;
        case '\n': st = st_buf_puts(b, "\\n"); break;
        case '\r': st = st_buf_puts(b, "\\r"); break;
        case '\t': st = st_buf_puts(b, "\\t"); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            st = st_buf_append(b, u, 6);
        }
        }
    }
    if (st == STRATA_OK) st = st_buf_append(b, s + run, len - run);
    return st == STRATA_OK ? st_buf_putc(b, '"') : st;
}

/* Digits of v, most significant first, ending at end; returns the start. Writing a million
 * profiles calls this tens of millions of times, where printf's format parsing showed at the
 * top of the profile; two digits a step from a table halve the divisions. */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
                                  "25262728293031323334353637383940414243444546474849"
                                  "50515253545556575859606162636465666768697071727374"
                                  "75767778798081828384858687888990919293949596979899";

static char *utoa_end(uint64_t v, char *end)
{
    char *p = end;
    while (v >= 100) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

static int digit_count(uint64_t v)
{
    int n = 1;
    for (;;) { /* four digits a step: most numbers written are below 10^4 */
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000, n += 4;
    }
}

char *st_fmt_i64(char *out, int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *out++ = '-';
    char *end = out + digit_count(mag);
    utoa_end(mag, end);
    return end;
}

/* sign, whole part and `digits` fraction digits of mag / 10^digits, trailing zeros trimmed
 * down to keep_digits */
static char *put_fixed(char *out, bool neg, uint64_t mag, int digits, int keep_digits)
{
    static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000, 1000000000};
    uint64_t scale = pow10[digits];
    uint64_t whole = mag / scale, frac = mag % scale;
    int shown = digits;
    while (shown > keep_digits && frac % 10 == 0)
        frac /= 10, shown--;
    if (neg && (whole || shown)) *out++ = '-';
    char *end = out + digit_count(whole) + (shown ? 1 + shown : 0);
    char *p = end;
    for (int i = 0; i < shown; i++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    if (shown) *--p = '.';
    utoa_end(whole, p);
    return end;
}

char *st_fmt_micros(char *out, int64_t micros)
{
    uint64_t mag = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    uint64_t whole = mag / 1000000, frac = mag % 1000000;
    if (frac % 10000) return put_fixed(out, micros < 0, mag, 6, 2);
    /* whole cents, most money: two fraction digits without trimming zeros one by one */
    if (micros < 0) *out++ = '-';
    char *end = out + digit_count(whole);
    utoa_end(whole, end);
    unsigned cents = (unsigned)(frac / 10000);
    end[0] = '.', end[1] = (char)('0' + cents / 10), end[2] = (char)('0' + cents % 10);
    return end + 3;
}

char *st_fmt_double(char *out, double v, int digits)
{
    if (!isfinite(v)) return out;
    if (digits < 0) digits = 0;
    if (digits > 9 || fabs(v) >= 1e9) return NULL;
    static const double pow10d[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    /* llround for x in [0, 1e18) without the call: truncation is exact there, and so is the
     * remainder x - t (t is x's integer part, both representable) */
    double x = fabs(v) * pow10d[digits];
    uint64_t t = (uint64_t)x;
    uint64_t mag = t + (x - (double)t >= 0.5);
    if (mag == 0) {
        *out = '0';
        return out + 1;
    }
    return put_fixed(out, v < 0, mag, digits, 0);
}

/* An st_fmt_* encoder's output appended to b */
#define APPEND_FMT(b, call)                                                                        \
    do {                                                                                           \
        strata_status st_ = reserve(b, ST_FMT_NUMBER_MAX);                                         \
        if (st_ != STRATA_OK) return st_;                                                          \
        char *out = (b)->data + (b)->len;                                                          \
        (b)->len = (size_t)((call) - (b)->data);                                                   \
        (b)->data[(b)->len] = '\0';                                                                \
    } while (0)

strata_status st_buf_i64(st_buf *b, int64_t v)
{
    APPEND_FMT(b, st_fmt_i64(out, v));
    return STRATA_OK;
}

strata_status st_buf_micros(st_buf *b, int64_t micros)
{
    APPEND_FMT(b, st_fmt_micros(out, micros));
    return STRATA_OK;
}

strata_status st_buf_double(st_buf *b, double v, int digits)
{
    if (!isfinite(v)) return STRATA_OK;
    if (digits < 0) digits = 0;
    strata_status st = reserve(b, ST_FMT_NUMBER_MAX);
    if (st != STRATA_OK) return st;
    char *end = st_fmt_double(b->data + b->len, v, digits);
    if (end) {
        b->len = (size_t)(end - b->data);
        b->data[b->len] = '\0';
        return STRATA_OK;
    }
    /* what st_fmt_double leaves to printf: |v| >= 1e9 or more than 9 digits */
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.*f", digits, v);
    if (n < 0 || n >= (int)sizeof tmp) return st_buf_printf(b, "%g", v);
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0') n--;
        if (n > 0 && tmp[n - 1] == '.') n--;
    }
    return st_buf_append(b, tmp, (size_t)n);
}

char *st_buf_take(st_buf *b)
{
    char *p = b->data;
    if (!p) p = st_strndup("", 0);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
