/*
 * core.h — internal foundation shared by every stage: the counting allocator, the context
 * (configuration, last error, progress), bounded buffers, string views, an arena, a string
 * interning table and hashing. Nothing here knows about orders or persons.
 *
 * Cross-file internals are prefixed st_; public functions live in include/strata.h.
 */
#ifndef ST_CORE_H
#define ST_CORE_H

#include "strata.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- assertions with defined build behaviour (SQLite's ALWAYS/NEVER) ---- */
#ifdef NDEBUG
#define ST_ASSERT(x) ((void)0)
#define ST_ALWAYS(x) (x)
#define ST_NEVER(x) (x)
#else
#include <assert.h>
#define ST_ASSERT(x) assert(x)
#define ST_ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define ST_NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif
/* Release builds keep assertions on as a safety net; checks made on every row of the hot
 * loops (10M times a run) are compiled in the sanitizer builds only, which run every test. */
#if defined(STRATA_SANITIZED) && !defined(NDEBUG)
#define ST_ROW_ASSERT(x) assert(x)
#else
#define ST_ROW_ASSERT(x) ((void)0)
#endif

#define ST_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ST_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ST_LIKELY(x) __builtin_expect(!!(x), 1)
#define ST_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- allocation: every byte the library owns goes through here (alloc.c) ---- */
void *st_malloc(size_t size);
/* Take back the huge-page advice st_malloc gives large blocks, for an array that is only
 * walked in order: first touching 2 MiB pages costs more on a VM (see vmrows.c). Call before
 * writing to it. */
void st_memory_sequential(void *p, size_t size);
/* Fault in every page of [p, p + size) writable (MADV_POPULATE_WRITE, else a write per page)
 * so that the faults and the kernel's zeroing happen now, on the calling thread, instead of at
 * first use. */
void st_memory_touch(void *p, size_t size);
void *st_calloc(size_t count, size_t size);
/* Zeroed like st_calloc, but by writing every byte: for tables read before they are written
 * all over (hash slots, counters), where calloc's lazily zeroed pages cost two faults each. */
void *st_malloc_zeroed(size_t count, size_t size);
void *st_realloc(void *ptr, size_t size);
void st_free(void *ptr);
char *st_strndup(const char *s, size_t n);
char *st_strdup(const char *s);

/* Grow *items (of elem_size bytes each) so that it holds at least `need` elements, doubling.
 * Returns false on overflow or allocation failure, leaving *items unchanged. */
bool st_grow(void **items, size_t *cap, size_t need, size_t elem_size);
/* The common case, room already, is decided inline: the call showed in the profile where one
 * is made per row or per order. */
#define ST_GROW(arr, cap, need)                                                                    \
    ((size_t)(need) <= (size_t)(cap) || st_grow((void **)&(arr), &(cap), (need), sizeof(*(arr))))

/* Add (or with a negative delta, remove) bytes held outside st_malloc, e.g. st_vmrows. */
void st_memory_account(int64_t delta);

/* Big tables that double (hash slots): mapped at 2 MiB boundaries with huge-page advice and
 * already faulted in, zero-filled. st_table_grow moves the old pages to the start of a larger
 * mapping (mremap: no copy, huge pages kept) and returns it; the old pointer is gone, and on
 * failure (NULL) it is left as it was. Sizes are the caller's; counted like st_malloc. */
void *st_table_alloc(size_t bytes);
void *st_table_grow(void *p, size_t old_bytes, size_t new_bytes);
void st_table_free(void *p, size_t bytes);

/* ---- growable row tables with stable addresses (vmrows.c) ---- */
#include <stdatomic.h>
typedef struct st_vmrows {
    unsigned char *base;
    size_t rec_size, max_rows, reserved_bytes, accounted;
    _Atomic size_t claimed; /* rows handed out so far */
} st_vmrows;

/* Reserve address space for max_rows rows; nothing is committed until written. */
strata_status st_vmrows_init(st_vmrows *t, size_t rec_size, size_t max_rows);
void st_vmrows_clear(st_vmrows *t);
/* Give the pages of part `part` of `parts` equal parts of the claimed rows back to the system,
 * keeping the reservation: several threads can do so at once (unmapping takes the address
 * space's lock, this only reads it). The rows are gone; clear the table next. */
void st_vmrows_release(st_vmrows *t, unsigned part, unsigned parts);
/* Claim `count` consecutive rows; returns the first row, or SIZE_MAX when the table is full.
 * Thread-safe. */
size_t st_vmrows_claim(st_vmrows *t, size_t count);
/* Count `rows` rows as used in the allocator's memory figures. */
void st_vmrows_account(st_vmrows *t, size_t rows);

/* Set bits of x. Inline arithmetic rather than __builtin_popcountll, which without
 * -mpopcnt (not in the x86-64 baseline) is a call into libgcc per word. */
