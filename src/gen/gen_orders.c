/*
 * gen_orders.c — writes orders.csv from the time-sorted order records of the simulation:
 * order lines (Gamma-Gamma order value split over 1–4 lines), coupons, refunds, partial
 * returns (a later line with a negative amount, kept in a small time-ordered heap until the
 * export reaches its time) and the injected problems of --dirt. Owned by src/gen/.
 *
 * Row: order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,
 *      payment_method,coupon_used,discount,status
 * Money is formatted from integer cents, so amount = quantity × unit_price holds exactly.
 */
#include "gen/gen_int.h"

#include <math.h>

#define ORDER_VALUE_SHAPE 3.0 /* p of Gamma-Gamma */
#define ORDER_VALUE_MIN 3.0
#define ORDER_VALUE_MAX 20000.0
#define MAX_LINES 4
#define MAX_PENDING_RETURNS (1u << 22)

typedef struct order_line {
    uint64_t order_no;
    uint32_t ts;
    uint32_t person;
    int32_t quantity; /* negative on a return line */
    int64_t unit_cents;
    int64_t discount_cents;
    uint8_t cat, brand, channel, payment;
    bool app_id, coupon, refunded;
} order_line;

/* A partial return waiting for the export to reach its time; a binary min-heap on
 * (ts, order_no) so equal times come out in a fixed order. */
typedef struct return_heap {
    order_line *items;
    size_t n, cap;
} return_heap;

static bool heap_before(const order_line *a, const order_line *b)
{
    return a->ts != b->ts ? a->ts < b->ts : a->order_no < b->order_no;
}

static bool heap_push(return_heap *h, const order_line *line)
{
    if (h->n >= MAX_PENDING_RETURNS) return true; /* never in practice: drop the return */
    if (h->n == h->cap && !ST_GROW(h->items, h->cap, h->n + 1)) return false;
    size_t i = h->n++;
    while (i > 0 && heap_before(line, &h->items[(i - 1) / 2])) {
        h->items[i] = h->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->items[i] = *line;
    return true;
}

static order_line heap_pop(return_heap *h)
{
    order_line top = h->items[0];
    order_line last = h->items[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && heap_before(&h->items[c + 1], &h->items[c])) c++;
        if (!heap_before(&h->items[c], &last)) break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->n) h->items[i] = last;
    return top;
}

static void put_padded(gen_out *o, uint64_t v, unsigned width)
{
    char tmp[20];
    unsigned n = 0;
    while (v || n < width) {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    }
    while (n) gen_putc(o, tmp[--n]);
}

/* Write "YYYY-02-30 hh:mm:ss" (a day that does not exist) or "yesterday". */
static void put_bad_date(gen_out *o, const gsl_rng *dirt_rng, uint32_t sec)
{
    if (gsl_rng_uniform(dirt_rng) < 0.5) {
        GEN_PUT_LIT(o, "yesterday");
        return;
    }
    size_t at = o->len;
    gen_put_ts(o, sec);
    memcpy(o->buf + at + 4, "-02-30", 6);
}

/* Kind of problem for the next row, or ST_GEN_DIRT__COUNT for none. */
static unsigned draw_dirt(const gsl_rng *dirt_rng, double dirt, const double *mix)
{
    if (dirt <= 0 || gsl_rng_uniform(dirt_rng) >= dirt) return ST_GEN_DIRT__COUNT;
    return gen_pick(dirt_rng, mix, ST_GEN_DIRT__COUNT);
}

