/*
 * parallel.c — the one threading primitive the library needs: split a range into contiguous
 * parts and run them on threads. Contiguous parts keep per-person work cache-friendly and
 * make results independent of scheduling.
 */
#include "core/core.h"

#include <pthread.h>

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
