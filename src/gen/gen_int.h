/*
 * gen_int.h — what the files of the generator share: the simulated persons, the compact
 * time-stamped records that are sorted before writing, random streams, the buffered CSV
 * writer and the catalogues (categories, brands, keywords, regions).
 *
 * Owned by src/gen/. Nothing outside src/gen/ includes this header.
 */
#ifndef ST_GEN_INT_H
#define ST_GEN_INT_H

#include "gen/gen.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>

#define GEN_DAY_SECONDS 86400u
#define GEN_MAX_USERS 50000000u   /* person numbers fit 31 bits; phone numbers stay unique */
#define GEN_MAX_ORDERS 500000000u /* 8-byte records, sorted with a same-size scratch array */
#define GEN_MAX_EVENTS 500000000u

/* ---- persons ---- */
#define GEN_P_BROWSER 0x01u   /* drawn as a browser: never orders */
#define GEN_P_LOYAL 0x02u     /* buys its favourite brand most of the time */
#define GEN_P_PRICE 0x04u     /* price-sensitive: uses coupons most of the time */
#define GEN_P_SECOND_ID 0x08u /* also orders as app_<n>, linked in identities.csv */

#define GEN_NONE UINT32_MAX

typedef struct gen_person {
    uint32_t acq_sec;   /* signup time, seconds since the start of the period */
    uint32_t first_sec; /* time of the first order, GEN_NONE when none falls in the period */
    uint32_t last_sec;  /* end of activity: dropout plus a tail, or the end of the period */
    uint32_t orders;    /* orders simulated */
    float rate;         /* purchases per day while active (λ of BG/NBD) */
    float dropout;      /* chance to become inactive after each repeat purchase (p) */
    float spend_rate;   /* ν of Gamma-Gamma: an order's value ~ Gamma(shape, scale 1/ν) */
    float activity;     /* relative weight of browsing sessions */
    uint8_t flags;      /* GEN_P_* */
    uint8_t acq_channel, fav_cat, fav_cat2, fav_brand, channel_pref, pay_pref, pad;
} gen_person;

/* One order (or one event) at a time: sorted by ts, stably, before writing. */
typedef struct gen_order_rec {
    uint32_t ts;     /* seconds since the start of the period */
    uint32_t person; /* index into persons */
} gen_order_rec;

#define GEN_EV_APP_ID 0x80000000u /* person field bit: the event is logged under app_<n> */
typedef struct gen_event_rec {
    uint32_t ts;
    uint32_t person; /* index | GEN_EV_APP_ID */
    uint32_t session;
    uint16_t item;   /* category * 1000 + rank */
    uint8_t type;    /* gen_event_type */
    uint8_t keyword; /* category * GEN_KEYWORDS_PER_CAT + k, for searches */
} gen_event_rec;

/* ---- the run ---- */
typedef struct gen_run {
    strata_ctx *ctx;
    const strata_gen_opts *opts;
    st_gen_report *report;
    uint64_t seed;
    int32_t start_day;
    uint32_t days;
    uint32_t end_sec; /* days * 86400: every record is before it */
    gen_person *persons;
    uint32_t n_persons;
    gen_order_rec *orders; /* sorted by ts once the order process is done */
    size_t n_orders;
    uint64_t progress_done, progress_total;
} gen_run;

void gen_progress(gen_run *run, uint64_t units);

/* ---- random streams: each output draws from its own stream of the seed ---- */
enum {
    GEN_STREAM_PERSONS = 1,
    GEN_STREAM_PROCESS,
    GEN_STREAM_ORDERS,
    GEN_STREAM_ORDERS_DIRT,
    GEN_STREAM_EVENTS,
    GEN_STREAM_EVENTS_DIRT,
    GEN_STREAM_USERS,
    GEN_STREAM_USERS_DIRT,
    GEN_STREAM_IDENTITIES
};
/* A Mersenne Twister whose state comes from st_malloc (gsl_rng_alloc would use malloc).
 * Free with gen_rng_clear(). */
strata_status gen_rng_init(gsl_rng *rng, uint64_t seed, unsigned stream);
void gen_rng_clear(gsl_rng *rng);
/* Index drawn with probability weights[i] / sum(weights). */
unsigned gen_pick(const gsl_rng *rng, const double *weights, unsigned n);
/* A time within the day of `sec`, drawn from the hour-of-day profile of a shop. */
uint32_t gen_time_of_day(const gsl_rng *rng, uint32_t sec);
/* Bijective 64-bit mix (for identifiers that must not collide). */
uint64_t gen_mix64(uint64_t x);

