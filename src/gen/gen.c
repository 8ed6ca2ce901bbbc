/*
 * gen.c — `strata gen`: deterministic synthetic customer data for tests, demos and
 * benchmarks. Owns the simulated population and the order process; the per-file writers
 * live in gen_orders.c, gen_events.c and gen_people.c. Sits outside the data flow: it only
 * produces the four inputs that ingest reads.
 *
 * The story (all draws from GSL's Mersenne Twister, one stream per purpose derived from
 * the seed, so the same options give byte-identical files, --events does not change the
 * orders and --dirt changes only the rows it dirties):
 *   persons     signup time ~ Beta(1, 1.8) over the period (more early than late), at a
 *               shop's hour-of-day profile; acquisition channel (organic, search_ads,
 *               social, referral, offline) with its own CAC and purchase-rate factor.
 *               About 12 % are browsers who never order (fewer if fewer orders than
 *               persons are asked for).
 *   orders      BG/NBD: the first order follows signup (within the hour for 55 %, else
 *               after ~Exp(10 days)); repeat orders at Poisson rate λ ~ Gamma(0.6) × channel
 *               factor × s, and after each order (the first one too, unlike the paper's
 *               BG/NBD, so that one-time buyers are the most common kind as in real shops)
 *               the person drops out for good with probability p ~ Beta(1.1, 4). The scale
 *               s is solved (bisection on the exact expectation 1 + (1 − p)(1 − e^{−λpT})/p
 *               per buyer) so the total is ≈ opts->orders.
 *   spend       Gamma-Gamma: person ν ~ Gamma(3.5, scale 1/100), order value ~ Gamma(3,
 *               scale 1/ν) (mean ≈ 120, long right tail, capped at 20000), split over lines.
 *   orders.csv  sorted by order_ts; 70 % of orders one line, 30 % two to four lines with
 *               distinct unit prices; amount = quantity × unit_price exactly (in cents;
 *               unit_price is the price paid, discount what the coupon took off the line);
 *               coupons are a trait (6 % price-sensitive persons use one 65 % of the time,
 *               others 1.5 %); 3 % of orders refunded (every line status refunded); 2 % get
 *               a partial return: a later line with negative quantity and amount, status
 *               paid; 6 % of buyers sometimes order as app_<n> instead of u<n>.
 *   events.csv  sessions of several events: browsing sessions spread over each person's
 *               active time (weight grows with λ; browsers keep browsing to the end),
 *               and purchase sessions (views, cart, purchase) ending at an order.
 *   users.csv   one row per person (u<n>); identities.csv: 1–3 identifiers per person,
 *               app_<n> shares u<n>'s phone, and a few shared family devices link to 21–40
 *               persons each (identity resolution must not merge through them).
 *
 * Injected problems (opts->dirt = chance per written row; one kind per row, drawn from a
 * separate stream; counted in st_gen_report):
 *   file        duplicate  missing_user_id  bad_date  absurd_amount  bad_amount  quoted_comma
 *   orders.csv     30 %         15 %          15 %        10 %          10 %         20 %
 *   events.csv     40 %         20 %          20 %         -             -           20 %
 *   users.csv      50 %          -            50 %         -             -            -
 *   identities.csv is kept clean (a broken link would make joins untestable).
 * duplicate = the row written twice verbatim; bad_date = "YYYY-02-30 hh:mm:ss" or
 * "yesterday" (alternately); absurd_amount = quantity 1, unit_price and amount
 * 1000000000.00 (never on a refunded row, which would contribute nothing: those get a
 * bad_amount instead); bad_amount = "N/A" or "twelve"; quoted_comma = a valid RFC 4180 quoted
 * field with a comma (brand "<brand>, Inc." in orders, keyword or page in events) that a
 * correct reader must accept.
 *
 * Memory: 40 bytes per person, 16 bytes per order and 32 per event while sorting; output
 * goes through one 4 MiB buffer per file. 1 M persons and 10 M orders take ~250 MB.
 */
#include "gen/gen_int.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/types.h>

/* BG/NBD and Gamma-Gamma parameters of the simulated shop (rates per day). */
#define RATE_SHAPE 0.6   /* r: heterogeneity of purchase rates */
#define DROPOUT_A 1.1    /* p ~ Beta(a, b) */
#define DROPOUT_B 4.0
#define SPEND_Q 3.5      /* ν ~ Gamma(q, scale 1/γ) */
#define SPEND_GAMMA 100.0
#define TAIL_DAYS 30.0   /* browsing continues about this long after the last order */

const char *st_gen_dirt_key(st_gen_dirt kind)
{
    static const char *const keys[] = {
#define ST_GEN__DIRT_KEY(id, key) key,
        ST_GEN_DIRT_MAP(ST_GEN__DIRT_KEY)
#undef ST_GEN__DIRT_KEY
    };
    return (unsigned)kind < ST_ARRAY_LEN(keys) ? keys[kind] : "unknown";
}

