/*
 * gen_events.c — writes events.csv: behaviour events grouped in sessions, sorted by time.
 * Owned by src/gen/.
 *
 * Two kinds of sessions share the budget opts->events:
 *   purchase sessions  end at an order: [login] [search] view… add_to_cart purchase, a few
 *                      seconds to minutes apart. Up to 80 % of orders get one, and they use
 *                      at most ~30 % of the budget, so views ≫ carts ≫ purchases.
 *   browse sessions    the rest, spread over each person's active time (signup to dropout
 *                      plus a tail; browsers to the end of the period) in proportion to a
 *                      per-person activity that grows with the purchase rate: [login] then
 *                      ~4.5 steps of view / search / cart / favorite / like / comment /
 *                      share / activity / service_contact. Browsers abandon carts; they never
 *                      purchase.
 * Row: user_id,event_ts,event_type,session_id,item,keyword,page — keyword only on search.
 */
#include "gen/gen_int.h"

#include <math.h>

enum gen_event_type {
    EV_VIEW,
    EV_SEARCH,
    EV_ADD_TO_CART,
    EV_FAVORITE,
    EV_LIKE,
    EV_COMMENT,
    EV_SHARE,
    EV_ACTIVITY,
    EV_SERVICE,
    EV_LOGIN,
    EV_PURCHASE,
    EV__COUNT
};
static const char *const type_names[EV__COUNT] = {"view",     "search",   "add_to_cart",     "favorite",
                                                  "like",     "comment",  "share",           "activity",
                                                  "service_contact", "login", "purchase"};
static const char *const type_pages[EV__COUNT] = {"item_detail", "search",   "item_detail", "item_detail",
                                                  "item_detail", "item_detail", "item_detail", "activity",
                                                  "service",     "home",     "checkout"};
/* steps of a browse session (the first nine types) */
static const double step_weights[EV_LOGIN] = {60, 14, 6, 5, 5, 1.5, 1.5, 4, 1};

#define LOGIN_SHARE 0.35
#define STEP_P 0.22      /* steps ~ Geometric(0.22), mean 4.5 */
#define MAX_STEPS 40
#define PURCHASE_LOGIN 0.3
#define PURCHASE_SEARCH 0.5
#define PURCHASE_VIEW_P 0.35 /* views before the cart ~ Geometric(0.35), mean 2.9 */

typedef struct event_buf {
    gen_event_rec *recs;
    size_t n, cap, max;
    uint32_t sessions;
    bool oom;
} event_buf;

static void push_event(event_buf *b, const gen_run *run, uint32_t ts, uint32_t person, uint8_t type,
                       uint16_t item, uint8_t keyword)
{
    if (ts >= run->end_sec || b->n >= b->max || b->oom) return;
    if (b->n == b->cap && !ST_GROW(b->recs, b->cap, b->n + 1)) {
        b->oom = true;
        return;
    }
    gen_event_rec *r = &b->recs[b->n++];
    r->ts = ts;
    r->person = person;
    r->session = b->sessions;
    r->type = type;
    r->item = item;
    r->keyword = keyword;
}

static uint16_t draw_item(const gsl_rng *rng, unsigned cat)
{
    /* popularity falls steeply with rank: a cube of a uniform puts half of the picks on the
     * top eighth of the items */
    double u = gsl_rng_uniform(rng);
    unsigned rank = (unsigned)(1000.0 * u * u * u);
    return (uint16_t)(cat * 1000 + ST_MIN(rank, 999u));
}

static uint32_t gap_seconds(const gsl_rng *rng, double mean)
{
    return 3u + (uint32_t)gsl_ran_exponential(rng, mean);
}

static void browse_session(event_buf *b, const gen_run *run, const gsl_rng *rng, uint32_t i)
{
    const gen_person *p = &run->persons[i];
    uint32_t span = p->last_sec > p->acq_sec ? p->last_sec - p->acq_sec : 1;
    uint32_t ts = gen_time_of_day(rng, p->acq_sec + (uint32_t)(gsl_rng_uniform(rng) * span));
    ts = ST_MAX(ts, p->acq_sec);
    unsigned cat = gsl_rng_uniform(rng) < 0.7 ? p->fav_cat : gen_pick(rng, gen_category_weights, GEN_N_CATEGORIES);
    uint32_t who = i | (((p->flags & GEN_P_SECOND_ID) && gsl_rng_uniform(rng) < 0.5) ? GEN_EV_APP_ID : 0);
    if (gsl_rng_uniform(rng) < LOGIN_SHARE) {
        push_event(b, run, ts, who, EV_LOGIN, 0, 0);
        ts += gap_seconds(rng, 20);
    }
    unsigned steps = gsl_ran_geometric(rng, STEP_P);
    steps = ST_MIN(steps, (unsigned)MAX_STEPS); /* not inside ST_MIN: it evaluates twice */
    for (unsigned s = 0; s < steps; s++) {
        unsigned type = gen_pick(rng, step_weights, EV_LOGIN);
        uint8_t keyword = 0;
        if (type == EV_SEARCH) {
            /* a search may lead elsewhere; the views after it follow the new category */
            if (gsl_rng_uniform(rng) < 0.3) cat = gen_pick(rng, gen_category_weights, GEN_N_CATEGORIES);
            keyword = (uint8_t)(cat * GEN_KEYWORDS_PER_CAT + gsl_rng_uniform_int(rng, GEN_KEYWORDS_PER_CAT));
        }
        push_event(b, run, ts, who, (uint8_t)type, draw_item(rng, cat), keyword);
        ts += gap_seconds(rng, 40);
    }
    b->sessions++;
}

