/*
 * churn.c — the churn model layer over a plain feature matrix (see churn.h): labels from
 * orders, the stratified split, training of gradient-boosted trees through XGBoost's C API
 * and of the logistic baseline (logreg.c), prediction, feature importance, the choice of the
 * better model, risk bands, the persons most worth saving and the summary.json section.
 *
 * Owns the feature matrices it is handed only for the duration of a call; models are owned
 * by their caller (strata_churn_model_free). XGBoost is used through its handles only in
 * this file and modelfile.c; its messages are silenced (verbosity 0) because library code
 * never prints, and its errors are turned into STRATA_EMODEL with XGBoost's own text.
 */
#include "models/churn.h"

#include "core/config.h"
#include "models/metrics.h"
#include "models/modelfile.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <xgboost/c_api.h>

#define TOP_FEATURES 15
#define PREDICT_CHUNK_ROWS (1u << 18) /* bounds XGBoost's copy of the matrix when scoring */
/* XGBoost's OpenMP workers meet at a barrier for every tree level; on small data each region
 * is microseconds of work, and when the cores are busy a descheduled worker makes the others
 * spin for a whole time slice (a Telco fit took 0.2 s on one thread and up to 4 s on two).
 * So XGBoost gets one thread per this many rows, at most the context's threads. */
#define ROWS_PER_XGB_THREAD 50000u

static unsigned xgb_threads(unsigned threads, size_t rows)
{
    size_t useful = 1 + rows / ROWS_PER_XGB_THREAD;
    if (threads == 0) threads = 1;
    return useful < threads ? (unsigned)useful : threads;
}

/* ---------------------------------------------------------------------------------------
 * the dataset
 * ------------------------------------------------------------------------------------- */

strata_status st_churn_data_init(st_churn_data *d, size_t rows, size_t cols, bool labelled)
{
    memset(d, 0, sizeof *d);
    if (cols == 0 || cols > ST_CHURN_MAX_FEATURES) return STRATA_ELIMIT;
    if (rows > SIZE_MAX / sizeof(float) / cols) return STRATA_ENOMEM;
    st_arena *arena = st_malloc(sizeof *arena);
    if (!arena) return STRATA_ENOMEM;
    st_arena_init(arena, 65536);
    d->strings = arena;
    d->x = st_malloc(rows * cols * sizeof *d->x + 1);
    d->features = st_calloc(cols, sizeof *d->features);
    d->label = labelled ? st_calloc(rows ? rows : 1, 1) : NULL;
    if (!d->x || !d->features || (labelled && !d->label)) {
        st_churn_data_clear(d);
        return STRATA_ENOMEM;
    }
    for (size_t i = 0; i < rows * cols; i++) d->x[i] = NAN;
    d->rows = rows;
    d->cols = cols;
    return STRATA_OK;
}

void st_churn_data_clear(st_churn_data *d)
{
    if (d->strings) {
        st_arena_clear(d->strings);
        st_free(d->strings);
    }
    st_free(d->x);
    st_free(d->label);
    st_free(d->features);
    st_free(d->ids);
    st_free(d->value);
    st_free(d->tier);
    st_free(d->tier_names);
    memset(d, 0, sizeof *d);
}

char *st_churn_data_strdup(st_churn_data *d, const char *s, size_t len)
{
    return st_arena_strndup(d->strings, s, len);
}

strata_status st_churn_data_set_feature(st_churn_data *d, size_t j, st_churn_feature_kind kind,
                                        const char *column, const char *level)
{
    if (j >= d->cols || !column || (kind == ST_CHURN_ONEHOT) != (level != NULL))
        return STRATA_EINVAL;
    st_churn_feature *f = &d->features[j];
    size_t cl = strlen(column);
    f->kind = kind;
    f->column = st_churn_data_strdup(d, column, cl);
    if (kind == ST_CHURN_ONEHOT) {
        size_t ll = strlen(level);
        f->level = st_churn_data_strdup(d, level, ll);
        f->name = st_arena_alloc(d->strings, cl + ll + 2, 1);
        if (f->name) {
            memcpy(f->name, column, cl);
            f->name[cl] = '=';
            memcpy(f->name + cl + 1, level, ll + 1);
        }
    } else {
        f->level = NULL;
        f->name = f->column;
    }
    return f->column && f->name && (kind != ST_CHURN_ONEHOT || f->level) ? STRATA_OK
                                                                          : STRATA_ENOMEM;
}

/* ---------------------------------------------------------------------------------------
 * labels and split
 * ------------------------------------------------------------------------------------- */

