/*
 * gen_out.c — the generator's plumbing: random streams, weighted picks, the shop's
 * hour-of-day profile, a stable radix sort of time-stamped records and the buffered CSV
 * writer with hand-rolled number and timestamp formatting (printf would dominate the time
 * of a 10-million-order run). Owned by src/gen/.
 */
#include "gen/gen_int.h"

#include <errno.h>

/* ---- random streams ---- */

uint64_t gen_mix64(uint64_t x)
{
    /* splitmix64's finalizer: a bijection, so distinct inputs give distinct outputs */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

strata_status gen_rng_init(gsl_rng *rng, uint64_t seed, unsigned stream)
{
    rng->type = gsl_rng_mt19937;
    rng->state = st_malloc(rng->type->size);
    if (!rng->state) return STRATA_ENOMEM;
    /* mt19937 takes 32 bits of seed; mixing first lets every bit of the 64-bit seed and
     * the stream number matter */
    uint64_t mixed = gen_mix64(seed ^ gen_mix64(0x5eed0000u + stream));
    gsl_rng_set(rng, (unsigned long)(uint32_t)(mixed ^ (mixed >> 32)));
    return STRATA_OK;
}

void gen_rng_clear(gsl_rng *rng)
{
    st_free(rng->state);
    rng->state = NULL;
}

unsigned gen_pick(const gsl_rng *rng, const double *weights, unsigned n)
{
    double total = 0;
    for (unsigned i = 0; i < n; i++) total += weights[i];
    double u = gsl_rng_uniform(rng) * total;
    for (unsigned i = 0; i + 1 < n; i++) {
        if (u < weights[i]) return i;
        u -= weights[i];
    }
    return n - 1;
}

uint32_t gen_time_of_day(const gsl_rng *rng, uint32_t sec)
{
    /* orders and visits of a Chinese online shop: quiet at night, a late-morning bump and
     * the evening peak around 21:00 */
    static const double hours[24] = {3.0, 1.5, 0.8, 0.5, 0.4, 0.5, 1.0, 2.0, 3.5, 4.5, 5.5, 6.0,
                                     5.5, 5.0, 5.0, 5.0, 5.0, 5.0, 5.5, 6.5, 8.0, 8.5, 7.0, 5.0};
    uint32_t day = sec / GEN_DAY_SECONDS;
    unsigned hour = gen_pick(rng, hours, 24);
    return day * GEN_DAY_SECONDS + hour * 3600u + (uint32_t)gsl_rng_uniform_int(rng, 3600);
}

void gen_progress(gen_run *run, uint64_t units)
{
    run->progress_done += units;
    if (run->progress_done > run->progress_total) run->progress_done = run->progress_total;
    st_progress(run->ctx, "generating", run->progress_done, run->progress_total);
}

/* ---- stable LSD radix sort on the leading uint32 ts, two 16-bit digits ---- */
#define GEN_DEFINE_SORT(name, type)                                                        \
    bool name(type *recs, type *tmp, size_t n)                                            \
    {                                                                                      \
        size_t *lo = st_calloc(2 * 65537, sizeof(size_t));                                 \
        if (!lo) return false;                                                             \
        size_t *hi = lo + 65537;                                                           \
        for (size_t i = 0; i < n; i++) {                                                   \
            lo[(recs[i].ts & 0xffffu) + 1]++;                                              \
            hi[(recs[i].ts >> 16) + 1]++;                                                  \
        }                                                                                  \
        for (size_t d = 1; d <= 65536; d++) {                                              \
            lo[d] += lo[d - 1];                                                            \
            hi[d] += hi[d - 1];                                                            \
        }                                                                                  \
        for (size_t i = 0; i < n; i++) tmp[lo[recs[i].ts & 0xffffu]++] = recs[i];          \
        for (size_t i = 0; i < n; i++) recs[hi[tmp[i].ts >> 16]++] = tmp[i];               \
        st_free(lo);                                                                       \
        return true;                                                                       \
    }
GEN_DEFINE_SORT(gen_sort_orders, gen_order_rec)
GEN_DEFINE_SORT(gen_sort_events, gen_event_rec)

/* ---- buffered writer ---- */

#define GEN_OUT_BUFFER (4u << 20)

strata_status gen_out_open(gen_run *run, gen_out *o, const char *name, const char *header,
                           st_gen_file_counts *counts)
{
    memset(o, 0, sizeof *o);
    o->counts = counts;
    o->start_day = run->start_day;
    o->cached_day = INT32_MIN;
    size_t dir_len = strlen(run->opts->out_dir), name_len = strlen(name);
    o->path = st_malloc(dir_len + name_len + 2);
    o->buf = st_malloc(GEN_OUT_BUFFER);
    if (!o->path || !o->buf) {
        gen_out_discard(o);
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory opening %s", name);
    }
    memcpy(o->path, run->opts->out_dir, dir_len);
    o->path[dir_len] = '/';
    memcpy(o->path + dir_len + 1, name, name_len + 1);
    o->cap = GEN_OUT_BUFFER;
    o->f = fopen(o->path, "wb");
    if (!o->f) {
        int e = errno;
        strata_status st = st_error(run->ctx, STRATA_EIO, "%s: cannot create: %s", o->path, strerror(e));
        gen_out_discard(o);
        return st;
    }
    gen_put_str(o, header);
    gen_putc(o, '\n');
    return STRATA_OK;
}

void gen_out_flush(gen_out *o)
{
    if (o->len && !o->err && fwrite(o->buf, 1, o->len, o->f) != o->len) o->err = errno ? errno : EIO;
    o->len = 0;
}

strata_status gen_out_close(gen_run *run, gen_out *o)
{
    gen_out_flush(o);
    if (o->f && fclose(o->f) != 0 && !o->err) o->err = errno ? errno : EIO;
    o->f = NULL;
    strata_status st = STRATA_OK;
    if (o->err) st = st_error(run->ctx, STRATA_EIO, "%s: write failed: %s", o->path, strerror(o->err));
    gen_out_discard(o);
    return st;
}

void gen_out_discard(gen_out *o)
{
    if (o->f) fclose(o->f);
    st_free(o->path);
    st_free(o->buf);
    o->f = NULL;
    o->path = o->buf = NULL;
    o->len = o->cap = 0;
}

void gen_row_end(gen_out *o, bool duplicate)
{
    gen_putc(o, '\n');
    size_t n = o->len - o->row_start;
    ST_ASSERT(n <= GEN_ROW_MAX);
    o->counts->rows++;
    if (duplicate) {
        memcpy(o->buf + o->len, o->buf + o->row_start, n);
        o->len += n;
        o->counts->rows++;
    }
}

void gen_put_str(gen_out *o, const char *s)
{
    gen_put(o, s, strlen(s));
}

void gen_put_u64(gen_out *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) o->buf[o->len++] = tmp[--n];
}

