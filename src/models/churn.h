/*
 * churn.h — churn prediction: who will have no valid order in the H days after a cutoff.
 *
 * Place in the data flow: models. The batch job computes one feature row per person from
 * data before the cutoff (and the label from the H days after it, see st_churn_labels) and
 * hands a plain matrix to this module; the module owns the models and nothing else.
 *
 *   matrix (n x d floats, NaN = missing) + 0/1 labels
 *     -> stratified train / validation / test split by seed          st_churn_split_make
 *     -> gradient-boosted trees (XGBoost C API, hist, early stopping on the validation part)
 *        and an L2 logistic regression (logreg.c)                     st_churn_fit
 *     -> every measure of both on the held-out test part (metrics.h), the better model by
 *        AUC (tie: PR-AUC), the F1-best threshold taken on the validation part
 *     -> scoring a matrix, churn_risk low / medium / high by configured thresholds, the
 *        persons most worth saving, top features, the summary.json section
 *     -> a versioned, checksummed model file (modelfile.c)
 *
 * The generic table path (churn_table.c) turns any CSV with a label column into such a
 * matrix: numeric columns as they are, text columns one-hot (blank = missing).
 *
 * The strata_churn_* entry points are public (include/strata.h); the model's inside is
 * private to src/models (modelfile.h).
 */
#ifndef ST_MODELS_CHURN_H
#define ST_MODELS_CHURN_H

#include "strata.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The public entry points (strata_churn_*) are declared in include/strata.h, section
 * "Churn". */

/* =======================================================================================
 * Internal API (st_): the matrix interface the batch job uses.
 * ===================================================================================== */

#define ST_CHURN_MAX_FEATURES 1024 /* columns of a feature matrix, and of a model file */
#define ST_CHURN_MAX_LEVELS 64     /* a text column with more distinct values is left out */
#define ST_CHURN_MAX_NAME 1024     /* bytes of a column name or one-hot level */

/* Where a feature comes from, so that a table can be encoded again when scoring. */
typedef enum st_churn_feature_kind {
    ST_CHURN_NUMERIC = 0, /* the column's number; blank = missing */
    ST_CHURN_ONEHOT = 1   /* 1 when the column equals `level`, else 0; blank = missing */
} st_churn_feature_kind;

typedef struct st_churn_feature {
    st_churn_feature_kind kind;
    char *column; /* source column (owned by the dataset or model) */
    char *level;  /* ONEHOT: the value; NUMERIC: NULL */
    char *name;   /* display name: "tenure", "Contract=Two year" */
} st_churn_feature;

/* A feature matrix with labels. Caller-owned storage: st_churn_data_init/_clear. */
typedef struct st_churn_data {
    size_t rows, cols;
    float *x;                   /* rows x cols, row-major; NaN = missing */
    uint8_t *label;             /* rows, 0/1; NULL when unlabelled */
    st_churn_feature *features; /* cols */
    /* optional per-row extras of the table path */
    char **ids;     /* rows or NULL; strings owned by the dataset */
    double *value;  /* rows or NULL; NaN = missing */
    uint32_t *tier; /* rows or NULL; index into tier_names */
    char **tier_names;
    size_t ntiers;
    void *strings; /* owner of every string above (an arena) */
} st_churn_data;

/* Allocate x (NaN-filled), features and, when labelled, label. STRATA_ELIMIT past
 * ST_CHURN_MAX_FEATURES, STRATA_ENOMEM; the dataset is empty and clearable on failure. */
strata_status st_churn_data_init(st_churn_data *data, size_t rows, size_t cols, bool labelled);
void st_churn_data_clear(st_churn_data *data);
/* Describe feature j (strings are copied). level must be NULL for NUMERIC. */
strata_status st_churn_data_set_feature(st_churn_data *data, size_t j,
                                        st_churn_feature_kind kind, const char *column,
                                        const char *level);
/* Copy a string into the dataset's storage (for ids and tier names). NULL on ENOMEM. */
char *st_churn_data_strdup(st_churn_data *data, const char *s, size_t len);

