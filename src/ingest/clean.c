/*
 * clean.c — grouping, de-duplication, as-of exclusion and outliers over whole row tables.
 *
 * Rows are sorted in place by person with American flag sorts (elements swapped into
 * place, no second buffer): 256 buckets by the top byte of the person id, then one bucket per
 * person inside each of those; within a person by (order, fingerprint, line) for orders or
 * (time, fingerprint, line) for events. After that every pass — duplicates, the as-of cut,
 * outliers, profile building — reads memory in order. Reaching rows through an index instead cost a
 * cache miss per row per pass and showed as the top of the profile on 16M rows; an out-of-place
 * sort would double the memory of the largest table.
 */
#include "ingest/clean.h"
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>

void st_grouping_clear(st_grouping *g)
{
    st_free(g->offsets);
    memset(g, 0, sizeof *g);
}

/* Among the rows of one person (the key compare skipped: a tenth of the clean stage went to
 * sorting each person's rows): by order, then fingerprint, then line — file order, so the
 * earliest line of duplicates is kept. */
static inline bool order_less_in(const st_order_row *x, const st_order_row *y)
{
    if (x->order != y->order) return x->order < y->order;
    if (x->fp != y->fp) return x->fp < y->fp;
    return x->line < y->line;
}

static inline bool event_less_in(const st_event_row *x, const st_event_row *y)
{
    if (x->ts != y->ts) return x->ts < y->ts;
    if (x->fp != y->fp) return x->fp < y->fp;
    return x->line < y->line;
}

static inline bool order_less(const st_order_row *x, const st_order_row *y)
{
    return x->key != y->key ? x->key < y->key : order_less_in(x, y);
}

static inline bool event_less(const st_event_row *x, const st_event_row *y)
{
    return x->key != y->key ? x->key < y->key : event_less_in(x, y);
}

static int order_cmp(const void *a, const void *b)
{
    return order_less(a, b) ? -1 : order_less(b, a) ? 1 : 0;
}

static int event_cmp(const void *a, const void *b)
{
    return event_less(a, b) ? -1 : event_less(b, a) ? 1 : 0;
}

#define SMALL_SORT 48

/* Quicksort (Hoare partition around the median of three) with the comparison inline: qsort's
 * indirect calls and scratch buffer showed in the profile for persons with many rows;
 * depth-bounded, past which qsort's merge sort takes over. */
#define DEFINE_FINISH(name, type, less, cmp)                                                       \
    static void name(type *a, size_t n)                                                            \
    {                                                                                              \
        for (int depth = 64; n > SMALL_SORT; depth--) {                                            \
            if (depth == 0) {                                                                      \
                qsort(a, n, sizeof *a, cmp);                                                       \
                return;                                                                            \
            }                                                                                      \
            type t, pivot;                                                                         \
            size_t mid = n / 2;                                                                    \
            if (less(&a[mid], &a[0])) t = a[mid], a[mid] = a[0], a[0] = t;                         \
            if (less(&a[n - 1], &a[0])) t = a[n - 1], a[n - 1] = a[0], a[0] = t;                   \
            if (less(&a[n - 1], &a[mid])) t = a[n - 1], a[n - 1] = a[mid], a[mid] = t;             \
            pivot = a[mid];                                                                        \
            size_t i = 0, j = n - 1;                                                               \
            for (;;) {                                                                             \
                while (less(&a[i], &pivot))                                                        \
                    i++;                                                                           \
                while (less(&pivot, &a[j]))                                                        \
                    j--;                                                                           \
                if (i >= j) break;                                                                 \
                t = a[i], a[i] = a[j], a[j] = t;                                                   \
                i++, j--;                                                                          \
            }                                                                                      \
            /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller side, loop on the other */  \
            size_t left = j + 1;                                                                   \
            if (left < n - left) {                                                                 \
                name(a, left);                                                                     \
                a += left, n -= left;                                                              \
            } else {                                                                               \
                name(a + left, n - left);                                                          \
                n = left;                                                                          \
            }                                                                                      \
        }                                                                                          \
        for (size_t i = 1; i < n; i++) {                                                           \
            type x = a[i];                                                                         \
            size_t j = i;                                                                          \
            while (j > 0 && less(&x, &a[j - 1])) {                                                 \
                a[j] = a[j - 1];                                                                   \
                j--;                                                                               \
            }                                                                                      \
            a[j] = x;                                                                              \
        }                                                                                          \
    }

/* American flag sorts on the person id (field `key`), then the full order among each
 * person's rows (less_in: rows of one person). */
