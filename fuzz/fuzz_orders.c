/*
 * fuzz_orders.c — libFuzzer target for the orders path past the CSV grammar: header mapping,
 * person ids, timestamps, amounts and flags on two workers (with the batched person-id
 * lookups), the key merge, identity, cleaning (sort by person, duplicates, as-of, outlier
 * percentile) and the profiles.
 *
 * The first byte picks the outlier policy and the percentile; the rest is the orders file.
 * Besides no crash, leak or undefined behaviour, the accounting must hold: every row read is
 * loaded or rejected with a reason, every reject is written out, and cleaning only moves rows
 * into the duplicate, after-as-of and outlier counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "identity/identity.h"
#include "ingest/clean.h"
#include "ingest/ingest.h"
#include "profile/profile.h"

static uint64_t count_kind(const st_quality *q, st_reason_kind kind)
{
    uint64_t n = 0;
    for (int r = 0; r < ST_REASON__COUNT; r++)
        if (st_reason_kind_of((st_reason)r) == kind) n += q->reasons[r];
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const policies[] = {"keep", "cap", "reject"};
    static const char *const pcts[] = {"99.9", "50", "100", "0.5"};
    strata_ctx *ctx;
    if (strata_ctx_create(&ctx) != STRATA_OK) return 0;
    strata_set_threads(ctx, 2);
    strata_config_set(ctx, "clean.outliers", policies[data[0] % 3]);
    strata_config_set(ctx, "clean.outlier_percentile", pcts[(data[0] / 3) % 4]);
    st_dataset ds;
    st_dataset_init(&ds);
    strata_status st =
        st_dataset_load_buffer(ctx, &ds, ST_IN_ORDERS, "f.csv", (const char *)data + 1, size - 1);
    if (st == STRATA_OK) {
        const st_quality *q = &ds.quality[ST_IN_ORDERS];
        uint64_t rejected = count_kind(q, ST_KIND_REJECT);
        if (q->rows_read != q->rows_loaded + rejected) abort();
        if (ds.nrejects != rejected || ds.orders.n != q->rows_loaded) abort();
        st_identity id;
        st_identity_init(&id);
        if (st_identity_resolve(&ds, 0, &id) == STRATA_OK) {
            st_identity_apply(&id, &ds, 2);
            int32_t as_of = STRATA_DAY_NONE;
            st_grouping g;
            st_outlier_report rep;
            size_t before = ds.orders.n;
            if (st_clean_orders(ctx, &ds, id.npersons, &as_of, &g, &rep) == STRATA_OK) {
                uint64_t removed = q->reasons[ST_REASON_DUPLICATE] +
                                   q->reasons[ST_REASON_AFTER_AS_OF] +
                                   q->reasons[ST_REASON_AMOUNT_OUTLIER];
                if (before != ds.orders.n + removed) abort();
                for (size_t i = 1; i < ds.orders.n; i++)
                    if (ds.orders.rows[i].key < ds.orders.rows[i - 1].key) abort();
                /* the grouping: each person's rows, and only those, between its offsets */
                if (g.n != ds.orders.n || g.offsets[id.npersons] != ds.orders.n) abort();
                for (size_t p = 0; p < id.npersons; p++)
                    for (size_t i = g.offsets[p]; i < g.offsets[p + 1]; i++)
                        if (ds.orders.rows[i].key != p) abort();
                st_profiles ps;
                st_profiles_init(&ps);
                st_grouping none = {0};
                st_profiles_build(&ps, &ds, id.npersons, &g, &none, NULL, as_of, STRATA_DAY_NONE,
                                  2);
                st_profiles_clear(&ps);
                st_grouping_clear(&g);
            }
        }
        st_identity_clear(&id);
    }
    st_tz_free(ds.tz);
    st_dataset_clear(&ds);
    strata_ctx_free(ctx);
    return 0;
}