static inline unsigned st_popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* ---- string views: parse from pointer + length, no copies ---- */
typedef struct st_sv {
    const char *ptr;
    size_t len;
} st_sv;

#define ST_SV(lit) ((st_sv){(lit), sizeof(lit) - 1})
static inline st_sv st_sv_make(const char *p, size_t n)
{
    st_sv v = {p, n};
    return v;
}
static inline st_sv st_sv_cstr(const char *s)
{
    st_sv v = {s, s ? strlen(s) : 0};
    return v;
}
static inline bool st_sv_eq(st_sv a, st_sv b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
bool st_sv_eq_nocase(st_sv a, st_sv b);
st_sv st_sv_trim_slow(st_sv v);
/* Without surrounding blanks (space, tab). Inline: called on every field of every row, and
 * fields almost never have blanks. */
static inline st_sv st_sv_trim(st_sv v)
{
    /* blanks are bytes up to ' ': one compare per end decides for nearly every field */
    if (v.len == 0 || ((unsigned char)v.ptr[0] > ' ' && (unsigned char)v.ptr[v.len - 1] > ' '))
        return v;
    return st_sv_trim_slow(v);
}
/* Parse a decimal integer (optional sign, surrounding blanks allowed); false on junk or
 * overflow. */
bool st_sv_to_i64(st_sv v, int64_t *out);
/* Parse a finite decimal number (strtod grammar, no hex/inf/nan); false on junk. */
bool st_sv_to_double(st_sv v, double *out);
/* Parse a decimal amount exactly into micro-units (1e-6). Accepts an optional sign, digits,
 * an optional fraction and an optional exponent. More than 6 fraction digits are rounded
 * half away from zero and *rounded is set. False on junk or overflow. */
bool st_sv_to_micros_general(st_sv v, int64_t *out, bool *rounded);
static inline bool st_sv_to_micros(st_sv v, int64_t *out, bool *rounded)
{
    /* Inline for the common shape of money in files — [sign] up to 12 digits [. up to 6
     * digits], no blanks — in one loop over the bytes; anything else (blanks, more digits, an
     * exponent, junk) goes to the general parser, which accepts a superset with the same
     * values. Four of these per order row: the call and the separate integer and fraction
     * loops were ~100 instructions each. */
    static const uint64_t scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    const char *p = v.ptr;
    size_t n = v.len, i = 0, dot = 0; /* dot: position + 1 of the '.', 0 = none */
    if (n == 0 || n > 20) return st_sv_to_micros_general(v, out, rounded);
    bool neg = p[0] == '-';
    if (neg || p[0] == '+') i = 1;
    size_t first = i;
    uint64_t m = 0;
    for (; i < n; i++) {
        unsigned c = (unsigned)(unsigned char)p[i] - '0';
        if (c < 10)
            m = m * 10 + c;
        else if (p[i] == '.' && !dot)
            dot = i + 1;
        else
            return st_sv_to_micros_general(v, out, rounded);
    }
    size_t int_digits = (dot ? dot - 1 : n) - first, frac_digits = dot ? n - dot : 0;
    if (int_digits > 12 || frac_digits > 6 || int_digits + frac_digits == 0)
        return st_sv_to_micros_general(v, out, rounded);
    m *= scale[frac_digits];
    *out = neg ? -(int64_t)m : (int64_t)m;
    if (rounded) *rounded = false;
    return true;
}
/* Interpret yes/no style flags: 1/0, true/false, yes/no, y/n, t/f (any case). */
bool st_sv_to_bool_general(st_sv v, bool *out);
static inline bool st_sv_to_bool(st_sv v, bool *out)
{
    /* 0/1 fill whole flag columns: decided here without the call */
    if (v.len == 1 && (v.ptr[0] == '0' || v.ptr[0] == '1')) return *out = v.ptr[0] == '1', true;
    return st_sv_to_bool_general(v, out);
}

/* ---- bounded growable byte buffer (curl dynbuf) ---- */
typedef struct st_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    size_t max; /* ceiling on len; appends beyond it fail with STRATA_ELIMIT */
} st_buf;

void st_buf_init(st_buf *b, size_t max);
void st_buf_clear(st_buf *b); /* frees the storage */
void st_buf_reset(st_buf *b); /* keeps the storage, len = 0 */
strata_status st_buf_append_slow(st_buf *b, const void *data, size_t len);
/* Appends are inlined for the common case of room in the buffer: writers call them once per
 * field on millions of rows. */