static void emit_line(gen_run *run, gen_out *o, const gsl_rng *dirt_rng, const order_line *l)
{
    static const double mix[ST_GEN_DIRT__COUNT] = {30, 15, 15, 10, 10, 20};
    unsigned dirt = draw_dirt(dirt_rng, run->opts->dirt, mix);
    /* a refunded row contributes nothing, so an absurd amount there is no outlier a
     * cleaner would count: make it an unreadable amount instead */
    if (dirt == ST_GEN_DIRT_ABSURD_AMOUNT && l->refunded) dirt = ST_GEN_DIRT_BAD_AMOUNT;
    if (dirt < ST_GEN_DIRT__COUNT) o->counts->dirt[dirt]++;
    gen_row_begin(o);
    gen_putc(o, 'o');
    put_padded(o, l->order_no, 8);
    gen_putc(o, ',');
    if (dirt != ST_GEN_DIRT_MISSING_USER) {
        if (l->app_id) GEN_PUT_LIT(o, "app_");
        else gen_putc(o, 'u');
        gen_put_u64(o, (uint64_t)l->person + 1);
    }
    gen_putc(o, ',');
    if (dirt == ST_GEN_DIRT_BAD_DATE) put_bad_date(o, dirt_rng, l->ts);
    else gen_put_ts(o, l->ts);
    gen_putc(o, ',');
    if (dirt == ST_GEN_DIRT_ABSURD_AMOUNT) {
        GEN_PUT_LIT(o, "1000000000.00,1,1000000000.00,");
    } else {
        if (dirt == ST_GEN_DIRT_BAD_AMOUNT) {
            if (gsl_rng_uniform(dirt_rng) < 0.5) GEN_PUT_LIT(o, "N/A");
            else GEN_PUT_LIT(o, "twelve");
        } else {
            gen_put_cents(o, (int64_t)l->quantity * l->unit_cents);
        }
        gen_putc(o, ',');
        if (l->quantity < 0) gen_putc(o, '-');
        gen_put_u64(o, (uint64_t)(l->quantity < 0 ? -(int64_t)l->quantity : l->quantity));
        gen_putc(o, ',');
        gen_put_cents(o, l->unit_cents);
        gen_putc(o, ',');
    }
    gen_put_str(o, gen_category_names[l->cat]);
    gen_putc(o, ',');
    if (dirt == ST_GEN_DIRT_QUOTED_COMMA) {
        gen_putc(o, '"');
        gen_put_str(o, gen_brand_names[l->brand]);
        GEN_PUT_LIT(o, ", Inc.\"");
    } else {
        gen_put_str(o, gen_brand_names[l->brand]);
    }
    gen_putc(o, ',');
    gen_put_str(o, gen_channel_names[l->channel]);
    gen_putc(o, ',');
    gen_put_str(o, gen_payment_names[l->payment]);
    gen_putc(o, ',');
    gen_putc(o, l->coupon ? '1' : '0');
    gen_putc(o, ',');
    gen_put_cents(o, dirt == ST_GEN_DIRT_ABSURD_AMOUNT ? 0 : l->discount_cents);
    gen_putc(o, ',');
    if (l->refunded) GEN_PUT_LIT(o, "refunded");
    else GEN_PUT_LIT(o, "paid");
    gen_row_end(o, dirt == ST_GEN_DIRT_DUPLICATE);
}