void st_churn_labels(const uint32_t *person, const int32_t *day, const uint8_t *valid,
                     size_t n, size_t persons, int32_t cutoff, int32_t horizon_days,
                     uint8_t *eligible, uint8_t *label)
{
    memset(eligible, 0, persons);
    memset(label, 0, persons);
    /* label holds "bought in the window" until the end, then flips to "churned" */
    int64_t window_end = (int64_t)cutoff + horizon_days;
    for (size_t i = 0; i < n; i++) {
        if (!valid[i] || person[i] >= persons) continue;
        if (day[i] < cutoff) eligible[person[i]] = 1;
        else if ((int64_t)day[i] < window_end) label[person[i]] = 1;
    }
    for (size_t p = 0; p < persons; p++) label[p] = eligible[p] && !label[p];
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void st_churn_split_clear(st_churn_split *s)
{
    st_free(s->train);
    st_free(s->valid);
    st_free(s->test);
    memset(s, 0, sizeof *s);
}

strata_status st_churn_split_make(const uint8_t *label, size_t n, double test_share,
                                  double valid_share, uint64_t seed, st_churn_split *out)
{
    memset(out, 0, sizeof *out);
    if (!(test_share >= 0 && valid_share >= 0 && test_share + valid_share < 1.0))
        return STRATA_EINVAL;
    uint8_t *part = st_malloc(n ? n : 1); /* 0 train, 1 valid, 2 test */
    size_t *idx = st_malloc((n ? n : 1) * sizeof *idx);
    if (!part || !idx) {
        st_free(part);
        st_free(idx);
        return STRATA_ENOMEM;
    }
    memset(part, 0, n);
    for (int cls = 0; cls <= 1; cls++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((label[i] != 0) == cls) idx[m++] = i;
        /* Fisher-Yates with a per-class stream, so adding rows of one class does not move
         * the other class's split */
        uint64_t state = seed ^ (cls ? 0x6a09e667f3bcc909ULL : 0x3c6ef372fe94f82bULL);
        for (size_t i = m; i > 1; i--) {
            size_t j = (size_t)(splitmix64(&state) % i);
            size_t t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        size_t n_test = (size_t)llround(test_share * (double)m);
        size_t n_valid = (size_t)llround(valid_share * (double)m);
        if (n_test > m) n_test = m;
        if (n_valid > m - n_test) n_valid = m - n_test;
        for (size_t k = 0; k < n_test; k++) part[idx[k]] = 2;
        for (size_t k = n_test; k < n_test + n_valid; k++) part[idx[k]] = 1;
    }
    st_free(idx);
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) counts[part[i]]++;
    out->train = st_malloc((counts[0] ? counts[0] : 1) * sizeof(size_t));
    out->valid = st_malloc((counts[1] ? counts[1] : 1) * sizeof(size_t));
    out->test = st_malloc((counts[2] ? counts[2] : 1) * sizeof(size_t));
    if (!out->train || !out->valid || !out->test) {
        st_free(part);
        st_churn_split_clear(out);
        return STRATA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (part[i] == 0) out->train[out->n_train++] = i;
        else if (part[i] == 1) out->valid[out->n_valid++] = i;
        else out->test[out->n_test++] = i;
    }
    st_free(part);
    return STRATA_OK;
}

/* ---------------------------------------------------------------------------------------
 * parameters, small helpers
 * ------------------------------------------------------------------------------------- */

void st_churn_params_default(strata_ctx *ctx, st_churn_params *p)
{
    memset(p, 0, sizeof *p);
    p->max_depth = 6;
    p->eta = 0.1;
    p->rounds = 200;
    p->early_stop = 20;
    p->l2 = 1.0;
    p->test_share = 0.2;
    p->valid_share = 0.16;
    p->seed = ctx && ctx->config ? (uint64_t)st_cfg_int(ctx->config, ST_CFG_CHURN_SEED) : 42;
    p->threads = st_threads(ctx);
    p->train_xgboost = p->train_logistic = true;
}

const char *st_churn_kind_name(st_churn_kind kind)
{
    return kind == ST_CHURN_XGBOOST ? "xgboost" : kind == ST_CHURN_LOGISTIC ? "logistic" : "?";
}

const char *st_churn_risk_name(st_churn_risk risk)
{
    static const char *const names[] = {"low", "medium", "high"};
    return (unsigned)risk < 3 ? names[risk] : "?";
}

strata_status st_churn_risk_thresholds(strata_ctx *ctx, double *medium, double *high)
{
    *medium = st_cfg_num(ctx->config, ST_CFG_CHURN_MEDIUM);
    *high = st_cfg_num(ctx->config, ST_CFG_CHURN_HIGH);
    if (!(*medium >= 0 && *medium <= *high && *high <= 1))
        return st_error(ctx, STRATA_ECONFIG,
                        "churn.medium (%g) and churn.high (%g) must satisfy 0 <= medium <= "
                        "high <= 1",
                        *medium, *high);
    return STRATA_OK;
}

st_churn_kind st_churn_model_kind(const strata_churn_model *m) { return m->kind; }
size_t st_churn_model_features(const strata_churn_model *m) { return m->nfeatures; }
const st_churn_feature *st_churn_model_feature(const strata_churn_model *m, size_t j)
{
    return j < m->nfeatures ? &m->features[j] : NULL;
}
double st_churn_model_threshold(const strata_churn_model *m) { return m->threshold; }
const char *st_churn_model_label_column(const strata_churn_model *m) { return m->label_column; }
const char *st_churn_model_id_column(const strata_churn_model *m) { return m->id_column; }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static strata_status xgb_fail(strata_ctx *ctx, const char *what)
{
    return st_error(ctx, STRATA_EMODEL, "XGBoost %s: %s", what, XGBGetLastError());
}

/* Copy the given rows into one contiguous block (XGBoost and the predictor want that). */
static float *gather_rows(const st_churn_data *d, const size_t *rows, size_t n)
{
    float *x = st_malloc((n ? n : 1) * d->cols * sizeof *x);
    if (!x) return NULL;
    for (size_t r = 0; r < n; r++)
        memcpy(x + r * d->cols, d->x + rows[r] * d->cols, d->cols * sizeof *x);
    return x;
}

static strata_status make_dmatrix(strata_ctx *ctx, const st_churn_data *d, const size_t *rows,
                                  size_t n, unsigned threads, DMatrixHandle *out)
{
    *out = NULL;
    float *x = gather_rows(d, rows, n);
    float *y = st_malloc((n ? n : 1) * sizeof *y);
    if (!x || !y) {
        st_free(x);
        st_free(y);
        return st_error(ctx, STRATA_ENOMEM, "churn: out of memory for the training matrix");
    }
    for (size_t r = 0; r < n; r++) y[r] = d->label[rows[r]];
    strata_status st = STRATA_OK;
    if (XGDMatrixCreateFromMat_omp(x, (bst_ulong)n, (bst_ulong)d->cols, NAN, out,
                                   (int)threads) != 0)
        st = xgb_fail(ctx, "cannot build a matrix");
    else if (XGDMatrixSetFloatInfo(*out, "label", y, (bst_ulong)n) != 0)
        st = xgb_fail(ctx, "cannot set labels");
    st_free(x);
    st_free(y);
    if (st != STRATA_OK && *out) {
        XGDMatrixFree(*out);
        *out = NULL;
    }
    return st;
}

static strata_status set_params(strata_ctx *ctx, BoosterHandle b, const st_churn_params *p,
                                unsigned nthread)
{
    char depth[32], eta[32], seed[32], threads[32];
    snprintf(depth, sizeof depth, "%d", p->max_depth);
    snprintf(eta, sizeof eta, "%.17g", p->eta);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(p->seed & 0x7fffffff));
    snprintf(threads, sizeof threads, "%u", nthread);
    const char *kv[][2] = {
        {"verbosity", "0"},       {"objective", "binary:logistic"}, {"tree_method", "hist"},
        {"max_depth", depth},     {"eta", eta},                     {"seed", seed},
        {"nthread", threads},     {"eval_metric", "logloss"},
    };
    for (size_t i = 0; i < ST_ARRAY_LEN(kv); i++)
        if (XGBoosterSetParam(b, kv[i][0], kv[i][1]) != 0) return xgb_fail(ctx, "parameter");
    return STRATA_OK;
}