/* Events leading to the order at `order_ts`, laid out backwards from it. */
static void purchase_session(event_buf *b, const gen_run *run, const gsl_rng *rng, uint32_t i, uint32_t order_ts)
{
    const gen_person *p = &run->persons[i];
    uint8_t types[3 + MAX_STEPS + 2];
    unsigned n = 0;
    if (gsl_rng_uniform(rng) < PURCHASE_LOGIN) types[n++] = EV_LOGIN;
    if (gsl_rng_uniform(rng) < PURCHASE_SEARCH) types[n++] = EV_SEARCH;
    unsigned views = gsl_ran_geometric(rng, PURCHASE_VIEW_P);
    views = ST_MIN(views, (unsigned)MAX_STEPS);
    for (unsigned v = 0; v < views; v++) types[n++] = EV_VIEW;
    types[n++] = EV_ADD_TO_CART;
    types[n++] = EV_PURCHASE;
    unsigned cat = gsl_rng_uniform(rng) < 0.8 ? p->fav_cat : p->fav_cat2;
    uint32_t who = i | (((p->flags & GEN_P_SECOND_ID) && gsl_rng_uniform(rng) < 0.5) ? GEN_EV_APP_ID : 0);
    int64_t offsets[3 + MAX_STEPS + 2];
    offsets[n - 1] = 0;
    for (unsigned k = n - 1; k > 0; k--) offsets[k - 1] = offsets[k] - gap_seconds(rng, 45);
    uint16_t item = 0;
    for (unsigned k = 0; k < n; k++) {
        uint8_t keyword = 0;
        if (types[k] == EV_SEARCH)
            keyword = (uint8_t)(cat * GEN_KEYWORDS_PER_CAT + gsl_rng_uniform_int(rng, GEN_KEYWORDS_PER_CAT));
        if (types[k] == EV_VIEW || types[k] == EV_SEARCH) item = draw_item(rng, cat);
        int64_t ts = (int64_t)order_ts + offsets[k];
        /* the cart and the purchase are the last item viewed */
        if (ts >= 0) push_event(b, run, (uint32_t)ts, who, types[k], types[k] == EV_LOGIN ? 0 : item, keyword);
    }
    b->sessions++;
}

static strata_status generate(gen_run *run, event_buf *b)
{
    gsl_rng rng;
    if (gen_rng_init(&rng, run->seed, GEN_STREAM_EVENTS) != STRATA_OK) return STRATA_ENOMEM;
    const double target = (double)run->opts->events;
    const double per_browse = LOGIN_SHARE + 1.0 / STEP_P;
    const double per_purchase = PURCHASE_LOGIN + PURCHASE_SEARCH + 1.0 / PURCHASE_VIEW_P + 2.0;
    double purchase_share = 0;
    if (run->n_orders)
        purchase_share = ST_MIN(0.8, 0.3 * target / (per_purchase * (double)run->n_orders));
    double browse_events = ST_MAX(0.0, target - purchase_share * (double)run->n_orders * per_purchase);
    double browse_sessions = browse_events / per_browse;
    double weight_sum = 0;
    for (uint32_t i = 0; i < run->n_persons; i++) {
        const gen_person *p = &run->persons[i];
        if (p->last_sec > p->acq_sec) weight_sum += p->activity * (double)(p->last_sec - p->acq_sec);
    }
    for (uint32_t i = 0; i < run->n_persons && weight_sum > 0; i++) {
        const gen_person *p = &run->persons[i];
        if (p->last_sec <= p->acq_sec) continue;
        double mu = browse_sessions * p->activity * (double)(p->last_sec - p->acq_sec) / weight_sum;
        unsigned k = gsl_ran_poisson(&rng, mu);
        for (unsigned s = 0; s < k; s++) browse_session(b, run, &rng, i);
    }
    for (size_t k = 0; k < run->n_orders && purchase_share > 0; k++) {
        if (k + 16 < run->n_orders) __builtin_prefetch(&run->persons[run->orders[k + 16].person]);
        if (gsl_rng_uniform(&rng) < purchase_share)
            purchase_session(b, run, &rng, run->orders[k].person, run->orders[k].ts);
    }
    gen_rng_clear(&rng);
    return b->oom ? STRATA_ENOMEM : STRATA_OK;
}