/* Draw one order of record `rec` as 1–4 lines, write them, maybe queue a partial return. */
static bool write_order(gen_run *run, gen_out *o, const gsl_rng *rng, const gsl_rng *dirt_rng,
                        return_heap *returns, const gen_order_rec *rec, uint64_t order_no)
{
    static const double quantity_weights[5] = {75, 15, 7, 2, 1};
    const gen_person *p = &run->persons[rec->person];
    st_gen_report *report = run->report;
    order_line base = {.order_no = order_no, .ts = rec->ts, .person = rec->person};
    base.app_id = (p->flags & GEN_P_SECOND_ID) && gsl_rng_uniform(rng) < 0.4;
    unsigned n_lines = gsl_rng_uniform(rng) < 0.7 ? 1 : 2 + (unsigned)gsl_rng_uniform_int(rng, 3);
    base.refunded = gsl_rng_uniform(rng) < 0.03;
    base.coupon = gsl_rng_uniform(rng) < ((p->flags & GEN_P_PRICE) ? 0.65 : 0.015);
    double off = base.coupon ? 0.05 * (double)(1 + gsl_rng_uniform_int(rng, 6)) : 0.0;
    base.channel = gsl_rng_uniform(rng) < 0.75 ? p->channel_pref
                                               : (uint8_t)gen_pick(rng, gen_channel_weights, GEN_N_CHANNELS);
    base.payment = gsl_rng_uniform(rng) < 0.8 ? p->pay_pref
                                              : (uint8_t)gen_pick(rng, gen_payment_weights, GEN_N_PAYMENTS);
    double value = gsl_ran_gamma(rng, ORDER_VALUE_SHAPE, 1.0 / p->spend_rate);
    value = ST_MIN(ST_MAX(value, ORDER_VALUE_MIN), ORDER_VALUE_MAX);
    double weights[MAX_LINES], sum = 0;
    for (unsigned j = 0; j < n_lines; j++) sum += weights[j] = gsl_ran_gamma(rng, 1.5, 1.0);

    order_line lines[MAX_LINES];
    for (unsigned j = 0; j < n_lines; j++) {
        order_line *l = &lines[j];
        *l = base;
        l->quantity = 1 + (int32_t)gen_pick(rng, quantity_weights, 5);
        int64_t list_cents = ST_MAX((int64_t)100, llround(value * weights[j] / sum / l->quantity * 100.0));
        l->unit_cents = base.coupon ? ST_MAX((int64_t)1, llround((double)list_cents * (1.0 - off))) : list_cents;
        /* distinct unit prices keep the lines of one order from being exact duplicates */
        for (unsigned k = 0; k < j; k++)
            if (lines[k].unit_cents == l->unit_cents) {
                l->unit_cents++;
                list_cents++;
                k = (unsigned)-1; /* recheck from the first line */
            }
        l->discount_cents = l->quantity * (list_cents - l->unit_cents);
        double u = gsl_rng_uniform(rng);
        l->cat = u < 0.65 ? p->fav_cat : u < 0.85 ? p->fav_cat2 : (uint8_t)gen_pick(rng, gen_category_weights, GEN_N_CATEGORIES);
        bool loyal_pick = (p->flags & GEN_P_LOYAL) && l->cat == p->fav_brand % GEN_N_CATEGORIES &&
                          gsl_rng_uniform(rng) < 0.85;
        l->brand = loyal_pick ? p->fav_brand : (uint8_t)gen_brand_of_category(rng, l->cat);
        emit_line(run, o, dirt_rng, l);
    }
    report->orders++;
    report->multi_line_orders += n_lines > 1;
    report->refunded_orders += base.refunded;
    report->coupon_orders += base.coupon;

    if (!base.refunded && gsl_rng_uniform(rng) < 0.02) {
        order_line ret = lines[gsl_rng_uniform_int(rng, n_lines)];
        ret.quantity = -(int32_t)(1 + gsl_rng_uniform_int(rng, (unsigned long)ret.quantity));
        ret.discount_cents = 0;
        double later = rec->ts + (1.0 + gsl_ran_exponential(rng, 5.0)) * GEN_DAY_SECONDS;
        if (later < run->end_sec) { /* returns after the export date have not happened yet */
            ret.ts = (uint32_t)later;
            if (!heap_push(returns, &ret)) return false;
        }
    }
    return true;
}

static void write_return(gen_run *run, gen_out *o, const gsl_rng *dirt_rng, const order_line *ret)
{
    emit_line(run, o, dirt_rng, ret);
    run->report->return_lines++;
}

strata_status gen_write_orders(gen_run *run)
{
    gen_out out;
    strata_status st = gen_out_open(run, &out, "orders.csv",
                                    "order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,"
                                    "channel,payment_method,coupon_used,discount,status",
                                    &run->report->orders_csv);
    if (st != STRATA_OK) return st;
    gsl_rng rng, dirt_rng;
    return_heap returns = {0};
    bool ok = gen_rng_init(&rng, run->seed, GEN_STREAM_ORDERS) == STRATA_OK;
    ok = gen_rng_init(&dirt_rng, run->seed, GEN_STREAM_ORDERS_DIRT) == STRATA_OK && ok;
    for (size_t k = 0; k < run->n_orders && ok; k++) {
        const gen_order_rec *rec = &run->orders[k];
        /* persons are visited in time order, i.e. at random: fetch ahead to hide the misses */
        if (k + 16 < run->n_orders) __builtin_prefetch(&run->persons[run->orders[k + 16].person]);
        while (returns.n && returns.items[0].ts <= rec->ts) {
            order_line ret = heap_pop(&returns);
            write_return(run, &out, &dirt_rng, &ret);
        }
        ok = write_order(run, &out, &rng, &dirt_rng, &returns, rec, k + 1);
        if ((k & 0xffff) == 0xffff) gen_progress(run, 0x8000);
    }
    while (ok && returns.n) {
        order_line ret = heap_pop(&returns);
        write_return(run, &out, &dirt_rng, &ret);
    }
    st_free(returns.items);
    gen_rng_clear(&rng);
    gen_rng_clear(&dirt_rng);
    if (!ok) {
        gen_out_discard(&out);
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory writing orders.csv");
    }
    return gen_out_close(run, &out);
}