/* "[12]\tvalid-logloss:0.4213" -> 0.4213 */
static bool parse_eval(const char *text, double *out)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (!colon) return false;
    return st_sv_to_double(st_sv_trim(st_sv_cstr(colon + 1)), out);
}

/* ---------------------------------------------------------------------------------------
 * training
 * ------------------------------------------------------------------------------------- */

static strata_status train_xgboost(strata_ctx *ctx, const st_churn_data *d,
                                   const st_churn_split *s, const st_churn_params *p,
                                   strata_churn_model *m)
{
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    BoosterHandle b = NULL;
    unsigned nthread = xgb_threads(p->threads, s->n_train);
    strata_status st = make_dmatrix(ctx, d, s->train, s->n_train, nthread, &dtrain);
    if (st == STRATA_OK && s->n_valid > 0)
        st = make_dmatrix(ctx, d, s->valid, s->n_valid, nthread, &dvalid);
    if (st == STRATA_OK) {
        DMatrixHandle cache[2] = {dtrain, dvalid};
        if (XGBoosterCreate(cache, dvalid ? 2 : 1, &b) != 0) st = xgb_fail(ctx, "create");
    }
    if (st == STRATA_OK) st = set_params(ctx, b, p, xgb_threads(p->threads, s->n_train));
    int best = -1;
    double best_loss = INFINITY;
    for (int it = 0; st == STRATA_OK && it < p->rounds; it++) {
        if (XGBoosterUpdateOneIter(b, it, dtrain) != 0) {
            st = xgb_fail(ctx, "training round");
            break;
        }
        st_progress(ctx, "churn: boosting", (uint64_t)it + 1, (uint64_t)p->rounds);
        if (!dvalid) {
            best = it;
            continue;
        }
        const char *names[1] = {"valid"};
        const char *res = NULL;
        double loss;
        if (XGBoosterEvalOneIter(b, it, &dvalid, names, 1, &res) != 0 || !parse_eval(res, &loss)) {
            st = xgb_fail(ctx, "evaluation");
            break;
        }
        /* strictly better only, as XGBoost's own early stopping: ties keep the earlier */
        if (loss < best_loss) {
            best_loss = loss;
            best = it;
        } else if (it - best >= p->early_stop) {
            break;
        }
    }
    if (st == STRATA_OK && best < 0) st = st_error(ctx, STRATA_EMODEL, "XGBoost: no round");
    if (st == STRATA_OK) /* early stopping ends short of the total: close the progress line */
        st_progress(ctx, "churn: boosting", (uint64_t)p->rounds, (uint64_t)p->rounds);
    if (st == STRATA_OK) {
        BoosterHandle sliced = NULL;
        int rounds = 0;
        /* keep only the rounds up to the best one, so the saved model is what was measured */
        if (XGBoosterSlice(b, 0, best + 1, 1, &sliced) != 0) st = xgb_fail(ctx, "slice");
        else if (XGBoosterBoostedRounds(sliced, &rounds) != 0) {
            XGBoosterFree(sliced);
            st = xgb_fail(ctx, "rounds");
        } else {
            m->booster = sliced;
            m->rounds = (uint32_t)rounds;
        }
    }
    if (b) XGBoosterFree(b);
    if (dtrain) XGDMatrixFree(dtrain);
    if (dvalid) XGDMatrixFree(dvalid);
    return st;
}