static void write_event(gen_run *run, gen_out *o, const gsl_rng *dirt_rng, const gen_event_rec *e)
{
    static const double mix[ST_GEN_DIRT__COUNT] = {40, 20, 20, 0, 0, 20};
    unsigned dirt = ST_GEN_DIRT__COUNT;
    if (run->opts->dirt > 0 && gsl_rng_uniform(dirt_rng) < run->opts->dirt) {
        dirt = gen_pick(dirt_rng, mix, ST_GEN_DIRT__COUNT);
        o->counts->dirt[dirt]++;
    }
    gen_row_begin(o);
    if (dirt != ST_GEN_DIRT_MISSING_USER) {
        if (e->person & GEN_EV_APP_ID) GEN_PUT_LIT(o, "app_");
        else gen_putc(o, 'u');
        gen_put_u64(o, (uint64_t)(e->person & ~GEN_EV_APP_ID) + 1);
    }
    gen_putc(o, ',');
    if (dirt == ST_GEN_DIRT_BAD_DATE) {
        if (gsl_rng_uniform(dirt_rng) < 0.5) {
            GEN_PUT_LIT(o, "yesterday");
        } else {
            size_t at = o->len;
            gen_put_ts(o, e->ts);
            memcpy(o->buf + at + 4, "-02-30", 6);
        }
    } else {
        gen_put_ts(o, e->ts);
    }
    gen_putc(o, ',');
    gen_put_str(o, type_names[e->type]);
    GEN_PUT_LIT(o, ",s");
    gen_put_u64(o, (uint64_t)e->session + 1);
    gen_putc(o, ',');
    if (e->type != EV_LOGIN && e->type != EV_ACTIVITY && e->type != EV_SERVICE && e->type != EV_SEARCH) {
        GEN_PUT_LIT(o, "sku_");
        gen_put_u64(o, 10000u + e->item);
    }
    gen_putc(o, ',');
    bool comma = dirt == ST_GEN_DIRT_QUOTED_COMMA;
    if (e->type == EV_SEARCH) {
        if (comma) gen_putc(o, '"');
        gen_put_str(o, gen_keywords[e->keyword]);
        if (comma) GEN_PUT_LIT(o, ", sale\"");
        comma = false;
    }
    gen_putc(o, ',');
    if (comma) GEN_PUT_LIT(o, "\"home, banner\"");
    else gen_put_str(o, type_pages[e->type]);
    gen_row_end(o, dirt == ST_GEN_DIRT_DUPLICATE);
    if (e->type == EV_PURCHASE) run->report->purchase_events++;
}

strata_status gen_write_events(gen_run *run)
{
    event_buf b = {0};
    uint64_t want = run->opts->events;
    b.max = (size_t)ST_MIN((uint64_t)GEN_MAX_EVENTS, want + want / 2 + 1024);
    b.cap = (size_t)ST_MIN((uint64_t)b.max, want + want / 8 + 1024);
    b.recs = st_malloc(b.cap * sizeof *b.recs);
    strata_status st = b.recs ? generate(run, &b) : STRATA_ENOMEM;
    gen_progress(run, want / 2);
    gen_event_rec *tmp = st == STRATA_OK ? st_malloc(ST_MAX(b.n, (size_t)1) * sizeof *tmp) : NULL;
    if (st == STRATA_OK && !(tmp && gen_sort_events(b.recs, tmp, b.n))) st = STRATA_ENOMEM;
    st_free(tmp);
    if (st != STRATA_OK) {
        st_free(b.recs);
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory for %zu events", b.n);
    }
    /* sessions cut off by the end of the period may have lost every event: count the ones
     * that appear */
    uint8_t *seen = st_calloc((size_t)b.sessions / 8 + 1, 1);
    gen_out out;
    gsl_rng dirt_rng = {0};
    st = seen ? gen_out_open(run, &out, "events.csv", "user_id,event_ts,event_type,session_id,item,keyword,page",
                             &run->report->events_csv)
              : st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    if (st == STRATA_OK && gen_rng_init(&dirt_rng, run->seed, GEN_STREAM_EVENTS_DIRT) != STRATA_OK) {
        gen_out_discard(&out);
        st = st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    }
    if (st != STRATA_OK) {
        st_free(seen);
        st_free(b.recs);
        return st;
    }
    for (size_t k = 0; k < b.n; k++) {
        write_event(run, &out, &dirt_rng, &b.recs[k]);
        uint32_t s = b.recs[k].session;
        if (!(seen[s / 8] & (1u << (s % 8)))) {
            seen[s / 8] |= (uint8_t)(1u << (s % 8));
            run->report->sessions++;
        }
        if ((k & 0xffff) == 0xffff) gen_progress(run, 0x8000);
    }
    st_free(seen);
    st_free(b.recs);
    gen_rng_clear(&dirt_rng);
    return gen_out_close(run, &out);
}
