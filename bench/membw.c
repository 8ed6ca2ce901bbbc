/*
 * membw.c — memory bandwidth probe for the main benchmark (bench/run.sh): how fast this
 * machine can stream bytes through the cores, the ceiling any single pass over a ~1 GiB
 * orders file in memory runs into. Not part of the library or the CMake build; owns nothing.
 *
 *   membw [MiB=1024] [repeats=5]
 *
 * For 1 and 2 threads (each thread owns an equal slice of one MiB-sized buffer) it measures
 *   read    sum every 64-bit word of the buffer (streaming load, like a parser's input side)
 *   memcpy  copy the buffer into a second one; GB/s counts bytes copied, so the memory
 *           traffic is twice that (read + write; more if the CPU reads before it writes)
 * and prints the best of `repeats` passes as one JSON line, in GB/s (10^9 bytes per second),
 * with a checksum of the sums so the loads cannot be optimized away.
 *
 * First, before anything else is allocated, it times the first touch of fresh anonymous
 * memory (one write per 4 KiB page of a new mapping of half the buffer size), once in 4 KiB
 * pages and once with transparent huge pages asked for: what every byte of a program's peak
 * memory costs before it is used. On a VM whose freed memory went back to the host this is
 * far below the bandwidth; run.sh waits a few seconds before calling it for that reason.
 *
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE -pthread bench/membw.c -o membw
 */
#include <pthread.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_THREADS = 2 };

typedef struct {
    const uint64_t *src;
    uint64_t *dst;
    size_t words;
    int copy; /* 0 = read, 1 = memcpy */
    uint64_t sum;
} slice;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *pass(void *arg)
{
    slice *s = arg;
    if (s->copy) {
        memcpy(s->dst, s->src, s->words * sizeof *s->src);
        s->sum = s->dst[s->words / 2];
        return NULL;
    }
    /* four accumulators so the adds are not one dependency chain */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= s->words; i += 4) {
        a += s->src[i];
        b += s->src[i + 1];
        c += s->src[i + 2];
        d += s->src[i + 3];
    }
    for (; i < s->words; i++) a += s->src[i];
    s->sum = a + b + c + d;
    return NULL;
}

/* One timed pass over the whole buffer split across `threads`; returns seconds. */
static double timed(const uint64_t *src, uint64_t *dst, size_t words, int threads, int copy,
                    uint64_t *checksum)
{
    slice sl[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    size_t per = words / (size_t)threads;
    double t0 = now();
    for (int t = 0; t < threads; t++) {
        sl[t] = (slice){src + per * (size_t)t, dst + per * (size_t)t, per, copy, 0};
        if (t > 0 && pthread_create(&tid[t], NULL, pass, &sl[t]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    pass(&sl[0]);
    for (int t = 1; t < threads; t++) pthread_join(tid[t], NULL);
    double secs = now() - t0;
    for (int t = 0; t < threads; t++) *checksum += sl[t].sum;
    return secs;
}

/* GB/s of writing one byte per 4 KiB page into a new mapping of `bytes`. */
static double first_touch(size_t bytes, int huge)
{
    unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(71);
    }
    madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    double t0 = now();
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    double secs = now() - t0;
    /* both mappings stay until main returns, so the second does not reuse the first's pages */
    return (double)bytes / secs / 1e9;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 1024;
    long repeats = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
    if (mib < 16 || mib > 16384 || repeats < 1 || repeats > 100) {
        fprintf(stderr, "usage: membw [MiB 16..16384] [repeats 1..100]\n");
        return 64;
    }
    size_t bytes = (size_t)mib << 20, words = bytes / sizeof(uint64_t);
    double touch_4k = first_touch(bytes / 2, 0), touch_huge = first_touch(bytes / 2, 1);
    uint64_t *src = malloc(bytes), *dst = malloc(bytes);
    if (!src || !dst) {
        fprintf(stderr, "membw: cannot allocate 2 x %ld MiB\n", mib);
        return 71;
    }
    /* touch every page first so page faults are not timed */
    for (size_t i = 0; i < words; i++) src[i] = i * 0x9e3779b97f4a7c15ULL;
    memset(dst, 0, bytes);

    uint64_t checksum = 0;
    printf("{\"mib\": %ld, \"repeats\": %ld, \"first_touch_4k_gbs\": %.2f, "
           "\"first_touch_huge_gbs\": %.2f",
           mib, repeats, touch_4k, touch_huge);
    for (int threads = 1; threads <= MAX_THREADS; threads++) {
        for (int copy = 0; copy <= 1; copy++) {
            double best = 1e300;
            for (long r = 0; r < repeats; r++) {
                double s = timed(src, dst, words, threads, copy, &checksum);
                if (s < best) best = s;
            }
            printf(", \"%s_%dt_gbs\": %.2f", copy ? "memcpy" : "read", threads, (double)bytes / best / 1e9);
        }
    }
    printf(", \"checksum\": \"%016llx\"}\n", (unsigned long long)checksum);
    free(src);
    free(dst);
    return 0;
}