strata_status st_churn_predict(strata_ctx *ctx, const strata_churn_model *m, const float *x,
                               size_t rows, size_t cols, double *prob)
{
    if (cols != m->nfeatures)
        return st_error(ctx, STRATA_EINVAL, "churn: matrix has %zu features, the model %zu",
                        cols, m->nfeatures);
    if (m->kind == ST_CHURN_LOGISTIC) {
        st_logreg_predict(x, rows, cols, m->mean, m->sd, m->coef, m->intercept, prob);
        return STRATA_OK;
    }
    if (!m->booster) return st_error(ctx, STRATA_EMODEL, "churn: tree model without booster");
    char threads[32];
    unsigned nthread = xgb_threads(st_threads(ctx), rows);
    snprintf(threads, sizeof threads, "%u", nthread);
    if (XGBoosterSetParam(m->booster, "nthread", threads) != 0)
        return xgb_fail(ctx, "parameter");
    for (size_t start = 0; start < rows; start += PREDICT_CHUNK_ROWS) {
        size_t n = ST_MIN(rows - start, (size_t)PREDICT_CHUNK_ROWS);
        DMatrixHandle dm = NULL;
        bst_ulong len = 0;
        const float *out = NULL;
        if (XGDMatrixCreateFromMat_omp(x + start * cols, (bst_ulong)n, (bst_ulong)cols, NAN,
                                       &dm, (int)nthread) != 0)
            return xgb_fail(ctx, "cannot build a matrix");
        int rc = XGBoosterPredict(m->booster, dm, 0, 0, 0, &len, &out);
        if (rc == 0 && len == n)
            for (size_t r = 0; r < n; r++) prob[start + r] = out[r];
        XGDMatrixFree(dm);
        if (rc != 0) return xgb_fail(ctx, "predict");
        if (len != n) return st_error(ctx, STRATA_EMODEL, "XGBoost predicted %llu of %zu rows",
                                      (unsigned long long)len, n);
        st_progress(ctx, "churn: scoring", start + n, rows);
    }
    return STRATA_OK;
}

/* Predict the given rows of the dataset. */
static strata_status predict_rows(strata_ctx *ctx, const strata_churn_model *m,
                                  const st_churn_data *d, const size_t *rows, size_t n,
                                  double *prob)
{
    float *x = gather_rows(d, rows, n);
    if (!x) return st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
    strata_status st = st_churn_predict(ctx, m, x, n, d->cols, prob);
    st_free(x);
    return st;
}