void gen_put_cents(gen_out *o, int64_t cents)
{
    uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    if (cents < 0) gen_putc(o, '-');
    gen_put_u64(o, mag / 100);
    gen_putc(o, '.');
    gen_putc(o, (char)('0' + mag / 10 % 10));
    gen_putc(o, (char)('0' + mag % 10));
}

static void put2(gen_out *o, unsigned v)
{
    gen_putc(o, (char)('0' + v / 10));
    gen_putc(o, (char)('0' + v % 10));
}

void gen_put_ts(gen_out *o, uint32_t sec)
{
    int32_t day = o->start_day + (int32_t)(sec / GEN_DAY_SECONDS);
    if (day != o->cached_day) {
        int y;
        unsigned m, d;
        st_civil_from_days(day, &y, &m, &d);
        /* the run checks that every year of the period has four digits */
        o->day_text[0] = (char)('0' + y / 1000);
        o->day_text[1] = (char)('0' + y / 100 % 10);
        o->day_text[2] = (char)('0' + y / 10 % 10);
        o->day_text[3] = (char)('0' + y % 10);
        o->day_text[4] = '-';
        o->day_text[5] = (char)('0' + m / 10);
        o->day_text[6] = (char)('0' + m % 10);
        o->day_text[7] = '-';
        o->day_text[8] = (char)('0' + d / 10);
        o->day_text[9] = (char)('0' + d % 10);
        o->cached_day = day;
    }
    gen_put(o, o->day_text, 10);
    unsigned s = sec % GEN_DAY_SECONDS;
    gen_putc(o, ' ');
    put2(o, s / 3600);
    gen_putc(o, ':');
    put2(o, s / 60 % 60);
    gen_putc(o, ':');
    put2(o, s % 60);
}

void gen_put_csv(gen_out *o, const char *s)
{
    size_t n = strlen(s);
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
        gen_put(o, s, n);
        return;
    }
    gen_putc(o, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') gen_putc(o, '"');
        gen_putc(o, s[i]);
    }
    gen_putc(o, '"');
}