strata_status strata_gen(strata_ctx *ctx, const strata_gen_opts *opts)
{
    return st_gen_run(ctx, opts, NULL);
}

/* mkdir -p: create every missing component of path. */
static strata_status make_dirs(strata_ctx *ctx, const char *path)
{
    char *copy = st_strdup(path);
    if (!copy) return st_error(ctx, STRATA_ENOMEM, "gen: out of memory");
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            strata_status st = st_error(ctx, STRATA_EIO, "%s: cannot create directory: %s", copy, strerror(e));
            st_free(copy);
            return st;
        }
        *p = saved;
        if (saved == '\0') break;
    }
    st_free(copy);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return st_error(ctx, STRATA_EIO, "%s: not a directory", path);
    return STRATA_OK;
}

static strata_status check_opts(strata_ctx *ctx, const strata_gen_opts *o, int32_t *start_day, uint32_t *days)
{
    if (!o || !o->out_dir || !o->out_dir[0]) return st_error(ctx, STRATA_EINVAL, "gen: no output directory");
    if (o->users == 0 || o->users > GEN_MAX_USERS)
        return st_error(ctx, o->users ? STRATA_ELIMIT : STRATA_EINVAL,
                        "gen: users must be between 1 and %u, got %llu", GEN_MAX_USERS,
                        (unsigned long long)o->users);
    if (o->orders > GEN_MAX_ORDERS)
        return st_error(ctx, STRATA_ELIMIT, "gen: at most %u orders, got %llu", GEN_MAX_ORDERS,
                        (unsigned long long)o->orders);
    if (o->events > GEN_MAX_EVENTS)
        return st_error(ctx, STRATA_ELIMIT, "gen: at most %u events, got %llu", GEN_MAX_EVENTS,
                        (unsigned long long)o->events);
    if (!(o->dirt >= 0 && o->dirt <= 0.5)) return st_error(ctx, STRATA_EINVAL, "gen: dirt must be between 0 and 0.5");
    if (o->days < 0 || o->days > 36500) return st_error(ctx, STRATA_EINVAL, "gen: days must be between 1 and 36500");
    *days = o->days ? (uint32_t)o->days : 730;
    *start_day = o->start_day == STRATA_DAY_NONE ? st_days_from_civil(2024, 1, 1) : o->start_day;
    /* timestamps are written with four-digit years */
    if (*start_day < st_days_from_civil(1000, 1, 1) || *start_day > st_days_from_civil(9999, 12, 31) - (int32_t)*days)
        return st_error(ctx, STRATA_EINVAL, "gen: the period must lie within the years 1000 to 9999");
    return STRATA_OK;
}

/* ---- persons ---- */

static strata_status draw_persons(gen_run *run)
{
    gsl_rng rng;
    if (gen_rng_init(&rng, run->seed, GEN_STREAM_PERSONS) != STRATA_OK)
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    const strata_gen_opts *o = run->opts;
    /* ~12 % browse only; when fewer orders than persons are asked for, fewer buy */
    double buyer_share = ST_MIN(0.88, (double)o->orders / (double)o->users);
    for (uint32_t i = 0; i < run->n_persons; i++) {
        gen_person *p = &run->persons[i];
        if ((i & 0xffff) == 0xffff) gen_progress(run, 0x10000);
        double x = gsl_ran_beta(&rng, 1.0, 1.8);
        p->acq_sec = gen_time_of_day(&rng, (uint32_t)(x * (run->end_sec - 1)));
        p->acq_channel = (uint8_t)gen_pick(&rng, gen_acq_channel_weights, GEN_N_ACQ_CHANNELS);
        if (gsl_rng_uniform(&rng) >= buyer_share) p->flags |= GEN_P_BROWSER;
        p->rate = (float)(gsl_ran_gamma(&rng, RATE_SHAPE, 1.0) * gen_acq_channel_rate[p->acq_channel]);
        /* (draw, then clamp: ST_MAX evaluates its arguments twice) */
        double dropout = gsl_ran_beta(&rng, DROPOUT_A, DROPOUT_B);
        double spend_rate = gsl_ran_gamma(&rng, SPEND_Q, 1.0 / SPEND_GAMMA);
        p->dropout = (float)ST_MAX(1e-3, dropout);
        p->spend_rate = (float)ST_MAX(2e-3, spend_rate);
        if (gsl_rng_uniform(&rng) < 0.06) {
            p->flags |= GEN_P_PRICE;
            p->spend_rate *= 1.25f; /* cheaper baskets */
        }
        if (gsl_rng_uniform(&rng) < 0.25) p->flags |= GEN_P_LOYAL;
        p->fav_cat = (uint8_t)gen_pick(&rng, gen_category_weights, GEN_N_CATEGORIES);
        p->fav_cat2 = (uint8_t)gen_pick(&rng, gen_category_weights, GEN_N_CATEGORIES);
        p->fav_brand = (uint8_t)gen_brand_of_category(&rng, p->fav_cat);
        p->channel_pref = (uint8_t)gen_pick(&rng, gen_channel_weights, GEN_N_CHANNELS);
        p->pay_pref = (uint8_t)gen_pick(&rng, gen_payment_weights, GEN_N_PAYMENTS);
        double first_delay = gsl_rng_uniform(&rng) < 0.55 ? gsl_ran_exponential(&rng, 0.04)
                                                          : -gsl_ran_exponential(&rng, 10.0);
        double second_id = gsl_rng_uniform(&rng);
        double activity = gsl_ran_gamma(&rng, 0.7, 0.5);
        p->first_sec = GEN_NONE;
        p->last_sec = run->end_sec - 1;
        p->activity = (float)activity; /* buyers get theirs from their purchase rate */
        if (p->flags & GEN_P_BROWSER) {
            p->rate = 0;
            continue;
        }
        if (second_id < 0.06) p->flags |= GEN_P_SECOND_ID;
        /* a negative delay marks "later, at a time of day of its own" */
        double t = p->acq_sec + fabs(first_delay) * GEN_DAY_SECONDS;
        if (t < run->end_sec) {
            uint32_t ts = first_delay < 0 ? gen_time_of_day(&rng, (uint32_t)t) : (uint32_t)t;
            ts = ST_MAX(ts, p->acq_sec + 60);
            if (ts < run->end_sec) p->first_sec = ts;
        }
    }
    gen_rng_clear(&rng);
    return STRATA_OK;
}