strata_status st_churn_train(strata_ctx *ctx, st_churn_kind kind, const st_churn_data *d,
                             const st_churn_split *s, const st_churn_params *p,
                             strata_churn_model **out)
{
    *out = NULL;
    if (!d->label || s->n_train == 0)
        return st_error(ctx, STRATA_EDATA, "churn: no labelled training rows");
    strata_churn_model *m;
    strata_status st = st_churn_model_alloc(ctx, kind, d->cols, &m);
    if (st != STRATA_OK) return st;
    for (size_t j = 0; st == STRATA_OK && j < d->cols; j++) {
        const st_churn_feature *f = &d->features[j];
        st = st_churn_model_set_feature(m, j, f->kind, f->column ? f->column : "?", f->level);
    }
    if (st != STRATA_OK) {
        strata_churn_model_free(m);
        return st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
    }
    st_feature_moments(d->x, d->cols, s->train, s->n_train, m->mean, m->sd);
    m->threshold = 0.5;
    if (kind == ST_CHURN_XGBOOST) {
        st = train_xgboost(ctx, d, s, p, m);
    } else {
        st_logreg_info info;
        st = st_logreg_fit(ctx, d->x, d->cols, s->train, s->n_train, d->label, m->mean, m->sd,
                           p->l2, p->threads, m->coef, &m->intercept, &info);
        m->iterations = info.iterations;
    }
    /* the decision threshold: best F1 on the validation rows, which training did not fit */
    if (st == STRATA_OK && s->n_valid > 0) {
        double *prob = st_malloc(s->n_valid * sizeof *prob);
        uint8_t *y = st_malloc(s->n_valid);
        if (!prob || !y) st = st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
        else st = predict_rows(ctx, m, d, s->valid, s->n_valid, prob);
        if (st == STRATA_OK) {
            for (size_t r = 0; r < s->n_valid; r++) y[r] = d->label[s->valid[r]];
            double t;
            if (st_metric_best_f1_threshold(prob, y, s->n_valid, &t) == STRATA_OK)
                m->threshold = t;
        }
        st_free(prob);
        st_free(y);
    }
    if (st != STRATA_OK) {
        strata_churn_model_free(m);
        return st;
    }
    *out = m;
    return STRATA_OK;
}

/* ---------------------------------------------------------------------------------------
 * importance
 * ------------------------------------------------------------------------------------- */

static int importance_cmp(const void *a, const void *b)
{
    const st_churn_importance *x = a, *y = b;
    if (x->importance != y->importance) return x->importance > y->importance ? -1 : 1;
    return (x->feature > y->feature) - (x->feature < y->feature);
}

/* XGBoost names features f0, f1, ... when none were set. */
static bool xgb_feature_index(const char *name, size_t d, size_t *out)
{
    int64_t v;
    if (!name || name[0] != 'f' || !st_sv_to_i64(st_sv_cstr(name + 1), &v)) return false;
    if (v < 0 || (uint64_t)v >= d) return false;
    *out = (size_t)v;
    return true;
}

static strata_status xgb_scores(strata_ctx *ctx, const strata_churn_model *m, const char *type,
                                st_churn_importance *imp, bool into_gain)
{
    char config[64];
    snprintf(config, sizeof config, "{\"importance_type\":\"%s\"}", type);
    bst_ulong nf = 0, dim = 0;
    const char **names = NULL;
    const bst_ulong *shape = NULL;
    const float *scores = NULL;
    if (XGBoosterFeatureScore(m->booster, config, &nf, &names, &dim, &shape, &scores) != 0)
        return xgb_fail(ctx, "feature importance");
    for (bst_ulong i = 0; i < nf; i++) {
        size_t j;
        if (!xgb_feature_index(names[i], m->nfeatures, &j)) continue;
        if (into_gain) imp[j].gain = scores[i];
        else imp[j].importance = scores[i];
    }
    return STRATA_OK;
}

strata_status st_churn_importance_list(strata_ctx *ctx, const strata_churn_model *m,
                                       st_churn_importance **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    st_churn_importance *imp = st_calloc(m->nfeatures, sizeof *imp);
    if (!imp) return st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
    for (size_t j = 0; j < m->nfeatures; j++) imp[j].feature = j;
    strata_status st = STRATA_OK;
    if (m->kind == ST_CHURN_LOGISTIC) {
        /* coefficients are per standard deviation already: |beta_raw| x sd = |beta_std| */
        for (size_t j = 0; j < m->nfeatures; j++) imp[j].importance = fabs(m->coef[j]);
    } else if (m->booster) {
        st = xgb_scores(ctx, m, "total_gain", imp, false);
        if (st == STRATA_OK) st = xgb_scores(ctx, m, "gain", imp, true);
    }
    if (st != STRATA_OK) {
        st_free(imp);
        return st;
    }
    double total = 0.0;
    for (size_t j = 0; j < m->nfeatures; j++) total += imp[j].importance;
    for (size_t j = 0; j < m->nfeatures; j++)
        imp[j].share = total > 0 ? imp[j].importance / total : 0.0;
    qsort(imp, m->nfeatures, sizeof *imp, importance_cmp);
    *out = imp;
    *n = m->nfeatures;
    return STRATA_OK;
}

/* ---------------------------------------------------------------------------------------
 * risk and who is worth saving
 * ------------------------------------------------------------------------------------- */

