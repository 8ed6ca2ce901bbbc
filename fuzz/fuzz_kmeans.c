/*
 * fuzz_kmeans.c — libFuzzer target for the k-means model file loader (src/models/kmeans.c):
 * bounded, validated JSON. A model that loads must assign points — finite, NaN and huge
 * ones — to one of its clusters with a finite distance, and describe itself in the summary.
 * Seeds: fuzz/corpus/kmeans/ (files written by `strata cluster --model`, and cut or edited
 * copies).
 */
#include "core/core.h"
#include "models/kmeans.h"

#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static strata_ctx *ctx;
    if (!ctx) {
        if (strata_ctx_create(&ctx) != STRATA_OK) return 0;
        strata_set_threads(ctx, 1);
    }
    st_kmeans *m = NULL;
    if (st_kmeans_load_buffer(ctx, "fuzz.json", (const char *)data, size, &m) != STRATA_OK) {
        if (m) abort(); /* a failed load hands back nothing */
        return 0;
    }
    if (m->k < 1 || m->k > ST_KMEANS_MAX_K || m->d < 1 || m->d > ST_KMEANS_MAX_D) abort();
    enum { N = 3 };
    double rows[N * ST_KMEANS_MAX_D], dist2[N];
    uint32_t labels[N];
    for (int j = 0; j < m->d; j++) {
        rows[j] = 0;
        rows[m->d + j] = 1e300 * (j % 2 ? -1 : 1);
        rows[2 * m->d + j] = (double)j * 12.5;
    }
    if (st_kmeans_assign(ctx, m, rows, N, labels, dist2) == STRATA_OK)
        for (int i = 0; i < N; i++)
            if (labels[i] >= (uint32_t)m->k || isnan(dist2[i])) abort();
    cJSON *j = st_kmeans_summary_json(m);
    cJSON_Delete(j);
    st_kmeans_free(m);
    return 0;
}
