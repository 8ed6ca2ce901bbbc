/*
 * partial.h — the per-person partial aggregate: everything the profile needs from one
 * person's rows, in a form where two partials of the same person combine into the partial
 * of the union of their rows (st_partial_merge). That one property lets the same code serve
 * the batch job (build from rows, finalize), live updates in the server (merge a new row's
 * partial into the stored one) and a run split across machines (merge the partials each
 * machine built for the person).
 *
 * A partial keeps orders (not rows) because validity is a property of an order's net sum;
 * per-category and per-brand net spend; and per-day event counts. All lists are sorted by
 * their key, so merge is a linear merge and the result does not depend on merge order.
 * Nothing in a partial depends on the as-of date: st_partial_finalize applies it.
 */
#ifndef ST_PARTIAL_H
#define ST_PARTIAL_H

#include "ingest/ingest.h"

#define ST_ORDER_HAS_RETURN 8u /* an order with a negative row (partial return) */

typedef struct st_order_part {
    uint64_t order;    /* order id hash */
    int32_t first_day; /* day of its earliest row */
    int32_t last_day;  /* day of its latest row */
    int64_t net;       /* micros, all rows summed */
    uint32_t rows;
    uint8_t flags;     /* ST_ORDER_* and ST_ORDER_HAS_RETURN, or-ed over rows */
} st_order_part;

typedef struct st_spend_part {
    uint16_t id; /* category or brand dictionary id (never ST_DICT_NONE) */
    int64_t net; /* micros */
} st_spend_part;

#define ST_COUNTED_EVENTS 7 /* view, search, add_to_cart, favorite, like, comment, share */

typedef struct st_day_part {
    int32_t day;
    uint32_t events;                    /* all events that day */
    uint32_t counts[ST_COUNTED_EVENTS]; /* per counted type */
} st_day_part;

/* Caller-owned storage: st_partial_init / st_partial_clear; st_partial_reset empties it and
 * keeps the arrays for reuse (no allocation per person in the batch job). */
typedef struct st_partial {
    st_order_part *orders;
    size_t norders, cap_orders;
    st_spend_part *categories, *brands;
    size_t ncategories, cap_categories, nbrands, cap_brands;
    st_day_part *days;
    size_t ndays, cap_days;
    int64_t *spend_scratch; /* st_partial_build's dense sums by category and brand id */
} st_partial;

void st_partial_init(st_partial *p);
void st_partial_clear(st_partial *p);
void st_partial_reset(st_partial *p);

/* Build the partial of one person from its rows: order rows o_begin .. o_end in order id
 * order (as st_clean_orders groups them) and event rows e_begin .. e_end in time order. Rows
 * dated on or after before_day are left out (STRATA_DAY_NONE = none), which is how churn
 * features see only data before the cutoff. */
strata_status st_partial_build(st_partial *p, const st_order_rows *o, size_t o_begin,
                               size_t o_end, const st_event_rows *e, size_t e_begin,
                               size_t e_end, int32_t before_day);

/* out = a ∪ b. out must not alias a or b. */
strata_status st_partial_merge(st_partial *out, const st_partial *a, const st_partial *b);

/* Whether two partials hold exactly the same aggregate (tests, replication checks). */
bool st_partial_equal(const st_partial *a, const st_partial *b);

#endif