typedef struct saving_key {
    double value, prob;
    size_t row;
} saving_key;

static int saving_cmp(const void *a, const void *b)
{
    const saving_key *x = a, *y = b;
    bool xn = isnan(x->value), yn = isnan(y->value);
    if (xn != yn) return xn ? 1 : -1;
    if (!xn && x->value != y->value) return x->value > y->value ? -1 : 1;
    if (x->prob != y->prob) return x->prob > y->prob ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

size_t st_churn_worth_saving(const double *prob, const double *value, size_t n, double high,
                             size_t k, size_t *out_rows)
{
    if (k == 0) return 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += prob[i] >= high;
    if (m == 0) return 0;
    saving_key *keys = st_malloc(m * sizeof *keys);
    if (!keys) return 0;
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (prob[i] >= high) keys[m++] = (saving_key){value ? value[i] : NAN, prob[i], i};
    qsort(keys, m, sizeof *keys, saving_cmp);
    size_t w = ST_MIN(m, k);
    for (size_t i = 0; i < w; i++) out_rows[i] = keys[i].row;
    st_free(keys);
    return w;
}

cJSON *st_churn_risk_json(const double *prob, size_t n, double medium, double high,
                          const uint32_t *tier, char *const *tier_names, size_t ntiers)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    uint64_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) counts[st_churn_risk_of(prob[i], medium, high)]++;
    cJSON_AddNumberToObject(o, "medium_threshold", medium);
    cJSON_AddNumberToObject(o, "high_threshold", high);
    cJSON *c = cJSON_AddObjectToObject(o, "counts");
    cJSON *s = cJSON_AddObjectToObject(o, "shares");
    for (int r = 0; r < 3 && c && s; r++) {
        cJSON_AddNumberToObject(c, st_churn_risk_name((st_churn_risk)r), (double)counts[r]);
        cJSON_AddNumberToObject(s, st_churn_risk_name((st_churn_risk)r),
                                n ? (double)counts[r] / (double)n : 0.0);
    }
    if (tier && ntiers > 0) {
        uint64_t *tc = st_calloc(ntiers * 3, sizeof *tc);
        cJSON *arr = cJSON_AddArrayToObject(o, "by_tier");
        if (tc && arr) {
            for (size_t i = 0; i < n; i++)
                if (tier[i] < ntiers) tc[tier[i] * 3 + st_churn_risk_of(prob[i], medium, high)]++;
            for (size_t t = 0; t < ntiers; t++) {
                cJSON *row = cJSON_CreateObject();
                if (!row) break;
                cJSON_AddStringToObject(row, "tier", tier_names[t]);
                uint64_t total = tc[t * 3] + tc[t * 3 + 1] + tc[t * 3 + 2];
                cJSON_AddNumberToObject(row, "n", (double)total);
                for (int r = 0; r < 3; r++)
                    cJSON_AddNumberToObject(row, st_churn_risk_name((st_churn_risk)r),
                                            (double)tc[t * 3 + r]);
                cJSON_AddItemToArray(arr, row);
            }
        }
        st_free(tc);
    }
    return o;
}

/* ---------------------------------------------------------------------------------------
 * measuring and choosing
 * ------------------------------------------------------------------------------------- */

strata_status st_churn_metrics_json(const double *prob, const uint8_t *label, size_t n,
                                    double threshold, cJSON **out)
{
    *out = NULL;
    st_binary_metrics mm;
    strata_status st = st_binary_metrics_compute(prob, label, n, threshold, &mm);
    if (st != STRATA_OK) return st;
    cJSON *o = cJSON_CreateObject();
    if (!o) return STRATA_ENOMEM;
    cJSON_AddNumberToObject(o, "rows", (double)mm.n);
    cJSON_AddNumberToObject(o, "positives", (double)mm.positives);
    cJSON_AddNumberToObject(o, "auc", mm.auc);
    cJSON_AddNumberToObject(o, "pr_auc", mm.pr_auc);
    cJSON_AddNumberToObject(o, "log_loss", mm.log_loss);
    cJSON_AddNumberToObject(o, "brier", mm.brier);
    cJSON_AddNumberToObject(o, "threshold", threshold);
    cJSON *c = cJSON_AddObjectToObject(o, "confusion");
    if (c) {
        cJSON_AddNumberToObject(c, "tp", (double)mm.confusion.tp);
        cJSON_AddNumberToObject(c, "fp", (double)mm.confusion.fp);
        cJSON_AddNumberToObject(c, "tn", (double)mm.confusion.tn);
        cJSON_AddNumberToObject(c, "fn", (double)mm.confusion.fn);
        cJSON_AddNumberToObject(c, "precision", mm.confusion.precision);
        cJSON_AddNumberToObject(c, "recall", mm.confusion.recall);
        cJSON_AddNumberToObject(c, "f1", mm.confusion.f1);
        cJSON_AddNumberToObject(c, "accuracy", mm.confusion.accuracy);
    }
    cJSON *cal = cJSON_AddArrayToObject(o, "calibration");
    for (size_t b = 0; cal && b < mm.calibration_bins; b++) {
        const st_calib_bin *bin = &mm.calibration[b];
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddNumberToObject(row, "n", (double)bin->n);
        cJSON_AddNumberToObject(row, "mean_predicted", bin->mean_pred);
        cJSON_AddNumberToObject(row, "observed", bin->observed);
        cJSON_AddNumberToObject(row, "min", bin->lo);
        cJSON_AddNumberToObject(row, "max", bin->hi);
        cJSON_AddItemToArray(cal, row);
    }
    if (!c || !cal) {
        cJSON_Delete(o);
        return STRATA_ENOMEM;
    }
    *out = o;
    return STRATA_OK;
}

