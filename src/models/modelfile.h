/*
 * modelfile.h — the inside of a churn model, private to src/models: the struct behind the
 * opaque strata_churn_model, its versioned file (modelfile.c, format table there) and the
 * logistic-regression learner (logreg.c). churn.c trains and uses models through this.
 */
#ifndef ST_MODELS_MODELFILE_H
#define ST_MODELS_MODELFILE_H

#include "core/core.h"
#include "models/churn.h"

struct strata_churn_model {
    st_churn_kind kind;
    size_t nfeatures;
    st_churn_feature *features; /* strings in `strings` */
    double *mean, *sd;          /* per feature over the training rows (NaN ignored); sd > 0 */
    double threshold;           /* decision threshold in [0, 1] (F1-best on validation) */
    char *label_column;         /* "" when unknown */
    char *id_column;            /* "" when none */
    /* logistic: p = 1 / (1 + exp(-(intercept + sum coef_j z_j))), z_j = (x_j - mean_j) / sd_j
     * and z_j = 0 for a missing x_j (mean imputation) */
    double intercept;
    double *coef;
    int iterations;
    /* xgboost */
    void *booster;   /* BoosterHandle; NULL for logistic */
    uint32_t rounds; /* boosting rounds kept (best iteration + 1) */
    st_arena strings;
};

/* An empty model with nfeatures features (NaN/zero-filled arrays). Caller frees with
 * strata_churn_model_free(). */
strata_status st_churn_model_alloc(strata_ctx *ctx, st_churn_kind kind, size_t nfeatures,
                                   strata_churn_model **out);
/* Copy the description of feature j (strings into the model's arena). */
strata_status st_churn_model_set_feature(strata_churn_model *model, size_t j,
                                         st_churn_feature_kind kind, const char *column,
                                         const char *level);
/* Copy a string into the model's arena; NULL on ENOMEM. */
char *st_churn_model_strdup(strata_churn_model *model, const char *s);

/* ---- the file ---- */
#define ST_MODEL_MAGIC "STRCHURN"
#define ST_MODEL_VERSION 1u
#define ST_MODEL_HEADER_BYTES 32u
#define ST_MODEL_MAX_BYTES (512u << 20) /* a larger file is refused before it is read */
#define ST_MODEL_MAX_COEF 1e6  /* bounds that keep predictions finite (see modelfile.c) */
#define ST_MODEL_MAX_MEAN 1e38
#define ST_MODEL_MIN_SD 1e-30

/* Serialize into out (an st_buf whose max bounds the size). */
strata_status st_churn_model_to_buffer(strata_ctx *ctx, const strata_churn_model *model,
                                       st_buf *out);

typedef enum st_model_load_flags {
    ST_MODEL_LOAD = 0,
    /* Fuzzing only: skip the checksums so the fuzzer can reach the payload parser, and stop
     * before XGBoost (which must only ever see bytes strata wrote). A tree model comes back
     * without a booster, unusable for prediction. */
    ST_MODEL_PARSE_ONLY = 1
} st_model_load_flags;

/* Parse and validate a model file image. Never reads outside [data, data + len). */
strata_status st_churn_model_from_buffer(strata_ctx *ctx, const void *data, size_t len,
                                         unsigned flags, strata_churn_model **out);

/* ---- logistic regression (logreg.c) ---- */

/* Per-feature mean and population sd over the given rows, NaN ignored. A feature without
 * values gets mean 0; one with sd 0 (constant or absent) gets sd 1, so it standardizes to 0. */
void st_feature_moments(const float *x, size_t cols, const size_t *rows, size_t n, double *mean,
                        double *sd);

typedef struct st_logreg_info {
    int iterations;
    bool converged;
    double objective; /* sum of log losses + l2/2 |coef|^2 at the solution */
} st_logreg_info;

/* Fit an L2-penalised logistic regression on standardized features of the given rows by
 * Newton's method with backtracking (the intercept is not penalised). coef has cols entries.
 * STRATA_EMODEL when the Hessian is not positive definite, STRATA_ENOMEM. */
strata_status st_logreg_fit(strata_ctx *ctx, const float *x, size_t cols, const size_t *rows,
                            size_t n, const uint8_t *label, const double *mean,
                            const double *sd, double l2, unsigned threads, double *coef,
                            double *intercept, st_logreg_info *info);

/* Probabilities of rows x cols with the standardization and coefficients above. */
void st_logreg_predict(const float *x, size_t rows, size_t cols, const double *mean,
                       const double *sd, const double *coef, double intercept, double *prob);

#endif /* ST_MODELS_MODELFILE_H */