/* ---- stable sort by ts (LSD radix, two 16-bit passes); tmp holds n records. False on
 * ENOMEM, with recs unchanged. ---- */
bool gen_sort_orders(gen_order_rec *recs, gen_order_rec *tmp, size_t n);
bool gen_sort_events(gen_event_rec *recs, gen_event_rec *tmp, size_t n);

/* ---- buffered CSV writer: one big buffer flushed with fwrite, no per-row allocation ---- */
#define GEN_ROW_MAX 1024 /* every row the generator formats is shorter than this */
typedef struct gen_out {
    FILE *f;
    char *path; /* st_malloc'd, for messages */
    char *buf;
    size_t len, cap;
    size_t row_start;
    int err; /* errno of the first failed write, 0 if none */
    int32_t start_day, cached_day;
    char day_text[11];
    st_gen_file_counts *counts;
} gen_out;

/* Create dir/name (truncating) and write the header line. STRATA_EIO names the path. */
strata_status gen_out_open(gen_run *run, gen_out *o, const char *name, const char *header,
                           st_gen_file_counts *counts);
/* Flush and close; STRATA_EIO naming the path when any write failed. Frees the buffers. */
strata_status gen_out_close(gen_run *run, gen_out *o);
/* Release everything after a failure elsewhere (the file is left as it is). */
void gen_out_discard(gen_out *o);

void gen_out_flush(gen_out *o);
static inline void gen_row_begin(gen_out *o)
{
    if (o->cap - o->len < 2 * GEN_ROW_MAX + 2) gen_out_flush(o);
    o->row_start = o->len;
}
/* End the row with LF; with `duplicate` write it a second time, verbatim. */
void gen_row_end(gen_out *o, bool duplicate);
static inline void gen_put(gen_out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}
static inline void gen_putc(gen_out *o, char c)
{
    o->buf[o->len++] = c;
}
#define GEN_PUT_LIT(o, lit) gen_put((o), (lit), sizeof(lit) - 1)
void gen_put_str(gen_out *o, const char *s);
void gen_put_u64(gen_out *o, uint64_t v);
void gen_put_cents(gen_out *o, int64_t cents); /* "-12.05" */
void gen_put_ts(gen_out *o, uint32_t sec);     /* "YYYY-MM-DD HH:MM:SS" */
void gen_put_csv(gen_out *o, const char *s);   /* RFC 4180 quoting when needed */

/* ---- catalogues ---- */
#define GEN_N_CATEGORIES 8
#define GEN_N_BRANDS 30
#define GEN_KEYWORDS_PER_CAT 6
#define GEN_N_ACQ_CHANNELS 5
#define GEN_N_CHANNELS 4
#define GEN_N_PAYMENTS 4
extern const char *const gen_category_names[GEN_N_CATEGORIES];
extern const double gen_category_weights[GEN_N_CATEGORIES];
extern const char *const gen_brand_names[GEN_N_BRANDS]; /* brand b sells category b % 8 */
extern const char *const gen_keywords[GEN_N_CATEGORIES * GEN_KEYWORDS_PER_CAT];
extern const char *const gen_acq_channel_names[GEN_N_ACQ_CHANNELS];
extern const double gen_acq_channel_weights[GEN_N_ACQ_CHANNELS];
extern const double gen_acq_channel_rate[GEN_N_ACQ_CHANNELS]; /* purchase-rate factor */
extern const double gen_acq_channel_cac[GEN_N_ACQ_CHANNELS];  /* median cost per person */
extern const char *const gen_channel_names[GEN_N_CHANNELS];
extern const double gen_channel_weights[GEN_N_CHANNELS];
extern const char *const gen_payment_names[GEN_N_PAYMENTS];
extern const double gen_payment_weights[GEN_N_PAYMENTS];

/* A brand of category `cat`, popular brands more often. */
unsigned gen_brand_of_category(const gsl_rng *rng, unsigned cat);

/* ---- the writers ---- */
strata_status gen_write_orders(gen_run *run);
strata_status gen_write_events(gen_run *run); /* uses run->orders for purchase sessions */
strata_status gen_write_users(gen_run *run);
strata_status gen_write_identities(gen_run *run);

#endif /* ST_GEN_INT_H */