/* Expected number of orders in the period when every base rate is multiplied by s:
 * 1 + (1 − p) (1 − e^{−sλpT}) / p per buyer: the first order, then, if still active, the
 * expected repeat orders of a person who buys at rate sλ and drops out after each order
 * with probability p (alive at time t with probability e^{−sλpt}). */
static double expected_orders(const gen_run *run, double s, double dropout_scale)
{
    double total = 0;
    for (uint32_t i = 0; i < run->n_persons; i++) {
        const gen_person *p = &run->persons[i];
        if (p->first_sec == GEN_NONE) continue;
        double T = (double)(run->end_sec - p->first_sec) / GEN_DAY_SECONDS;
        double dp = p->dropout * dropout_scale;
        total += 1.0 - (1.0 - dp) * expm1(-s * p->rate * dp * T) / dp;
    }
    return total;
}

/* Scale of the purchase rates, and of the dropout chances when even very high rates cannot
 * reach the requested total (dropout caps a person's expected orders at 1/p). */
static void calibrate(const gen_run *run, double *rate_scale, double *dropout_scale)
{
    double target = (double)run->opts->orders;
    *rate_scale = 0;
    *dropout_scale = 1;
    if (expected_orders(run, 0, 1) >= target) return;
    double lo = log(1e-9), hi = log(1e3);
    for (int k = 0; k < 40 && expected_orders(run, exp(hi), *dropout_scale) < target; k++)
        *dropout_scale *= 0.5;
    for (int k = 0; k < 36; k++) {
        double mid = 0.5 * (lo + hi);
        if (expected_orders(run, exp(mid), *dropout_scale) < target) lo = mid;
        else hi = mid;
    }
    *rate_scale = exp(0.5 * (lo + hi));
}

/* Append one order record. STRATA_ELIMIT at the ceiling (the simulation then stops
 * quietly: the ceiling is four times the request), STRATA_ENOMEM when growing fails. */
static strata_status push_order(gen_run *run, size_t *cap, size_t max, uint32_t ts, uint32_t person)
{
    if (run->n_orders >= max) return STRATA_ELIMIT;
    if (run->n_orders == *cap && !ST_GROW(run->orders, *cap, run->n_orders + 1)) return STRATA_ENOMEM;
    run->orders[run->n_orders].ts = ts;
    run->orders[run->n_orders].person = person;
    run->n_orders++;
    return STRATA_OK;
}

