/*
 * alloc.c — the one allocator every library allocation goes through.
 *
 * Each block carries a 16-byte header with its size so live and peak bytes can be counted
 * (for /metrics and memory tests) and so tests can fail the nth allocation (curl's torture
 * mode). The hooks are process-wide, like sqlite3_config(): set them before creating any
 * context. Counters are atomics because parse threads allocate concurrently.
 */
#include "core/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HEADER 16 /* keeps 16-byte alignment of the payload */

static strata_allocator hooks = {malloc, realloc, free};
static _Atomic size_t live_bytes;
static _Atomic size_t peak_bytes;
static _Atomic uint64_t fail_countdown; /* 0 = off; 1 = fail the next allocation */

void strata_set_allocator(const strata_allocator *allocator)
{
    if (allocator && allocator->malloc_fn && allocator->realloc_fn && allocator->free_fn)
        hooks = *allocator;
    else
        hooks = (strata_allocator){malloc, realloc, free};
}

size_t strata_memory_used(void)
{
    return atomic_load(&live_bytes);
}

size_t strata_memory_peak(void)
{
    return atomic_load(&peak_bytes);
}

void strata_memory_fail_after(uint64_t nth)
{
    atomic_store(&fail_countdown, nth);
}

static bool injected_failure(void)
{
    uint64_t n = atomic_load(&fail_countdown);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1)) return n == 1;
    }
    return false;
}

/* Large arrays (row tables, hash slots, indexes) are walked at random; with 4 KiB pages
 * nearly every access also misses the TLB. Asking for transparent huge pages on them cut
 * the lookup cost measurably (perf); the advice is harmless where THP is off. */
#define HUGE_ADVICE_MIN (8u << 20)

/* madvise over the whole pages inside [p, p + size), for blocks of HUGE_ADVICE_MIN or more */
static void advise_pages(void *p, size_t size, int advice)
{
    if (size < HUGE_ADVICE_MIN) return;
    uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)4095;
    if (end > start) madvise((void *)start, end - start, advice);
}

static void advise_huge(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
    advise_pages(p, size, MADV_HUGEPAGE);
#else
    (void)p, (void)size, (void)advise_pages;
#endif
}

void st_memory_sequential(void *p, size_t size)
{
#ifdef MADV_NOHUGEPAGE
    advise_pages(p, size, MADV_NOHUGEPAGE);
#else
    (void)p, (void)size;
#endif
}

void st_memory_touch(void *p, size_t size)
{
#ifdef MADV_POPULATE_WRITE
    /* one call for the whole range's faults: no exception entry per page */
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095, hi = (uintptr_t)p + size;
    if (size && madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0) return;
#endif
    volatile unsigned char *b = p;
    for (size_t i = 0; i < size; i += 4096)
        b[i] = 0;
    if (size) b[size - 1] = 0;
}

static void count_add(size_t n)
{
    size_t now = atomic_fetch_add(&live_bytes, n) + n;
    size_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {
    }
}

void st_memory_account(int64_t delta)
{
    if (delta >= 0)
        count_add((size_t)delta);
    else
        atomic_fetch_sub(&live_bytes, (size_t)-delta);
}

/* ---- big doubling tables ---- */

#define HUGE_PAGE ((size_t)2 << 20)

static size_t table_span(size_t bytes)
{
    return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* A mapping of `span` bytes (a multiple of 2 MiB) starting on a 2 MiB boundary, so that the
 * kernel can back it with huge pages and mremap can move them whole. */
static char *map_aligned(size_t span)
{
    char *p =
        mmap(NULL, span + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > p) munmap(p, (size_t)(a - p));
    if (p + span + HUGE_PAGE > a + span)
        munmap(a + span, (size_t)(p + span + HUGE_PAGE - (a + span)));
#ifdef MADV_HUGEPAGE
    madvise(a, span, MADV_HUGEPAGE);
#endif
    return a;
}

/* Fault the pages in by asking for them writable (one call, no second pass over them); on a
 * kernel without MADV_POPULATE_WRITE, by writing them. Probing reads a slot before writing it,
 * and a read of a never-written page would map the shared zero page first. */
static void prefault(char *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    /* One huge page per call: the call holds the address-space lock while it clears the pages
     * (about 4 ms per 2 MiB page here), and another thread's mremap or mmap waits for it, with
     * every later page fault queued behind that writer. Populating a doubled 64 MiB key table
     * in one call left the other loading worker and the reader idle for up to 0.1 s. */
    for (size_t step; n > 0; p += step, n -= step) {
        step = ST_MIN(HUGE_PAGE, n);
        if (madvise(p, step, MADV_POPULATE_WRITE) != 0) break;
    }
#endif
    memset(p, 0, n);
}

void *st_table_alloc(size_t bytes)
{
    if (injected_failure()) return NULL;
    size_t span = table_span(bytes);
    char *p = map_aligned(span);
    if (!p) return NULL;
    prefault(p, span);
    count_add(span);
    return p;
}

void *st_table_grow(void *p, size_t old_bytes, size_t new_bytes)
{
    if (injected_failure()) return NULL;
    size_t from = table_span(old_bytes), to = table_span(new_bytes);
    char *q = map_aligned(to);
    if (!q) return NULL;
    if (mremap(p, from, from, MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED) {
        munmap(q, to);
        return NULL;
    }
    prefault(q + from, to - from);
    count_add(to - from);
    return q;
}

void st_table_free(void *p, size_t bytes)
{
    if (!p) return;
    size_t span = table_span(bytes);
    munmap(p, span);
    atomic_fetch_sub(&live_bytes, span);
}

void *st_malloc(size_t size)
{
    if (size > SIZE_MAX - HEADER || injected_failure()) return NULL;
    unsigned char *p = hooks.malloc_fn(size + HEADER);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    count_add(size);
    advise_huge(p, size + HEADER);
    return p + HEADER;
}

void *st_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    size_t n = count * size;
    if (hooks.malloc_fn == malloc) {
        /* libc's calloc hands out fresh mappings already zero: no second pass over them */
        if (n > SIZE_MAX - HEADER || injected_failure()) return NULL;
        unsigned char *p = calloc(1, n + HEADER);
        if (!p) return NULL;
        memcpy(p, &n, sizeof n);
        count_add(n);
        advise_huge(p, n + HEADER);
        return p + HEADER;
    }
    void *p = st_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void *st_malloc_zeroed(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = st_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *st_realloc(void *ptr, size_t size)
{
    if (!ptr) return st_malloc(size);
    if (size > SIZE_MAX - HEADER || injected_failure()) return NULL;
    unsigned char *base = (unsigned char *)ptr - HEADER;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = hooks.realloc_fn(base, size + HEADER);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    atomic_fetch_sub(&live_bytes, old);
    count_add(size);
    if (size > old) advise_huge(p, size + HEADER);
    return p + HEADER;
}

void st_free(void *ptr)
{
    if (!ptr) return;
    unsigned char *base = (unsigned char *)ptr - HEADER;
    size_t old;
    memcpy(&old, base, sizeof old);
    atomic_fetch_sub(&live_bytes, old);
    hooks.free_fn(base);
}

void strata_free(void *ptr)
{
    st_free(ptr);
}

char *st_strndup(const char *s, size_t n)
{
    char *p = st_malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *st_strdup(const char *s)
{
    return s ? st_strndup(s, strlen(s)) : NULL;
}

bool st_grow(void **items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2) return false;
        n *= 2;
    }
    if (n > SIZE_MAX / elem_size) return false;
    void *p = st_realloc(*items, n * elem_size);
    if (!p) return false;
    *items = p;
    *cap = n;
    return true;
}