#define DEFINE_FLAG_SORT(name, type, less, less_in, cmp, digit)                                    \
    DEFINE_FINISH(name##_finish, type, less, cmp)                                                  \
    DEFINE_FINISH(name##_finish_in, type, less_in, cmp)                                            \
    /* rows of a part into counts by the id byte at `shift` */                                     \
    static void name##_count(const type *a, size_t n, int shift, size_t count[256])                \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            count[(a[i].key >> shift) & 0xff]++;                                                   \
    }                                                                                              \
    /* rows into 256 buckets by the id byte at `shift` (count[] their numbers), swapped into       \
     * place; starts[b] = first row of bucket b, starts[256] = n. Each step of a chain of          \
     * displaced rows needs the bucket of the row it displaces next: kept per bucket (next_key,    \
     * the key of the row at its head), it comes from a 1 KB array instead of a load of that row,  \
     * so the chain no longer waits on the table's memory at every step; the row itself and the    \
     * key after it are loaded off that path. */                                                   \
    static void name##_split(type *a, size_t n, int shift, const size_t count[256],                \
                             size_t starts[257])                                                   \
    {                                                                                              \
        size_t head[256], tail[256];                                                               \
        uint32_t next_key[256];                                                                    \
        size_t pos = 0;                                                                            \
        for (int b = 0; b < 256; b++) {                                                            \
            starts[b] = head[b] = pos, pos += count[b], tail[b] = pos;                             \
            next_key[b] = count[b] ? a[head[b]].key : 0;                                           \
        }                                                                                          \
        starts[256] = n;                                                                           \
        for (int b = 0; b < 256; b++) {                                                            \
            while (head[b] < tail[b]) {                                                            \
                type v = a[head[b]];                                                               \
                unsigned vb = (v.key >> shift) & 0xff;                                             \
                while (vb != (unsigned)b) {                                                        \
                    size_t h = head[vb]++;                                                         \
                    unsigned tb = (next_key[vb] >> shift) & 0xff;                                  \
                    type t = a[h];                                                                 \
                    a[h] = v;                                                                      \
                    if (h + 1 < tail[vb]) {                                                        \
                        next_key[vb] = a[h + 1].key;                                               \
                        /* the slot after that, read when a row next goes there */                 \
                        if (h + 2 < tail[vb]) {                                                    \
                            __builtin_prefetch(&a[h + 2], 1);                                      \
                            __builtin_prefetch((const char *)&a[h + 2] + sizeof *a - 1, 1);        \
                        }                                                                          \
                    }                                                                              \
                    v = t;                                                                         \
                    vb = tb;                                                                       \
                }                                                                                  \
                a[head[b]++] = v;                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* Rows whose keys all lie in [base, base + range) into key order by counting, then each       \
     * key's rows finished. After the top split a bucket's rows fit in cache, and one pass here    \
     * replaced two byte splits and a call per sub-bucket. With scratch room for the bucket the    \
     * rows are copied out and scattered back, each to its place: no chain of dependent swaps.     \
     * starts and heads hold range + 1 entries. */                                                 \
    static void name##_by_key(type *a, size_t n, uint32_t base, uint32_t range, uint32_t *starts,  \
                              uint32_t *heads, type *scratch)                                      \
    {                                                                                              \
        if (n <= SMALL_SORT) {                                                                     \
            name##_finish(a, n);                                                                   \
            return;                                                                                \
        }                                                                                          \
        memset(starts, 0, ((size_t)range + 1) * sizeof *starts);                                   \
        for (size_t i = 0; i < n; i++) {                                                           \
            ST_ROW_ASSERT(a[i].key - base < range);                                                \
            starts[a[i].key - base + 1]++;                                                         \
        }                                                                                          \
        for (uint32_t k = 0; k < range; k++)                                                       \
            starts[k + 1] += starts[k];                                                            \
        memcpy(heads, starts, (size_t)range * sizeof *heads);                                      \
        if (scratch) {                                                                             \
            /* two stable counting passes, by the top byte of the first sort key, then by person:  \
             * each person's rows come out nearly in order, and the insertion sorts below run      \
             * through them without the mispredicted exits of random input */                      \
            if (digit(a[0]) == NO_DIGIT) {                                                         \
                memcpy(scratch, a, n * sizeof *a);                                                 \
            } else {                                                                               \
                size_t at[257] = {0};                                                              \
                for (size_t i = 0; i < n; i++)                                                     \
                    at[digit(a[i]) + 1]++;                                                         \
                for (int d = 0; d < 256; d++)                                                      \
                    at[d + 1] += at[d];                                                            \
                for (size_t i = 0; i < n; i++)                                                     \
                    scratch[at[digit(a[i])]++] = a[i];                                             \
            }                                                                                      \
            for (size_t i = 0; i < n; i++)                                                         \
                a[heads[scratch[i].key - base]++] = scratch[i];                                    \
        } else {                                                                                   \
            for (uint32_t k = 0; k < range; k++) {                                                 \
                while (heads[k] < starts[k + 1]) {                                                 \
                    type v = a[heads[k]];                                                          \
                    uint32_t vk = v.key - base;                                                    \
                    while (vk != k) {                                                              \
                        type t = a[heads[vk]];                                                     \
                        a[heads[vk]++] = v;                                                        \
                        v = t;                                                                     \
                        vk = v.key - base;                                                         \
                    }                                                                              \
                    a[heads[k]++] = v;                                                             \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (uint32_t k = 0; k < range; k++)                                                       \
            if (starts[k + 1] - starts[k] > 1)                                                     \
                name##_finish_in(a + starts[k], starts[k + 1] - starts[k]);                        \
    }

/* The byte of the first sort key the pre-pass orders by, or NO_DIGIT for none: event times of
 * one person share their high bytes, and no fixed byte of them orders the rows. */
#define NO_DIGIT 256u
#define ORDER_DIGIT(r) ((unsigned)((r).order >> 56))
#define EVENT_DIGIT(r) NO_DIGIT
DEFINE_FLAG_SORT(sort_orders, st_order_row, order_less, order_less_in, order_cmp, ORDER_DIGIT)
DEFINE_FLAG_SORT(sort_events, st_event_row, event_less, event_less_in, event_cmp, EVENT_DIGIT)

/* The shift whose byte holds the top 8 bits in use of the person id, so that the first pass
 * spreads rows over up to 256 buckets (a whole-byte shift left only 14 buckets at 910k persons,
 * all of them on one thread). */
int st_person_sort_shift(size_t npersons)
{
    int bits = 0;
    while (bits < 32 && (npersons - 1) >> bits)
        bits++;
    return bits > 8 ? bits - 8 : 0;
}

/* The first pass splits rows by the top byte of the person id on one thread; the buckets are
 * then finished on all threads, in parts of contiguous buckets holding about equal shares of
 * the rows, many parts a thread, taken as threads finish: with one part each, threads
 * finished up to 0.02 s apart, and the last part taken is what one thread does alone. */
#define BUCKET_PARTS_PER_THREAD 16

/* Scratch for a bucket's rows, when the bucket holds at most an eighth of the table and
 * 4 MiB: the memory stays bounded whatever the person ids (a catch-all id can hold most rows);
 * larger buckets are permuted in place. */
#define SCRATCH_MAX (4u << 20)

typedef struct bucket_scratch {
    uint32_t *starts; /* 2 × (2^shift + 1): counts and heads (sort_*_by_key) */
    void *rows;       /* room for `most` rows, or NULL */
} bucket_scratch;

typedef struct bucket_job {
    void *rows;
    size_t *starts; /* 257 entries */
    size_t n;
    unsigned parts;
    int shift;
    bool events;
    size_t most;             /* rows of the largest bucket that goes through scratch */
    bucket_scratch *scratch; /* one per thread, made by its first part */
} bucket_job;

/* The first bucket of part t: the first whose rows start at or after t/parts of all rows. */
static size_t first_bucket(const bucket_job *j, size_t t)
{
    size_t at = j->n * t / j->parts, b = 0;
    while (b < 256 && j->starts[b] < at)
        b++;
    return b;
}

static strata_status finish_buckets(void *arg, size_t begin, size_t end, unsigned thread)
{
    bucket_job *j = arg;
    uint32_t range = UINT32_C(1) << j->shift; /* keys per bucket */
    size_t row = j->events ? sizeof(st_event_row) : sizeof(st_order_row);
    bucket_scratch *s = &j->scratch[thread];
    if (!s->starts) {
        s->starts = st_malloc(2 * ((size_t)range + 1) * sizeof *s->starts);
        s->rows = j->most ? st_malloc(j->most * row) : NULL; /* NULL: every bucket in place */
        if (!s->starts || (j->most && !s->rows)) return STRATA_ENOMEM;
    }
    uint32_t *heads = s->starts + range + 1;
    for (size_t t = begin; t < end; t++)
        for (size_t b = first_bucket(j, t), last = first_bucket(j, t + 1); b < last; b++) {
            size_t lo = j->starts[b], n = j->starts[b + 1] - lo;
            uint32_t base = (uint32_t)(b << j->shift);
            void *room = n <= j->most ? s->rows : NULL;
            if (j->events)
                sort_events_by_key((st_event_row *)j->rows + lo, n, base, range, s->starts, heads,
                                   room);
            else
                sort_orders_by_key((st_order_row *)j->rows + lo, n, base, range, s->starts, heads,
                                   room);
        }
    return STRATA_OK;
}

typedef struct count_job {
    void *rows;
    size_t n;
    unsigned parts;
    int shift;
    bool events;
    size_t (*counts)[256]; /* one histogram per part */
} count_job;

static strata_status count_parts(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    count_job *j = arg;
    for (size_t t = begin; t < end; t++) {
        size_t lo = j->n * t / j->parts, hi = j->n * (t + 1) / j->parts;
        if (j->events)
            sort_events_count((st_event_row *)j->rows + lo, hi - lo, j->shift, j->counts[t]);
        else
            sort_orders_count((st_order_row *)j->rows + lo, hi - lo, j->shift, j->counts[t]);
    }
    return STRATA_OK;
}

/* Rows into person order: bucket sizes counted on all threads (or taken from `counted`, made
 * by st_identity_apply), the split by the top bits of the person id on one thread (in place, a
 * chain of dependent swaps), then each bucket (2^shift persons) counted into place on all
 * threads. */
static strata_status sort_rows(void *rows, size_t n, size_t npersons, bool events, unsigned threads,
                               st_person_counts *counted)
{
    bool precounted = counted->valid && counted->rows == n;
    counted->valid = false; /* rows move and go from here on */
    if (n < 2) return STRATA_OK;
    if (threads < 1) threads = 1;
    int shift = st_person_sort_shift(npersons);
    size_t count[256] = {0}, starts[257];
    strata_status st = STRATA_OK;
    if (precounted && counted->shift == shift) {
        memcpy(count, counted->count, sizeof count);
#if defined(STRATA_SANITIZED) && !defined(NDEBUG)
        size_t check[256] = {0}; /* the sanitizer builds count again */
        if (events)
            sort_events_count(rows, n, shift, check);
        else
            sort_orders_count(rows, n, shift, check);
        assert(memcmp(check, count, sizeof check) == 0);
#endif
    } else {
        size_t(*counts)[256] = st_calloc(threads, sizeof *counts);
        if (!counts) return STRATA_ENOMEM;
        count_job cj = {rows, n, threads, shift, events, counts};
        st = st_parallel_for(threads, threads, count_parts, &cj);
        for (unsigned t = 0; t < threads; t++)
            for (int b = 0; b < 256; b++)
                count[b] += counts[t][b];
        st_free(counts);
        if (st != STRATA_OK) return st;
    }
    if (events)
        sort_events_split(rows, n, shift, count, starts);
    else
        sort_orders_split(rows, n, shift, count, starts);
    size_t row = events ? sizeof(st_event_row) : sizeof(st_order_row);
    size_t scratch_rows = ST_MIN(n / 8, SCRATCH_MAX / row), most = 0;
    for (int b = 0; b < 256; b++)
        if (count[b] <= scratch_rows) most = ST_MAX(most, count[b]);
    bucket_scratch scratch[64] = {{0}};
    unsigned parts = BUCKET_PARTS_PER_THREAD * ST_MIN(threads, 64u);
    bucket_job j = {rows, starts, n, parts, shift, events, most, scratch};
    st = st_parallel_chunks(ST_MIN(threads, 64u), parts, 1, finish_buckets, &j);
    for (unsigned t = 0; t < 64; t++)
        st_free(scratch[t].starts), st_free(scratch[t].rows);
    return st;
}

/* Offsets of each person's rows in a table sorted by person. */
static strata_status person_offsets(st_grouping *g, const void *rows, size_t stride,
                                    size_t key_offset, size_t n, size_t npersons)
{
    g->offsets = st_malloc_zeroed(npersons + 2, sizeof *g->offsets);
    if (!g->offsets) return STRATA_ENOMEM;
    const unsigned char *base = rows;
    for (size_t i = 0; i < n; i++) {
        uint32_t key;
        memcpy(&key, base + i * stride + key_offset, sizeof key);
        g->offsets[key + 1]++;
    }
    for (size_t p = 0; p < npersons; p++)
        g->offsets[p + 1] += g->offsets[p];
    g->n = n;
    g->npersons = npersons;
    return STRATA_OK;
}

/* ---- orders after the sort: duplicates, the as-of cut, the outlier threshold ----
 *
 * Each pass runs on all threads, each over a part of the table made of whole persons (a
 * duplicate is always of the same person), compacting kept rows to the front of its part.
 * Done on one thread these passes took 0.17 s at 10M rows while the other core idled. */

/* Positive amounts by bucket for the percentile, log-linear: below 256 micros one bucket per
 * value, above that 256 per power of two (buckets 1/256 of their amount wide), so every
 * magnitude fits before the largest amount is known and the histogram is made in the same
 * pass as the duplicates (a pass of its own over 10M rows once). Monotonic in the amount. */
#define AMOUNT_BUCKETS (56 * 256)
static inline size_t amount_bucket(int64_t amount)
{
    uint64_t a = (uint64_t)amount;
    if (a < 256) return (size_t)a;
    int e = 63 - __builtin_clzll(a); /* 8 … 62 */
    return (size_t)(e - 7) * 256 + (size_t)((a >> (e - 8)) & 0xff);
}

typedef struct dup_pair {
    uint32_t line, first; /* a duplicate row and the kept row it repeats */
} dup_pair;

typedef struct clean_part {
    size_t lo, hi, kept; /* rows [lo, hi) of whole persons; kept rows now at [lo, lo + kept) */
    int32_t max_day;
    size_t positive, after_as_of;
    uint32_t *hist; /* AMOUNT_BUCKETS counts of positive amounts (amount_bucket) */
    int64_t *in_bucket;
    size_t nin_bucket;
    size_t above_bucket;                     /* positive amounts in higher buckets */
    __int128 above_bucket_sum, positive_sum; /* their sum, the sum of every positive amount */
    dup_pair *dups;
    size_t ndups, cap_dups;
} clean_part;

typedef struct clean_job {
    st_order_row *rows;
    clean_part *parts;
    int32_t as_of_day; /* rows dated on or after it go; INT32_MAX: the default as-of */
    size_t bucket;     /* the bucket holding the percentile */
    uint32_t *counts;  /* per person rows (offsets + 1), or NULL */
    unsigned threads;  /* the parts, several a thread, go to threads as they finish */
} clean_job;

/* Exact duplicates are adjacent after the sort (same person, order and fingerprint): the
 * earliest line, first of its run, stays. Rows dated on or after a given as-of day go (the
 * default, the day after the last row, leaves them all), and positive amounts of the rest
 * are counted by bucket for the percentile. */
static strata_status dedupe_part(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    clean_job *j = arg;
    for (size_t t = begin; t < end; t++) {
        clean_part *pt = &j->parts[t];
        pt->hist = st_malloc_zeroed(AMOUNT_BUCKETS, sizeof *pt->hist);
        if (!pt->hist) return STRATA_ENOMEM;
        st_order_row *rows = j->rows;
        st_order_row last = {0}; /* the last row that was not a duplicate, kept or not */
        size_t w = pt->lo;
        pt->max_day = INT32_MIN;
        for (size_t i = pt->lo; i < pt->hi; i++) {
            const st_order_row r = rows[i];
            if (i > pt->lo && r.key == last.key && r.order == last.order && r.fp == last.fp) {
                if (!ST_GROW(pt->dups, pt->cap_dups, pt->ndups + 1)) return STRATA_ENOMEM;
                pt->dups[pt->ndups++] = (dup_pair){r.line, last.line};
                continue;
            }
            last = r;
            pt->max_day = ST_MAX(pt->max_day, r.day);
            if (r.day >= j->as_of_day) {
                pt->after_as_of++;
                continue;
            }
            if (r.amount > 0)
                pt->positive++, pt->positive_sum += r.amount, pt->hist[amount_bucket(r.amount)]++;
            if (w != i) rows[w] = r;
            w++;
        }
        pt->kept = w - pt->lo;
    }
    return STRATA_OK;
}

/* The amounts in the percentile's bucket, and rows per person when the outlier policy will
 * not remove rows. */
static strata_status collect_part(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    clean_job *j = arg;
    for (size_t t = begin; t < end; t++) {
        clean_part *pt = &j->parts[t];
        size_t want = j->bucket < AMOUNT_BUCKETS ? pt->hist[j->bucket] : 0;
        pt->in_bucket = st_malloc((want + 1) * sizeof *pt->in_bucket);
        if (!pt->in_bucket) return STRATA_ENOMEM;
        for (size_t i = pt->lo; i < pt->lo + pt->kept; i++) {
            const st_order_row *r = &j->rows[i];
            if (j->counts) j->counts[r->key + 1]++; /* persons are not shared between parts */
            if (r->amount <= 0) continue;
            size_t b = amount_bucket(r->amount);
            if (b == j->bucket)
                pt->in_bucket[pt->nin_bucket++] = r->amount;
            else if (b > j->bucket)
                pt->above_bucket++, pt->above_bucket_sum += r->amount;
        }
    }
    return STRATA_OK;
}

/* Parts of about n / nparts rows each, every boundary moved forward to the next person. */
static void split_parts(const st_order_row *rows, size_t n, clean_part *parts, unsigned nparts)
{
    size_t lo = 0;
    for (unsigned t = 0; t < nparts; t++) {
        size_t hi = t + 1 == nparts ? n : ST_MAX(lo, n * (t + 1) / nparts);
        while (hi > 0 && hi < n && rows[hi].key == rows[hi - 1].key)
            hi++;
        parts[t] = (clean_part){.lo = lo, .hi = hi};
        lo = hi;
    }
}

/* Nearest-rank percentile of the positive amounts from the parts' bucket counts and the
 * amounts of the one bucket that holds the rank (copying 10M amounts to select from was
 * most of the outlier step once). */
static strata_status amount_percentile(clean_job *j, unsigned nparts, size_t positive,
                                       st_outlier_report *rep)
{
    rep->threshold = 0;
    if (positive == 0) return collect_part(j, 0, nparts, 0); /* no bucket: counts only */
    double rank = rep->percentile / 100.0 * (double)positive;
    size_t k = rank <= 1 ? 0 : (size_t)(rank + 0.999999999) - 1;
    if (k >= positive) k = positive - 1;
    size_t below = 0;
    for (j->bucket = 0;; j->bucket++) {
        size_t c = 0;
        for (unsigned t = 0; t < nparts; t++)
            c += j->parts[t].hist[j->bucket];
        if (below + c > k) break;
        below += c;
    }
    strata_status st = st_parallel_chunks(j->threads, nparts, 1, collect_part, j);
    if (st != STRATA_OK) return st;
    size_t nb = 0;
    for (unsigned t = 0; t < nparts; t++)
        nb += j->parts[t].nin_bucket;
    int64_t *v = st_malloc((nb + 1) * sizeof *v);
    if (!v) return STRATA_ENOMEM;
    nb = 0;
    for (unsigned t = 0; t < nparts; t++) {
        memcpy(v + nb, j->parts[t].in_bucket, j->parts[t].nin_bucket * sizeof *v);
        nb += j->parts[t].nin_bucket;
    }
    rep->threshold = st_select_i64(v, nb, k - below);
    /* above the threshold: the rest of its bucket and every higher bucket; at or above it,
     * with their sum, for the share of the top */
    for (size_t i = 0; i < nb; i++) {
        if (v[i] > rep->threshold) rep->rows_above++, rep->above_sum += v[i];
        if (v[i] >= rep->threshold) rep->rows_at_or_above++, rep->at_or_above_sum += v[i];
    }
    for (unsigned t = 0; t < nparts; t++) {
        const clean_part *pt = &j->parts[t];
        rep->rows_above += pt->above_bucket;
        rep->above_sum += pt->above_bucket_sum;
        rep->rows_at_or_above += pt->above_bucket;
        rep->at_or_above_sum += pt->above_bucket_sum;
        rep->positive_sum += pt->positive_sum;
    }
    rep->positive_rows = positive;
    st_free(v);
    return STRATA_OK;
}

static st_outlier_top outliers_top(const st_outlier_report *rep)
{
    if (rep->rows_above && rep->rows_above * 100 <= rep->positive_rows &&
        rep->above_sum * 2 >= rep->positive_sum)
        return ST_TOP_ABOVE;
    if (rep->rows_at_or_above && rep->rows_at_or_above * 100 <= rep->positive_rows &&
        rep->at_or_above_sum * 2 >= rep->positive_sum)
        return ST_TOP_AT_OR_ABOVE;
    return ST_TOP_NONE;
}

/* cap or reject rows above the limit (on one thread: rare, and rejects are written) */
static strata_status apply_outlier_policy(st_dataset *ds, st_outlier_report *rep)
{
    st_order_rows *o = &ds->orders;
    int64_t limit =
        rep->policy == ST_OUTLIER_REJECT && rep->reject_above ? rep->reject_above : rep->threshold;
    size_t w = 0;
    for (size_t i = 0; i < o->n; i++) {
        st_order_row *row = &o->rows[i];
        if (row->amount > limit) {
            rep->rows_changed++;
            if (rep->policy == ST_OUTLIER_CAP) {
                row->amount = limit;
                ds->quality[ST_IN_ORDERS].reasons[ST_REASON_AMOUNT_CAPPED]++;
            } else {
                char detail[96];
                snprintf(detail, sizeof detail, "amount %.2f above the outlier limit %.2f",
                         (double)row->amount / 1e6, (double)limit / 1e6);
                strata_status st = st_dataset_add_reject(ds, ST_IN_ORDERS, row->line, 0,
                                                         ST_REASON_AMOUNT_OUTLIER, detail);
                if (st != STRATA_OK) return st;
                continue;
            }
        }
        o->rows[w++] = *row;
    }
    o->n = w;
    return STRATA_OK;
}

static strata_status outlier_config(strata_ctx *ctx, st_outlier_report *rep)
{
    const char *policy = st_cfg_str(ctx->config, ST_CFG_CLEAN_OUTLIERS);
    rep->policy = !strcmp(policy, "cap")      ? ST_OUTLIER_CAP
                  : !strcmp(policy, "reject") ? ST_OUTLIER_REJECT
                                              : ST_OUTLIER_KEEP;
    rep->percentile = st_cfg_num(ctx->config, ST_CFG_CLEAN_OUTLIER_PERCENTILE);
    if (rep->percentile <= 0 || rep->percentile > 100)
        return st_error(ctx, STRATA_ECONFIG, "clean.outlier_percentile must be in (0, 100]");
    double above = st_cfg_num(ctx->config, ST_CFG_CLEAN_REJECT_ABOVE);
    rep->reject_above = above > 0 ? (int64_t)(above * 1e6 + 0.5) : 0;
    return STRATA_OK;
}

static strata_status clean_parts(strata_ctx *ctx, st_dataset *ds, size_t npersons,
                                 int32_t *as_of_day, st_grouping *g, st_outlier_report *rep,
                                 clean_job *j, unsigned nparts)
{
    st_order_rows *o = &ds->orders;
    split_parts(o->rows, o->n, j->parts, nparts);
    /* the default as-of, the day after the last row, cuts none */
    j->as_of_day = *as_of_day == STRATA_DAY_NONE ? INT32_MAX : *as_of_day;
    strata_status st = st_parallel_chunks(j->threads, nparts, 1, dedupe_part, j);
    if (st != STRATA_OK) return st;
    int32_t last_day = INT32_MIN;
    for (unsigned t = 0; t < nparts; t++) { /* rejects in row order, as one pass would */
        const clean_part *pt = &j->parts[t];
        for (size_t d = 0; d < pt->ndups; d++) {
            char detail[64];
            snprintf(detail, sizeof detail, "duplicate of line %u", pt->dups[d].first);
            st = st_dataset_add_reject(ds, ST_IN_ORDERS, pt->dups[d].line, 0, ST_REASON_DUPLICATE,
                                       detail);
            if (st != STRATA_OK) return st;
        }
        last_day = ST_MAX(last_day, pt->max_day);
    }
    if (*as_of_day == STRATA_DAY_NONE) {
        if (last_day == INT32_MIN)
            return st_error(ctx, STRATA_EDATA,
                            "no valid order rows to take the as-of date from; give --as-of");
        *as_of_day = last_day + 1;
    }
    size_t n = 0, positive = 0;
    for (unsigned t = 0; t < nparts; t++) { /* close the gaps between parts */
        clean_part *pt = &j->parts[t];
        if (n != pt->lo) memmove(o->rows + n, o->rows + pt->lo, pt->kept * sizeof *o->rows);
        pt->lo = n;
        n += pt->kept;
        positive += pt->positive;
        ds->quality[ST_IN_ORDERS].reasons[ST_REASON_AFTER_AS_OF] += pt->after_as_of;
    }
    o->n = n;
    if ((st = outlier_config(ctx, rep)) != STRATA_OK) return st;
    g->offsets = st_malloc_zeroed(npersons + 2, sizeof *g->offsets);
    if (!g->offsets) return STRATA_ENOMEM;
    j->counts = rep->policy == ST_OUTLIER_REJECT ? NULL : g->offsets;
    j->bucket = SIZE_MAX;
    if ((st = amount_percentile(j, nparts, positive, rep)) != STRATA_OK) return st;
    /* the policy leaves the top rows in unless it rejects everything above a limit below them */
    rep->top = outliers_top(rep);
    rep->top_warning =
        rep->top != ST_TOP_NONE && !(rep->policy == ST_OUTLIER_REJECT && rep->reject_above &&
                                     rep->reject_above < rep->threshold);
    if (rep->policy != ST_OUTLIER_KEEP) {
        if ((st = apply_outlier_policy(ds, rep)) != STRATA_OK) return st;
        if (!j->counts)
            for (size_t i = 0; i < o->n; i++)
                g->offsets[o->rows[i].key + 1]++;
    }
    for (size_t p = 0; p < npersons; p++)
        g->offsets[p + 1] += g->offsets[p];
    g->n = o->n;
    g->npersons = npersons;
    ds->quality[ST_IN_ORDERS].rows_loaded = o->n;
    return STRATA_OK;
}

strata_status st_clean_orders(strata_ctx *ctx, st_dataset *ds, size_t npersons, int32_t *as_of_day,
                              st_grouping *g, st_outlier_report *rep)
{
    st_order_rows *o = &ds->orders;
    memset(rep, 0, sizeof *rep);
    memset(g, 0, sizeof *g);
    unsigned threads = ST_MIN(st_threads(ctx), 64u);
    strata_status st = sort_rows(o->rows, o->n, npersons, false, threads, &o->by_person);
    if (st != STRATA_OK) return st;
    /* four parts a thread: a part's cost varies with its persons' histories, and threads
     * that each had one finished up to 0.01 s apart at each step */
    clean_part parts[64];
    unsigned nparts = ST_MIN(4 * ST_MAX(threads, 1u), 64u);
    clean_job j = {o->rows, parts, 0, SIZE_MAX, NULL, ST_MAX(threads, 1u)};
    st = clean_parts(ctx, ds, npersons, as_of_day, g, rep, &j, nparts);
    for (unsigned t = 0; t < nparts; t++) {
        st_free(parts[t].hist);
        st_free(parts[t].in_bucket);
        st_free(parts[t].dups);
    }
    if (st != STRATA_OK) st_grouping_clear(g);
    return st;
}

strata_status st_clean_events(st_dataset *ds, size_t npersons, int32_t as_of_day, st_grouping *g,
                              unsigned threads)
{
    st_event_rows *e = &ds->events;
    memset(g, 0, sizeof *g);
    strata_status st = sort_rows(e->rows, e->n, npersons, true, threads, &e->by_person);
    if (st != STRATA_OK) return st;
    st_quality *q = &ds->quality[ST_IN_EVENTS];
    int64_t end = (int64_t)as_of_day * 86400;
    size_t w = 0;
    const st_event_row *prev = NULL;
    for (size_t i = 0; i < e->n; i++) {
        st_event_row r = e->rows[i];
        if (prev && r.key == prev->key && r.ts == prev->ts && r.fp == prev->fp) {
            char detail[64];
            snprintf(detail, sizeof detail, "duplicate of line %u", prev->line);
            st = st_dataset_add_reject(ds, ST_IN_EVENTS, r.line, 0, ST_REASON_DUPLICATE, detail);
            if (st != STRATA_OK) return st;
            continue;
        }
        if (r.ts >= end) {
            /* later duplicates of this row compare against it, not against a kept row */
            q->reasons[ST_REASON_AFTER_AS_OF]++;
            e->rows[i] = r;
            prev = &e->rows[i];
            continue;
        }
        e->rows[w] = r;
        prev = &e->rows[w];
        w++;
    }
    e->n = w;
    q->rows_loaded = w;
    return person_offsets(g, e->rows, sizeof *e->rows, offsetof(st_event_row, key), e->n, npersons);
}

/* Rows i with the same (key, fp) as an earlier row get drop[i] = 1 and a reject. */
typedef struct dup_ref {
    uint32_t key;
    uint32_t row;
    uint64_t fp;
} dup_ref;

static int dup_ref_cmp(const void *a, const void *b)
{
    const dup_ref *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->fp != y->fp) return x->fp < y->fp ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static strata_status mark_duplicates(st_dataset *ds, st_input_kind kind, const uint32_t *key,
                                     const uint64_t *fp, const uint32_t *line, size_t n,
                                     uint8_t *drop)
{
    dup_ref *refs = st_malloc((n + 1) * sizeof *refs);
    if (!refs) return STRATA_ENOMEM;
    for (size_t i = 0; i < n; i++)
        refs[i] = (dup_ref){key[i], (uint32_t)i, fp[i]}, drop[i] = 0;
    qsort(refs, n, sizeof *refs, dup_ref_cmp);
    strata_status st = STRATA_OK;
    for (size_t i = 1; i < n && st == STRATA_OK; i++) {
        const dup_ref *a = &refs[i - 1], *b = &refs[i];
        if (a->key != b->key || a->fp != b->fp) continue;
        /* refs[i-1] is the first of the run or itself a duplicate of it: report the first */
        size_t first = i - 1;
        while (first > 0 && refs[first - 1].key == b->key && refs[first - 1].fp == b->fp)
            first--;
        char detail[64];
        snprintf(detail, sizeof detail, "duplicate of line %u", line[refs[first].row]);
        st = st_dataset_add_reject(ds, kind, line[b->row], 0, ST_REASON_DUPLICATE, detail);
        drop[b->row] = 1;
    }
    st_free(refs);
    return st;
}

strata_status st_dedupe_users(st_dataset *ds)
{
    st_user_rows *u = &ds->users;
    uint8_t *drop = st_malloc(u->n + 1);
    if (!drop) return STRATA_ENOMEM;
    strata_status st = mark_duplicates(ds, ST_IN_USERS, u->key, u->fp, u->line, u->n, drop);
    size_t w = 0;
    for (size_t i = 0; i < u->n && st == STRATA_OK; i++) {
        if (drop[i]) continue;
        u->key[w] = u->key[i], u->line[w] = u->line[i], u->fp[w] = u->fp[i];
        u->attrs[w++] = u->attrs[i];
    }
    if (st == STRATA_OK) {
        u->n = w;
        ds->quality[ST_IN_USERS].rows_loaded = w;
    }
    st_free(drop);
    return st;
}

strata_status st_dedupe_links(st_dataset *ds)
{
    st_link_rows *l = &ds->links;
    uint8_t *drop = st_malloc(l->n + 1);
    if (!drop) return STRATA_ENOMEM;
    strata_status st = mark_duplicates(ds, ST_IN_IDENTITIES, l->key, l->fp, l->line, l->n, drop);
    size_t w = 0;
    for (size_t i = 0; i < l->n && st == STRATA_OK; i++) {
        if (drop[i]) continue;
        l->key[w] = l->key[i], l->ident[w] = l->ident[i], l->line[w] = l->line[i];
        l->fp[w++] = l->fp[i];
    }
    if (st == STRATA_OK) {
        l->n = w;
        ds->quality[ST_IN_IDENTITIES].rows_loaded = w;
    }
    st_free(drop);
    return st;
}

strata_status st_merge_users(const st_dataset *ds, size_t npersons, st_user_attrs **attrs_out)
{
    *attrs_out = NULL;
    if (ds->users.n == 0) return STRATA_OK;
    st_user_attrs *attrs = st_malloc((npersons + 1) * sizeof *attrs);
    if (!attrs) return STRATA_ENOMEM;
    for (size_t p = 0; p < npersons; p++)
        attrs[p] = (st_user_attrs){.signup_day = STRATA_DAY_NONE, .nps = -1, .cac = -1};
    const st_user_rows *u = &ds->users;
    for (size_t i = 0; i < u->n; i++) { /* file order: later rows override */
        uint32_t p = u->key[i];
        if (p >= npersons) continue;
        const st_user_attrs *r = &u->attrs[i];
        st_user_attrs *a = &attrs[p];
        if (r->signup_day != STRATA_DAY_NONE) a->signup_day = r->signup_day;
        if (r->birth_year) a->birth_year = r->birth_year;
        if (r->nps >= 0) a->nps = r->nps;
        if (r->cac >= 0) a->cac = r->cac;
        if (r->gender) a->gender = r->gender;
        if (r->region) a->region = r->region;
        if (r->acq_channel) a->acq_channel = r->acq_channel;
        a->consent = (uint8_t)((a->consent & ~r->consent_known) | (r->consent & r->consent_known));
        a->consent_known |= r->consent_known;
    }
    *attrs_out = attrs;
    return STRATA_OK;
}