static inline strata_status st_buf_append(st_buf *b, const void *data, size_t len)
{
    if (ST_LIKELY(b->data && len < b->cap - b->len && len <= b->max - b->len)) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return STRATA_OK;
    }
    return st_buf_append_slow(b, data, len);
}
static inline strata_status st_buf_putc(st_buf *b, char c)
{
    return st_buf_append(b, &c, 1);
}
strata_status st_buf_puts(st_buf *b, const char *s);
/* Make room for `extra` more bytes (within the ceiling). */
strata_status st_buf_reserve(st_buf *b, size_t extra);
strata_status st_buf_printf(st_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
strata_status st_buf_vprintf(st_buf *b, const char *fmt, va_list ap);
/* Append text as a CSV field (quoted when it holds the delimiter, quote, CR or LF). */
strata_status st_buf_csv_field(st_buf *b, const char *s, size_t len);
/* Append text as a JSON string literal with escapes. */
strata_status st_buf_json_string(st_buf *b, const char *s, size_t len);
/* Append a decimal integer (no printf). */
strata_status st_buf_i64(st_buf *b, int64_t v);
/* The same encoders into a caller's array with room for ST_FMT_NUMBER_MAX bytes (no NUL),
 * for writers that reserve a whole row at once; they return the end of what they wrote.
 * st_fmt_double returns NULL where st_buf_double needs printf (|v| ≥ 1e9 or digits > 9). */
#define ST_FMT_NUMBER_MAX 48
char *st_fmt_i64(char *out, int64_t v);
char *st_fmt_micros(char *out, int64_t micros);
char *st_fmt_double(char *out, double v, int digits);
/* Append micro-units as a decimal with at least two fraction digits ("12.50", "0.105"). */
strata_status st_buf_micros(st_buf *b, int64_t micros);
/* Append a double with up to `digits` fraction digits, trailing zeros trimmed. */
strata_status st_buf_double(st_buf *b, double v, int digits);
/* Hand the data to the caller (who frees with st_free) and reset the buffer. */
char *st_buf_take(st_buf *b);

/* ---- arena: many small allocations freed together ---- */
typedef struct st_arena_block st_arena_block;
typedef struct st_arena {
    st_arena_block *head;
    size_t block_size;
    size_t total; /* bytes handed out */
} st_arena;

void st_arena_init(st_arena *a, size_t block_size);
void st_arena_clear(st_arena *a);
void *st_arena_alloc(st_arena *a, size_t size, size_t align);
char *st_arena_strndup(st_arena *a, const char *s, size_t n);

/* ---- hashing (xxHash XXH3) ---- */
uint64_t st_hash64(const void *data, size_t len);
uint64_t st_hash64_seed(const void *data, size_t len, uint64_t seed);
static inline uint64_t st_hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* The bytes of a string of 1 to 16 bytes as two words, by loads that overlap instead of a
 * call: for one length, equal strings give equal words and different strings different
 * words (every byte is in some word). For short ids and names compared on every row, where
 * the libc memcmp call showed in the profile. */
static inline void st_short_words(const char *p, size_t len, uint64_t w[2])
{
    if (len >= 8) {
        memcpy(&w[0], p, 8), memcpy(&w[1], p + len - 8, 8);
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4), memcpy(&b, p + len - 4, 4);
        w[0] = a | (uint64_t)b << 32, w[1] = 0;
    } else {
        w[0] = len ? (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[len / 2] << 8 |
                         (uint64_t)(unsigned char)p[len - 1] << 16
                   : 0;
        w[1] = 0;
    }
}

/* memcpy(dst, src, len) for len ≤ 16 by loads and stores that overlap instead of a call (no
 * byte outside either range is touched): for the labels and ids written on every row. */
static inline void st_short_copy(char *dst, const char *src, size_t len)
{
    if (len >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8), memcpy(&b, src + len - 8, 8);
        memcpy(dst, &a, 8), memcpy(dst + len - 8, &b, 8);
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4), memcpy(&b, src + len - 4, 4);
        memcpy(dst, &a, 4), memcpy(dst + len - 4, &b, 4);
    } else if (len) {
        char a = src[0], m = src[len / 2], z = src[len - 1];
        dst[0] = a, dst[len / 2] = m, dst[len - 1] = z;
    }
}

/* memcmp(a, b, len) == 0 for len ≤ 16 without the call (st_short_words) */
static inline bool st_short_eq(const char *a, const char *b, size_t len)
{
    uint64_t x[2], y[2];
    st_short_words(a, len, x), st_short_words(b, len, y);
    return x[0] == y[0] && x[1] == y[1];
}

/* ---- interning: distinct strings get dense uint32 ids in order of first insertion ---- */
/* A probe reads one 32-byte slot holding the full hash, the length, the id and the first
 * 16 bytes of the string, so looking up a short id (most person ids) costs one cache miss. */
#define ST_INTERN_INLINE 16
typedef struct st_intern_slot {
    uint64_t hash;
    uint32_t id1; /* id + 1; 0 = empty */
    uint32_t len;
    char prefix[ST_INTERN_INLINE];
} st_intern_slot;