static cJSON *importance_json(strata_ctx *ctx, const strata_churn_model *m)
{
    st_churn_importance *imp;
    size_t n;
    if (st_churn_importance_list(ctx, m, &imp, &n) != STRATA_OK) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n && i < TOP_FEATURES; i++) {
        if (imp[i].importance <= 0) break;
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddStringToObject(row, "feature", m->features[imp[i].feature].name);
        cJSON_AddNumberToObject(row, "importance", imp[i].importance);
        cJSON_AddNumberToObject(row, "share", imp[i].share);
        if (m->kind == ST_CHURN_XGBOOST) cJSON_AddNumberToObject(row, "gain", imp[i].gain);
        else cJSON_AddNumberToObject(row, "coefficient", m->coef[imp[i].feature]);
        cJSON_AddItemToArray(arr, row);
    }
    st_free(imp);
    return arr;
}

static strata_status measure(strata_ctx *ctx, const st_churn_data *d, const st_churn_split *s,
                             st_churn_candidate *c, double **out_prob)
{
    *out_prob = NULL;
    double *prob = st_malloc(s->n_test * sizeof *prob);
    uint8_t *y = st_malloc(s->n_test);
    strata_status st = prob && y ? STRATA_OK : STRATA_ENOMEM;
    if (st == STRATA_OK) st = predict_rows(ctx, c->model, d, s->test, s->n_test, prob);
    if (st == STRATA_OK) {
        for (size_t r = 0; r < s->n_test; r++) y[r] = d->label[s->test[r]];
        st = st_churn_metrics_json(prob, y, s->n_test, c->model->threshold, &c->report);
        if (st != STRATA_OK) st_error(ctx, st, "churn: cannot measure the test split");
    }
    st_free(y);
    if (st == STRATA_OK) {
        const strata_churn_model *m = c->model;
        c->auc = cJSON_GetNumberValue(cJSON_GetObjectItem(c->report, "auc"));
        c->pr_auc = cJSON_GetNumberValue(cJSON_GetObjectItem(c->report, "pr_auc"));
        cJSON *top = importance_json(ctx, m);
        if (!top) {
            st = st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
        } else {
            cJSON_AddStringToObject(c->report, "model", st_churn_kind_name(m->kind));
            if (m->kind == ST_CHURN_XGBOOST)
                cJSON_AddNumberToObject(c->report, "rounds", m->rounds);
            else
                cJSON_AddNumberToObject(c->report, "iterations", m->iterations);
            cJSON_AddNumberToObject(c->report, "train_seconds", c->seconds);
            cJSON_AddItemToObject(c->report, "top_features", top);
        }
    }
    if (st != STRATA_OK) {
        st_free(prob);
        return st;
    }
    *out_prob = prob;
    return STRATA_OK;
}

void st_churn_fit_result_clear(st_churn_fit_result *r)
{
    strata_churn_model_free(r->xgboost.model);
    strata_churn_model_free(r->logistic.model);
    cJSON_Delete(r->xgboost.report);
    cJSON_Delete(r->logistic.report);
    st_churn_split_clear(&r->split);
    st_free(r->test_prob);
    memset(r, 0, sizeof *r);
}

strata_churn_model *st_churn_fit_take_chosen(st_churn_fit_result *r)
{
    st_churn_candidate *c = r->chosen == ST_CHURN_XGBOOST ? &r->xgboost : &r->logistic;
    strata_churn_model *m = c->model;
    c->model = NULL;
    return m;
}