/* Simulate every buyer's orders (BG/NBD) into run->orders, then sort them by time. */
static strata_status simulate_orders(gen_run *run)
{
    double rate_scale, dropout_scale;
    calibrate(run, &rate_scale, &dropout_scale);
    gsl_rng rng;
    if (gen_rng_init(&rng, run->seed, GEN_STREAM_PROCESS) != STRATA_OK)
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    /* a generous ceiling: the realised total is within a few per cent of the target */
    size_t max = (size_t)ST_MIN((uint64_t)GEN_MAX_ORDERS, 4 * run->opts->orders + run->n_persons + 1024);
    size_t cap = (size_t)ST_MIN((uint64_t)max, run->opts->orders + run->opts->orders / 8 + 1024);
    run->orders = st_malloc(cap * sizeof *run->orders);
    strata_status st = run->orders ? STRATA_OK : STRATA_ENOMEM;
    for (uint32_t i = 0; i < run->n_persons && st == STRATA_OK; i++) {
        gen_person *p = &run->persons[i];
        if ((i & 0xffff) == 0xffff) gen_progress(run, run->opts->orders * 0x8000 / run->n_persons);
        if (p->first_sec == GEN_NONE) {
            p->rate = 0;
            continue;
        }
        p->rate = (float)(p->rate * rate_scale);
        p->dropout = (float)(p->dropout * dropout_scale);
        if ((st = push_order(run, &cap, max, p->first_sec, i)) != STRATA_OK) break;
        p->orders = 1;
        uint32_t last = p->first_sec;
        double t = p->first_sec;
        bool dropped = true;
        if (p->rate > 0) {
            for (;;) {
                if (gsl_rng_uniform(&rng) < p->dropout) break; /* after every order, the first too */
                t += gsl_ran_exponential(&rng, 1.0 / p->rate) * GEN_DAY_SECONDS;
                if (t >= run->end_sec) {
                    dropped = false;
                    break;
                }
                uint32_t ts = gen_time_of_day(&rng, (uint32_t)t);
                ts = ST_MAX(ts, p->acq_sec + 60);
                if (ts >= run->end_sec) ts = run->end_sec - 1;
                if ((st = push_order(run, &cap, max, ts, i)) != STRATA_OK) break;
                p->orders++;
                last = ST_MAX(last, ts);
            }
        }
        if (dropped) {
            double tail = last + gsl_ran_exponential(&rng, TAIL_DAYS) * GEN_DAY_SECONDS;
            p->last_sec = tail < run->end_sec ? (uint32_t)tail : run->end_sec - 1;
        }
        /* browsing intensity follows buying intensity */
        p->activity = (float)(0.3 + 25.0 * p->rate);
    }
    gen_rng_clear(&rng);
    if (st == STRATA_ELIMIT) st = STRATA_OK; /* truncated at the ceiling */
    if (st == STRATA_ENOMEM) return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory for %zu orders", cap);
    gen_order_rec *tmp = st_malloc(ST_MAX(run->n_orders, (size_t)1) * sizeof *tmp);
    bool sorted = tmp && gen_sort_orders(run->orders, tmp, run->n_orders);
    st_free(tmp);
    if (!sorted) return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory sorting %zu orders", run->n_orders);
    return STRATA_OK;
}

strata_status st_gen_run(strata_ctx *ctx, const strata_gen_opts *opts, st_gen_report *out)
{
    st_gen_report local;
    st_gen_report *report = out ? out : &local;
    memset(report, 0, sizeof *report);
    gen_run run;
    memset(&run, 0, sizeof run);
    strata_status st = check_opts(ctx, opts, &run.start_day, &run.days);
    if (st != STRATA_OK) return st;
    if ((st = make_dirs(ctx, opts->out_dir)) != STRATA_OK) return st;
    run.ctx = ctx;
    run.opts = opts;
    run.report = report;
    run.seed = opts->seed;
    run.end_sec = run.days * GEN_DAY_SECONDS;
    run.n_persons = (uint32_t)opts->users;
    run.progress_total = 2 * opts->users + opts->orders + opts->events;
    run.persons = st_calloc(run.n_persons, sizeof *run.persons);
    if (!run.persons) return st_error(ctx, STRATA_ENOMEM, "gen: out of memory for %u persons", run.n_persons);
    st_progress(ctx, "generating", 0, run.progress_total);

    st = draw_persons(&run);
    if (st == STRATA_OK) st = simulate_orders(&run);
    if (st == STRATA_OK) st = gen_write_orders(&run);
    if (st == STRATA_OK && opts->events > 0) st = gen_write_events(&run);
    st_free(run.orders);
    run.orders = NULL;
    if (st == STRATA_OK) st = gen_write_users(&run);
    if (st == STRATA_OK) st = gen_write_identities(&run);
    if (st == STRATA_OK) {
        report->persons = run.n_persons;
        for (uint32_t i = 0; i < run.n_persons; i++) {
            const gen_person *p = &run.persons[i];
            report->buyers += p->orders > 0;
            report->browsers += (p->flags & GEN_P_BROWSER) != 0;
            report->second_id_persons += (p->flags & GEN_P_SECOND_ID) != 0;
        }
        run.progress_done = run.progress_total;
        st_progress(ctx, "generating", run.progress_total, run.progress_total);
    }
    st_free(run.persons);
    if (st != STRATA_OK && out) memset(out, 0, sizeof *out);
    return st;
}