/* Slots past the last home position: probes run upward and never wrap around, so a table can
 * double in place (intern.c); a cluster that would run past them makes the table grow. */
#define ST_INTERN_TAIL 256
typedef struct st_intern {
    st_intern_slot *slots; /* mask + 1 (a power of two, load ≤ 1/2) + ST_INTERN_TAIL */
    uint64_t *hashes;      /* per id */
    const char **strs;     /* per id, in the arena, NUL-terminated */
    uint32_t *lens;        /* per id */
    size_t count, cap_ids, mask;
    bool mapped; /* slots from st_table_alloc (large tables), else st_malloc */
    st_arena arena;
} st_intern;

#define ST_INTERN_NONE UINT32_MAX
void st_intern_init(st_intern *t);
void st_intern_clear(st_intern *t);
/* Room for n strings without rehashing (a merge that knows its size skips the doublings). */
bool st_intern_reserve(st_intern *t, size_t n);
/* Id of the string, adding it if new (*added set when given). ST_INTERN_NONE on ENOMEM or
 * when the table already holds `limit` strings (0 = no limit). */
uint32_t st_intern_put_limit(st_intern *t, const char *s, size_t len, uint64_t hash, bool *added,
                             size_t limit);
static inline uint32_t st_intern_put(st_intern *t, const char *s, size_t len, uint64_t hash,
                                     bool *added)
{
    return st_intern_put_limit(t, s, len, hash, added, 0);
}
/* Start loading the slot a lookup of `hash` will read first: called early in a row, it hides
 * the cache miss of a large table behind the row's other parsing. */
static inline void st_intern_prefetch(const st_intern *t, uint64_t hash)
{
    if (t->slots) __builtin_prefetch(&t->slots[hash & t->mask]);
}
/* Id of the string or ST_INTERN_NONE. */
uint32_t st_intern_find(const st_intern *t, const char *s, size_t len, uint64_t hash);
static inline st_sv st_intern_str(const st_intern *t, uint32_t id)
{
    return st_sv_make(t->strs[id], t->lens[id]);
}

/* ---- the context ---- */
typedef struct st_config st_config;
struct strata_ctx {
    st_config *config;
    char errmsg[1024];
    strata_progress_fn progress;
    void *progress_ud;
    unsigned threads;
};

/* Record a failure on ctx and return its status: st_error(ctx, STRATA_EPARSE, "%s:%zu: ...") */
strata_status st_error(strata_ctx *ctx, strata_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void st_progress(strata_ctx *ctx, const char *stage, uint64_t done, uint64_t total);
unsigned st_threads(const strata_ctx *ctx);

/* ---- output files ---- */
/* A new output file: written as PATH.part (fopen "wb"), it replaces PATH only at
 * st_fclose_new(f, path, true) once everything was written, so a failed run leaves the
 * previous file whole (file.c). */
FILE *st_fopen_new(const char *path);
/* Close an st_fopen_new file. keep: rename it over PATH (0, or EOF with errno on a write or
 * rename error, the temporary removed); !keep: discard it (returns 0). */
int st_fclose_new(FILE *f, const char *path, bool keep);

/* ---- parallel loops (pthreads) ---- */
/* Run fn over [0, n) split into `threads` contiguous ranges, one thread each (the calling
 * thread takes the first). fn returns a status; the first failure is returned. */
typedef strata_status (*st_range_fn)(void *arg, size_t begin, size_t end, unsigned thread);
strata_status st_parallel_for(unsigned threads, size_t n, st_range_fn fn, void *arg);
/* Run fn over [0, n) in chunks of `chunk` items that threads take in turn as they finish the
 * last: for work whose cost per item varies along the range (a person's rows, say). Which
 * thread runs a chunk depends on scheduling; fn's results must not. After a failure no new
 * chunk starts; the first failure is returned. */
strata_status st_parallel_chunks(unsigned threads, size_t n, size_t chunk, st_range_fn fn,
                                 void *arg);

/* ---- sorting ---- */
/* Sort pairs by key ascending (stable), payload moved along (vals may be NULL: keys only).
 * O(n) extra memory. */
strata_status st_radix_sort_pairs(uint64_t *keys, uint32_t *vals, size_t n);
/* The k-th smallest of v[0..n) (0-based); reorders v. n > k required. */
int64_t st_select_i64(int64_t *v, size_t n, size_t k);
/* Map a signed value to an unsigned key with the same order. */
static inline uint64_t st_order_key(int64_t v)
{
    return (uint64_t)v ^ (1ull << 63);
}

/* ---- dates: days since 1970-01-01 (proleptic Gregorian, Howard Hinnant's algorithms) ---- */
int32_t st_days_from_civil(int y, unsigned m, unsigned d);
void st_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d);
bool st_valid_civil(int y, unsigned m, unsigned d);

#endif /* ST_CORE_H */