/* Labels from orders (the SPEC definition): a person is eligible when they had a valid order
 * on a day < cutoff, and churned (label 1) when eligible and without a valid order on any
 * day in [cutoff, cutoff + horizon_days). Orders on or after cutoff + horizon_days are
 * ignored, so later data can never change a label. Rows: person index (< persons), order day
 * and valid flag of each order, in any order. eligible and label have `persons` entries. */
void st_churn_labels(const uint32_t *person, const int32_t *day, const uint8_t *valid,
                     size_t n, size_t persons, int32_t cutoff, int32_t horizon_days,
                     uint8_t *eligible, uint8_t *label);
/* The default cutoff: as_of - horizon, so the label window ends the day before as_of. */
static inline int32_t st_churn_default_cutoff(int32_t as_of_day, int32_t horizon_days)
{
    return as_of_day - horizon_days;
}

/* A stratified split: within each class the rows are shuffled by seed and the first
 * round(test_share x n_class) go to test, the next round(valid_share x n_class) to
 * validation, the rest to train. Each index list is ascending. */
typedef struct st_churn_split {
    size_t *train, *valid, *test;
    size_t n_train, n_valid, n_test;
} st_churn_split;

strata_status st_churn_split_make(const uint8_t *label, size_t n, double test_share,
                                  double valid_share, uint64_t seed, st_churn_split *out);
void st_churn_split_clear(st_churn_split *split);

typedef enum st_churn_kind { ST_CHURN_XGBOOST = 1, ST_CHURN_LOGISTIC = 2 } st_churn_kind;
const char *st_churn_kind_name(st_churn_kind kind); /* "xgboost", "logistic" */

/* Training parameters; st_churn_params_default() gives the documented defaults and the
 * configuration's churn.seed / threads. */
typedef struct st_churn_params {
    int max_depth;       /* trees: 6 */
    double eta;          /* trees: learning rate 0.1 */
    int rounds;          /* trees: at most 200 boosting rounds */
    int early_stop;      /* trees: stop after 20 rounds without a better validation loss */
    double l2;           /* logistic: L2 penalty lambda on standardized weights, 1.0 */
    double test_share;   /* 0.2 */
    double valid_share;  /* share of each class used for early stopping / threshold: 0.16
                            (= 20 % of the remaining 80 %) */
    uint64_t seed;       /* split and trees */
    unsigned threads;    /* XGBoost nthread and logistic workers */
    bool train_xgboost;  /* both true by default; tests may train one */
    bool train_logistic;
} st_churn_params;

void st_churn_params_default(strata_ctx *ctx, st_churn_params *params);

/* One feature's importance: trees by total gain over all splits (gain = mean gain per
 * split); logistic by |coefficient| x sd (= |standardized coefficient|). share = this
 * importance / sum of all. */
typedef struct st_churn_importance {
    size_t feature;
    double importance, gain, share;
} st_churn_importance;

/* Train one learner on split->train (early stopping and threshold on split->valid).
 * Caller frees with strata_churn_model_free(). */
strata_status st_churn_train(strata_ctx *ctx, st_churn_kind kind, const st_churn_data *data,
                             const st_churn_split *split, const st_churn_params *params,
                             strata_churn_model **out);

/* Churn probabilities of rows x cols (cols must equal the model's features), into prob. */
strata_status st_churn_predict(strata_ctx *ctx, const strata_churn_model *model,
                               const float *x, size_t rows, size_t cols, double *prob);

/* Features sorted by importance, descending (ties by index). *out has the model's feature
 * count. Caller frees *out with st_free(). */
strata_status st_churn_importance_list(strata_ctx *ctx, const strata_churn_model *model,
                                       st_churn_importance **out, size_t *n);

/* Accessors. */
st_churn_kind st_churn_model_kind(const strata_churn_model *model);
size_t st_churn_model_features(const strata_churn_model *model);
const st_churn_feature *st_churn_model_feature(const strata_churn_model *model, size_t j);
double st_churn_model_threshold(const strata_churn_model *model);
const char *st_churn_model_label_column(const strata_churn_model *model); /* may be "" */
const char *st_churn_model_id_column(const strata_churn_model *model);    /* may be "" */

