/*
 * csv_parse.c — micro-benchmark of the CSV hot path (src/ingest/reader*.c): splitting a file
 * into blocks and walking every field with the cursor, on 1 or 2 threads, plus the cursor
 * alone over bytes in memory (the per-core figure). Deterministic: the generator uses a fixed
 * seed and every mode prints a checksum over all fields, so a faster but wrong build shows.
 *
 *   csv_parse gen  FILE MiB [seed]      write a typical order CSV (~100 bytes/row, 12 fields,
 *                                       a few quoted fields with commas and doubled quotes)
 *   csv_parse run  FILE [threads] [block KiB]   st_reader_run over the file
 *   csv_parse mem  FILE [MiB]          the cursor alone over the first MiB of the file
 *
 * Build (not part of the CMake build; needs the library from any build directory):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/csv_parse.c BUILD/libstrata.a \
 *      $(pkg-config --libs sqlite3 yaml-0.1 zlib libcjson libcrypto libxxhash gsl libmicrohttpd) \
 *      -lroaring -lxgboost -lpthread -lm -o csv_parse
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/reader.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 42;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33) % n;
}

static int gen(const char *path, uint64_t mib, uint64_t seed)
{
    static const char *const cats[] = {"electronics", "apparel", "beauty", "grocery", "toys",
                                       "\"home, garden\"", "books", "sports"};
    static const char *const chans[] = {"app", "web", "mini_program", "store"};
    static const char *const pays[] = {"alipay", "wechat_pay", "card", "cod"};
    static const char *const status[] = {"paid", "paid", "paid", "refunded", "cancelled"};
    rng = seed;
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    fputs("order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,"
          "payment_method,coupon_used,status\n", f);
    uint64_t target = mib << 20, written = 0, row = 0;
    while (written < target) {
        unsigned qty = 1 + rnd(3), cents = 100 + rnd(99900);
        char brand[48];
        if (rnd(200) == 0)
            snprintf(brand, sizeof brand, "\"The \"\"Best\"\" Co %u\"", rnd(100));
        else
            snprintf(brand, sizeof brand, "Brand_%03u", rnd(500));
        int n = fprintf(f, "O%012llu,U%08u,2024-%02u-%02u %02u:%02u:%02u,%u.%02u,%u,%u.%02u,%s,%s,%s,%s,%u,%s\n",
                        (unsigned long long)row, rnd(5000000), 1 + rnd(12), 1 + rnd(28), rnd(24),
                        rnd(60), rnd(60), cents * qty / 100, cents * qty % 100, qty, cents / 100,
                        cents % 100, cats[rnd(8)], brand, chans[rnd(4)], pays[rnd(4)],
                        rnd(4) == 0, status[rnd(5)]);
        written += (uint64_t)n;
        row++;
    }
    fclose(f);
    printf("wrote %s: %llu rows, %llu bytes\n", path, (unsigned long long)row,
           (unsigned long long)written);
    return 0;
}

typedef struct totals {
    _Atomic uint64_t rows, fields, checksum;
} totals;

/* Order-independent checksum: sum over fields of a mix of (line, field number, length, first
 * and last byte). */
static void walk(const st_block *b, uint64_t *rows, uint64_t *fields, uint64_t *sum)
{
    st_cursor cur;
    st_cursor_init(&cur, b);
    st_record rec;
    while (st_cursor_next(&cur, &rec)) {
        (*rows)++;
        *fields += rec.nfields;
        for (uint32_t i = 0; i < rec.nfields; i++) {
            st_sv v = rec.fields[i];
            uint64_t x = rec.line * 131 + i * 7 + v.len;
            if (v.len) x = x * 31 + (unsigned char)v.ptr[0] * 17 + (unsigned char)v.ptr[v.len - 1];
            *sum += x * 0x9E3779B97F4A7C15ULL;
        }
    }
    st_cursor_clear(&cur);
}

static strata_status on_block(void *ud, unsigned worker, const st_block *b)
{
    (void)worker;
    totals *t = ud;
    uint64_t rows = 0, fields = 0, sum = 0;
    walk(b, &rows, &fields, &sum);
    atomic_fetch_add(&t->rows, rows);
    atomic_fetch_add(&t->fields, fields);
    atomic_fetch_add(&t->checksum, sum);
    return STRATA_OK;
}

static int run(const char *path, unsigned threads, size_t block_kib)
{
    strata_ctx *ctx;
    if (strata_ctx_create(&ctx) != STRATA_OK) return 1;
    totals t = {0};
    st_reader_opts o = {.threads = threads, .block_size = block_kib << 10};
    st_reader_stats stats;
    double t0 = now();
    strata_status st = st_reader_run(ctx, path, NULL, &o, NULL, on_block, &t, &stats);
    double secs = now() - t0;
    if (st != STRATA_OK) {
        fprintf(stderr, "%s\n", strata_errmsg(ctx));
        return 1;
    }
    printf("run threads=%u block=%zuKiB: %.3f s, %.2f GB/s (%.0f MiB/s), %llu rows, %llu fields, "
           "%llu blocks, peak %.1f MiB, checksum %016llx\n",
           threads, block_kib, secs, (double)stats.bytes / secs / 1e9,
           (double)stats.bytes / secs / 1048576.0, (unsigned long long)t.rows,
           (unsigned long long)t.fields, (unsigned long long)stats.blocks,
           (double)strata_memory_peak() / 1048576.0, (unsigned long long)t.checksum);
    strata_ctx_free(ctx);
    return 0;
}

static int mem(const char *path, uint64_t mib)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = (size_t)mib << 20;
    char *data = malloc(cap);
    size_t len = fread(data, 1, cap, f);
    fclose(f);
    /* whole rows only, and skip the header, as a worker would see them */
    while (len && data[len - 1] != '\n') len--;
    char *body = memchr(data, '\n', len);
    size_t off = body ? (size_t)(body - data) + 1 : len;
    st_block b = {data + off, len - off, 0, 2, NULL};
    uint64_t rows = 0, fields = 0, sum = 0;
    walk(&b, &rows, &fields, &sum); /* warm up */
    rows = fields = sum = 0;
    double t0 = now();
    walk(&b, &rows, &fields, &sum);
    double secs = now() - t0;
    printf("mem cursor, one thread: %.3f s for %zu bytes, %.2f GB/s, %llu rows, %llu fields, "
           "checksum %016llx\n",
           secs, b.len, (double)b.len / secs / 1e9, (unsigned long long)rows,
           (unsigned long long)fields, (unsigned long long)sum);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], strtoull(argv[3], NULL, 10), argc > 4 ? strtoull(argv[4], NULL, 10) : 42);
    if (argc >= 3 && strcmp(argv[1], "run") == 0)
        return run(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 2,
                   argc > 4 ? (size_t)atoi(argv[4]) : 8192);
    if (argc >= 3 && strcmp(argv[1], "mem") == 0)
        return mem(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 256);
    fprintf(stderr, "usage: csv_parse gen FILE MiB [seed] | run FILE [threads] [block KiB] | "
                    "mem FILE [MiB]\n");
    return 64;
}
