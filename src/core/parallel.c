/*
 * parallel.c — the one threading primitive the library needs: split a range into contiguous
 * parts and run them on threads. Contiguous parts keep per-person work cache-friendly and
 * make results independent of scheduling.
 */
#include "core/core.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct part {
    st_range_fn fn;
    void *arg;
    size_t begin, end;
    unsigned thread;
    strata_status status;
} part;

static void *run_part(void *p)
{
    part *pt = p;
    pt->status = pt->fn(pt->arg, pt->begin, pt->end, pt->thread);
    return NULL;
}

strata_status st_parallel_for(unsigned threads, size_t n, st_range_fn fn, void *arg)
{
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    if ((size_t)threads > n) threads = n ? (unsigned)n : 1;
    if (threads == 1) return fn(arg, 0, n, 0);
    part parts[64];
    pthread_t tids[64];
    bool started[64] = {false};
    for (unsigned t = 0; t < threads; t++) {
        parts[t] = (part){fn, arg, n * t / threads, n * (t + 1) / threads, t, STRATA_OK};
        if (t > 0) started[t] = pthread_create(&tids[t], NULL, run_part, &parts[t]) == 0;
        if (t > 0 && !started[t]) run_part(&parts[t]); /* no thread: do it here */
    }
    run_part(&parts[0]);
    strata_status st = STRATA_OK;
    for (unsigned t = 0; t < threads; t++) {
        if (t > 0 && started[t]) pthread_join(tids[t], NULL);
        if (st == STRATA_OK) st = parts[t].status;
    }
    return st;
}

/* st_parallel_chunks: every thread takes the next chunk until none is left or one fails */
typedef struct chunk_pool {
    st_range_fn fn;
    void *arg;
    size_t n, chunk;
    atomic_size_t next;
    atomic_bool failed;
} chunk_pool;

static strata_status take_chunks(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)begin, (void)end;
    chunk_pool *p = arg;
    while (!atomic_load_explicit(&p->failed, memory_order_relaxed)) {
        size_t first = atomic_fetch_add(&p->next, 1) * p->chunk;
        if (first >= p->n) break;
        strata_status st = p->fn(p->arg, first, ST_MIN(first + p->chunk, p->n), thread);
        if (st != STRATA_OK) {
            atomic_store(&p->failed, true);
            return st;
        }
    }
    return STRATA_OK;
}

strata_status st_parallel_chunks(unsigned threads, size_t n, size_t chunk, st_range_fn fn,
                                 void *arg)
{
    if (chunk < 1) chunk = 1;
    size_t nchunks = n / chunk + (n % chunk != 0);
    if (threads > nchunks) threads = nchunks ? (unsigned)ST_MIN(nchunks, (size_t)64) : 1;
    chunk_pool p = {fn, arg, n, chunk, 0, false};
    if (threads <= 1) return take_chunks(&p, 0, n, 0);
    return st_parallel_for(threads, threads, take_chunks, &p);
}