strata_status st_churn_fit(strata_ctx *ctx, const st_churn_data *d, const st_churn_params *p,
                           st_churn_fit_result *out)
{
    memset(out, 0, sizeof *out);
    if (!d->label) return st_error(ctx, STRATA_EDATA, "churn: the data has no labels");
    if (!p->train_xgboost && !p->train_logistic)
        return st_error(ctx, STRATA_EINVAL, "churn: no learner selected");
    strata_status st = st_churn_split_make(d->label, d->rows, p->test_share, p->valid_share,
                                           p->seed, &out->split);
    if (st != STRATA_OK) return st_error(ctx, st, "churn: cannot split the rows");
    const st_churn_split *s = &out->split;
    /* every part needs both classes: training, early stopping and every measure do */
    uint64_t pos[3] = {0, 0, 0};
    for (size_t r = 0; r < s->n_train; r++) pos[0] += d->label[s->train[r]];
    for (size_t r = 0; r < s->n_valid; r++) pos[1] += d->label[s->valid[r]];
    for (size_t r = 0; r < s->n_test; r++) pos[2] += d->label[s->test[r]];
    if (pos[0] == 0 || pos[0] == s->n_train || pos[2] == 0 || pos[2] == s->n_test ||
        (s->n_valid > 0 && (pos[1] == 0 || pos[1] == s->n_valid))) {
        st_churn_fit_result_clear(out);
        return st_error(ctx, STRATA_EDATA,
                        "churn: %zu rows with %llu churned are too few to train and test "
                        "(every split part needs both classes)",
                        d->rows, (unsigned long long)(pos[0] + pos[1] + pos[2]));
    }
    st_churn_candidate *cands[2] = {&out->xgboost, &out->logistic};
    st_churn_kind kinds[2] = {ST_CHURN_XGBOOST, ST_CHURN_LOGISTIC};
    bool wanted[2] = {p->train_xgboost, p->train_logistic};
    double *probs[2] = {NULL, NULL};
    for (int k = 0; st == STRATA_OK && k < 2; k++) {
        if (!wanted[k]) continue;
        double t0 = now_seconds();
        st = st_churn_train(ctx, kinds[k], d, s, p, &cands[k]->model);
        cands[k]->seconds = now_seconds() - t0;
        if (st == STRATA_OK) st = measure(ctx, d, s, cands[k], &probs[k]);
    }
    if (st != STRATA_OK) {
        st_free(probs[0]);
        st_free(probs[1]);
        st_churn_fit_result_clear(out);
        return st;
    }
    /* higher test AUC wins; equal AUC goes to the higher PR-AUC; trees win a full tie */
    int pick = 0;
    if (!wanted[0]) pick = 1;
    else if (wanted[1]) {
        const st_churn_candidate *a = cands[0], *b = cands[1];
        if (b->auc > a->auc || (b->auc == a->auc && b->pr_auc > a->pr_auc)) pick = 1;
    }
    out->chosen = kinds[pick];
    out->test_prob = probs[pick];
    st_free(probs[1 - pick]);
    return STRATA_OK;
}

cJSON *st_churn_fit_summary_json(strata_ctx *ctx, const st_churn_data *d,
                                 const st_churn_fit_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const st_churn_split *s = &r->split;
    uint64_t positives = 0;
    for (size_t i = 0; i < d->rows; i++) positives += d->label[i];
    cJSON_AddNumberToObject(o, "rows", (double)d->rows);
    cJSON_AddNumberToObject(o, "positives", (double)positives);
    cJSON_AddNumberToObject(o, "positive_rate", d->rows ? (double)positives / (double)d->rows : 0);
    cJSON_AddNumberToObject(o, "features", (double)d->cols);
    cJSON *split = cJSON_AddObjectToObject(o, "split");
    if (split) {
        cJSON_AddStringToObject(split, "method", "stratified");
        cJSON_AddNumberToObject(split, "train", (double)s->n_train);
        cJSON_AddNumberToObject(split, "valid", (double)s->n_valid);
        cJSON_AddNumberToObject(split, "test", (double)s->n_test);
    }
    cJSON *models = cJSON_AddArrayToObject(o, "models");
    const st_churn_candidate *cands[2] = {&r->xgboost, &r->logistic};
    for (int k = 0; models && k < 2; k++)
        if (cands[k]->report) cJSON_AddItemToArray(models, cJSON_Duplicate(cands[k]->report, 1));
    cJSON_AddStringToObject(o, "chosen", st_churn_kind_name(r->chosen));
    cJSON_AddStringToObject(o, "chosen_by", "test AUC, then test PR-AUC");
    const st_churn_candidate *c = r->chosen == ST_CHURN_XGBOOST ? &r->xgboost : &r->logistic;
    if (c->model) cJSON_AddNumberToObject(o, "threshold", c->model->threshold);
    double medium = 0.3, high = 0.6;
    if (ctx && ctx->config) st_churn_risk_thresholds(ctx, &medium, &high);
    cJSON *risk = r->test_prob ? st_churn_risk_json(r->test_prob, s->n_test, medium, high, NULL,
                                                    NULL, 0)
                               : NULL;
    if (risk) {
        cJSON_AddStringToObject(risk, "rows", "test split, chosen model");
        cJSON_AddItemToObject(o, "risk", risk);
    }
    return o;
}
