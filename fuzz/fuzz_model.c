/*
 * fuzz_model.c — libFuzzer target for the churn model file parser (src/models/modelfile.c).
 *
 * Every input goes through the loader twice: as a real load (checksums on; only inputs that
 * carry valid CRC-32s reach XGBoost, and those are the seed files strata wrote), and in
 * parse-only mode (checksums off, XGBoost never called), so the fuzzer can reach every
 * payload field check without forging checksums. A model that loads must predict finite
 * probabilities; a logistic model that parses must survive a save/load round trip with the
 * same predictions. Seeds: fuzz/corpus/model/ (a logistic and a tree model from
 * `strata churn train`).
 */
#include "core/core.h"
#include "models/modelfile.h"

#include <math.h>
#include <stdlib.h>

static void predict_check(strata_ctx *ctx, const strata_churn_model *m)
{
    size_t d = st_churn_model_features(m);
    float *x = st_malloc(2 * d * sizeof *x);
    double prob[2];
    if (!x) return;
    for (size_t j = 0; j < d; j++) {
        x[j] = NAN;
        x[d + j] = (float)j;
    }
    if (st_churn_predict(ctx, m, x, 2, d, prob) == STRATA_OK)
        for (int i = 0; i < 2; i++)
            if (!(prob[i] >= 0.0 && prob[i] <= 1.0)) abort();
    st_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static strata_ctx *ctx;
    if (!ctx) {
        if (strata_ctx_create(&ctx) != STRATA_OK) return 0;
        strata_set_threads(ctx, 1);
    }
    strata_churn_model *m = NULL;
    if (st_churn_model_from_buffer(ctx, data, size, ST_MODEL_LOAD, &m) == STRATA_OK) {
        predict_check(ctx, m);
        strata_churn_model_free(m);
    }
    m = NULL;
    if (st_churn_model_from_buffer(ctx, data, size, ST_MODEL_PARSE_ONLY, &m) != STRATA_OK)
        return 0;
    if (st_churn_model_kind(m) == ST_CHURN_LOGISTIC) {
        predict_check(ctx, m);
        st_buf b;
        st_buf_init(&b, ST_MODEL_MAX_BYTES);
        strata_churn_model *back = NULL;
        if (st_churn_model_to_buffer(ctx, m, &b) != STRATA_OK ||
            st_churn_model_from_buffer(ctx, b.data, b.len, ST_MODEL_LOAD, &back) != STRATA_OK)
            abort(); /* what we write, we must read */
        st_buf_clear(&b);
        strata_churn_model_free(back);
    }
    strata_churn_model_free(m);
    return 0;
}