/* Risk bands. */
typedef enum st_churn_risk { ST_RISK_LOW = 0, ST_RISK_MEDIUM = 1, ST_RISK_HIGH = 2 } st_churn_risk;
static inline st_churn_risk st_churn_risk_of(double prob, double medium, double high)
{
    return prob >= high ? ST_RISK_HIGH : prob >= medium ? ST_RISK_MEDIUM : ST_RISK_LOW;
}
const char *st_churn_risk_name(st_churn_risk risk); /* "low", "medium", "high" */
/* The configured thresholds churn.medium and churn.high; ECONFIG unless
 * 0 <= medium <= high <= 1. */
strata_status st_churn_risk_thresholds(strata_ctx *ctx, double *medium, double *high);

/* Persons most worth saving: rows with prob >= high, ranked by value descending (NaN value
 * last), then by prob descending, then by row; at most k of them into out_rows. value may be
 * NULL (rank by prob). Returns the count written. */
size_t st_churn_worth_saving(const double *prob, const double *value, size_t n, double high,
                             size_t k, size_t *out_rows);

/* The outcome of st_churn_fit: both models measured on the test split, and the choice. */
typedef struct st_churn_candidate {
    strata_churn_model *model; /* NULL when not trained */
    double auc, pr_auc;        /* on the test split */
    cJSON *report; /* metrics, confusion, calibration, top features, training details */
    double seconds;
} st_churn_candidate;

typedef struct st_churn_fit_result {
    st_churn_candidate xgboost, logistic;
    st_churn_kind chosen;
    st_churn_split split;
    double *test_prob; /* chosen model's probabilities of split.test rows */
} st_churn_fit_result;

/* Split, train both learners, measure them on the test split and choose by AUC (tie: PR-AUC;
 * trees win an exact tie of both). data must be labelled with both classes in every part.
 * Caller clears with st_churn_fit_result_clear(). */
strata_status st_churn_fit(strata_ctx *ctx, const st_churn_data *data,
                           const st_churn_params *params, st_churn_fit_result *out);
void st_churn_fit_result_clear(st_churn_fit_result *result);
/* Take the chosen model out of the result (the result no longer frees it). */
strata_churn_model *st_churn_fit_take_chosen(st_churn_fit_result *result);

/* The summary.json section of a fit: {"rows", "positives", "features", "split", "models":
 * [...], "chosen", "threshold", "risk"}. NULL on ENOMEM. Caller frees with cJSON_Delete(). */
cJSON *st_churn_fit_summary_json(strata_ctx *ctx, const st_churn_data *data,
                                 const st_churn_fit_result *result);

/* One model's measures on labelled rows as a JSON object (auc, pr_auc, log_loss, brier,
 * threshold, confusion, calibration) — the block used in train and eval summaries. */
strata_status st_churn_metrics_json(const double *prob, const uint8_t *label, size_t n,
                                    double threshold, cJSON **out);

/* The risk distribution of probabilities as {"medium_threshold", "high_threshold",
 * "counts": {"low", "medium", "high"}, "shares": {...}} and, when tier is given,
 * "by_tier": [{"tier", "n", "low", "medium", "high"}] with tier[i] < ntiers naming
 * tier_names[tier[i]]. NULL on ENOMEM. Caller frees with cJSON_Delete(). */
cJSON *st_churn_risk_json(const double *prob, size_t n, double medium, double high,
                          const uint32_t *tier, char *const *tier_names, size_t ntiers);

/* The table path's encoder (churn_table.c): read opts->table into *out. With model NULL the
 * columns are typed and encoded for training (numeric as is, text one-hot in byte order,
 * columns left out are appended to `skipped` as {"column", "reason"} when it is not NULL);
 * with a model, its feature list is the encoding. Labels are read when opts->label_column is
 * set, ids, values and tiers when their columns are. The dataset is empty on failure.
 * Errors name the file and line. Caller clears with st_churn_data_clear(). */
strata_status st_churn_table_load(strata_ctx *ctx, const strata_churn_table_opts *opts,
                                  const strata_churn_model *model, st_churn_data *out,
                                  cJSON *skipped);

#endif /* ST_MODELS_CHURN_H */
