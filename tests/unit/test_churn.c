/*
 * test_churn.c — src/models/churn.c, logreg.c and modelfile.c: labels from orders (no data
 * after the label window can change them), split determinism and stratification, XGBoost on
 * a separable problem, the logistic baseline against scikit-learn and on a linear problem,
 * model choice, importance, risk bands, persons worth saving, the model file round trip and
 * its rejection of damaged files, and clean failure under allocation faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "models/churn.h"
#include "models/modelfile.h"

static void near_at(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", got, want, eps);
        _fail(file, line);
    }
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

/* ---- deterministic test data ---- */
static uint64_t rng_state;
static double uniform(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void)
{
    return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* n rows x d features, label = Bernoulli(sigmoid(sum w_j x_j + bias)); sharpness scales
 * the weights so large values give an almost separable problem. */
static void make_linear(st_churn_data *d, size_t n, size_t cols, const double *w, double bias,
                        double sharpness, uint64_t seed)
{
    rng_state = seed;
    assert_int_equal(st_churn_data_init(d, n, cols, true), STRATA_OK);
    for (size_t j = 0; j < cols; j++) {
        char name[32];
        snprintf(name, sizeof name, "x%zu", j);
        assert_int_equal(st_churn_data_set_feature(d, j, ST_CHURN_NUMERIC, name, NULL),
                         STRATA_OK);
    }
    for (size_t i = 0; i < n; i++) {
        double eta = bias;
        for (size_t j = 0; j < cols; j++) {
            double v = normal();
            d->x[i * cols + j] = (float)v;
            eta += sharpness * w[j] * v;
        }
        d->label[i] = uniform() < 1.0 / (1.0 + exp(-eta));
    }
}

/* One thread: XGBoost's OpenMP workers spin while waiting, which on a loaded 2-core test
 * machine costs more than it gains on these small sets; threads are tested where they
 * change the code path (test_logistic_threads). */
static strata_ctx *new_ctx(void)
{
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    strata_set_threads(ctx, 1);
    return ctx;
}

/* ---------------------------------------------------------------------------------------
 * labels and split
 * ------------------------------------------------------------------------------------- */

static void test_labels(void **state)
{
    (void)state;
    /* cutoff day 100, horizon 90: window [100, 190) */
    /* person 0: bought at 50 and 120 -> stays (0); person 1: bought at 50 only -> churned;
     * person 2: first order at 120 -> not eligible; person 3: order at 50 and an invalid
     * (refunded) one at 150 -> churned; person 4: orders at 99 and 190 -> churned (190 is
     * outside the window) */
    uint32_t person[] = {0, 0, 1, 2, 3, 3, 4, 4};
    int32_t day[] = {50, 120, 50, 120, 50, 150, 99, 190};
    uint8_t valid[] = {1, 1, 1, 1, 1, 0, 1, 1};
    uint8_t eligible[5], label[5];
    st_churn_labels(person, day, valid, 8, 5, 100, 90, eligible, label);
    const uint8_t want_e[5] = {1, 1, 0, 1, 1}, want_l[5] = {0, 1, 0, 1, 1};
    assert_memory_equal(eligible, want_e, 5);
    assert_memory_equal(label, want_l, 5);
    /* orders on or after cutoff + horizon cannot change anything */
    uint32_t person2[] = {0, 0, 1, 2, 3, 3, 4, 4, 1, 3, 2};
    int32_t day2[] = {50, 120, 50, 120, 50, 150, 99, 190, 190, 400, 191};
    uint8_t valid2[] = {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
    uint8_t e2[5], l2[5];
    st_churn_labels(person2, day2, valid2, 11, 5, 100, 90, e2, l2);
    assert_memory_equal(e2, want_e, 5);
    assert_memory_equal(l2, want_l, 5);
    assert_int_equal(st_churn_default_cutoff(1000, 90), 910);
}

static void test_split(void **state)
{
    (void)state;
    enum { N = 1000 };
    uint8_t label[N];
    for (int i = 0; i < N; i++) label[i] = (i % 10) < 3; /* 300 positives */
    st_churn_split a, b, c;
    assert_int_equal(st_churn_split_make(label, N, 0.2, 0.16, 42, &a), STRATA_OK);
    assert_int_equal(st_churn_split_make(label, N, 0.2, 0.16, 42, &b), STRATA_OK);
    assert_int_equal(st_churn_split_make(label, N, 0.2, 0.16, 43, &c), STRATA_OK);
    /* sizes: round(0.2 * 300) + round(0.2 * 700) = 60 + 140; valid 48 + 112 */
    assert_int_equal(a.n_test, 200);
    assert_int_equal(a.n_valid, 160);
    assert_int_equal(a.n_train, 640);
    size_t pos_test = 0, pos_valid = 0;
    for (size_t i = 0; i < a.n_test; i++) pos_test += label[a.test[i]];
    for (size_t i = 0; i < a.n_valid; i++) pos_valid += label[a.valid[i]];
    assert_int_equal(pos_test, 60);
    assert_int_equal(pos_valid, 48);
    /* same seed, same split; another seed, another split */
    assert_memory_equal(a.test, b.test, a.n_test * sizeof *a.test);
    assert_memory_equal(a.valid, b.valid, a.n_valid * sizeof *a.valid);
    assert_int_equal(c.n_test, 200);
    assert_true(memcmp(a.test, c.test, a.n_test * sizeof *a.test) != 0);
    /* a partition: every row exactly once, lists ascending */
    uint8_t seen[N] = {0};
    const size_t *lists[3] = {a.train, a.valid, a.test};
    size_t counts[3] = {a.n_train, a.n_valid, a.n_test};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            assert_true(lists[k][i] < N);
            assert_int_equal(seen[lists[k][i]]++, 0);
            if (i) assert_true(lists[k][i] > lists[k][i - 1]);
        }
    st_churn_split_clear(&a);
    st_churn_split_clear(&b);
    st_churn_split_clear(&c);
    assert_int_equal(st_churn_split_make(label, N, 0.7, 0.3, 1, &a), STRATA_EINVAL);
}

/* ---------------------------------------------------------------------------------------
 * learners
 * ------------------------------------------------------------------------------------- */

/* An almost separable problem with a non-linear boundary and missing values: trees must
 * reach AUC > 0.95 on the held-out rows. */
static void test_xgboost_separable(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    enum { N = 4000, D = 4 };
    rng_state = 7;
    assert_int_equal(st_churn_data_init(&d, N, D, true), STRATA_OK);
    for (size_t j = 0; j < D; j++) {
        char name[32];
        snprintf(name, sizeof name, "f%zu", j);
        st_churn_data_set_feature(&d, j, ST_CHURN_NUMERIC, name, NULL);
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < D; j++) d.x[i * D + j] = (float)normal();
        float x0 = d.x[i * D], x1 = d.x[i * D + 1];
        d.label[i] = (x0 * x0 + x1 * x1 > 1.4f); /* a circle: not linear */
        if (i % 50 == 0) d.x[i * D + 3] = NAN;   /* missing in a noise feature */
    }
    st_churn_params p;
    st_churn_params_default(ctx, &p);
    p.train_logistic = true;
    st_churn_fit_result r;
    assert_int_equal(st_churn_fit(ctx, &d, &p, &r), STRATA_OK);
    assert_non_null(r.xgboost.model);
    assert_true(r.xgboost.auc > 0.95);
    /* a linear model cannot see a circle: trees must win */
    assert_true(r.logistic.auc < 0.75);
    assert_int_equal(r.chosen, ST_CHURN_XGBOOST);
    assert_true(r.xgboost.model->rounds >= 1 && r.xgboost.model->rounds <= 200);
    /* the two informative features carry the gain */
    st_churn_importance *imp;
    size_t n;
    assert_int_equal(st_churn_importance_list(ctx, r.xgboost.model, &imp, &n), STRATA_OK);
    assert_int_equal(n, D);
    assert_true(imp[0].feature <= 1 && imp[1].feature <= 1);
    assert_true(imp[0].share + imp[1].share > 0.8);
    st_free(imp);
    /* determinism: the same seed gives the same trees */
    st_churn_fit_result r2;
    assert_int_equal(st_churn_fit(ctx, &d, &p, &r2), STRATA_OK);
    assert_near(r2.xgboost.auc, r.xgboost.auc, 0);
    assert_int_equal(r2.xgboost.model->rounds, r.xgboost.model->rounds);
    /* the summary carries both models and the choice */
    cJSON *sum = st_churn_fit_summary_json(ctx, &d, &r);
    assert_non_null(sum);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(sum, "chosen")), "xgboost");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sum, "models")), 2);
    cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "models"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m0, "calibration")), 10);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "confusion"), "tp"));
    cJSON *counts = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "risk"), "counts");
    double total = 0;
    for (cJSON *c = counts ? counts->child : NULL; c; c = c->next) total += c->valuedouble;
    assert_near(total, (double)r.split.n_test, 0);
    cJSON_Delete(sum);
    st_churn_fit_result_clear(&r);
    st_churn_fit_result_clear(&r2);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

/* scikit-learn 1.2.1 on the same 12 rows:
 *   Z = (X - X.mean(0)) / X.std(0)
 *   LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(Z, y)
 *   -> intercept 0.0375023045, coef [1.1648324919, -0.5645870095]
 * (C = 1 is our l2 = 1; neither penalises the intercept; X.std is the population sd).
 * lbfgs stops with a gradient of 4e-6 there, so the exact optimum was also taken with
 * numpy's Newton iteration (b -= solve(A'WA + diag(0,1,1), gradient), 50 steps, final
 * gradient 2e-16): intercept 0.037502227095, coef [1.164832147029, -0.564588490253]. */
static void test_logistic_vs_sklearn(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    const float X[12][2] = {{1.0f, 5.0f}, {2.0f, 3.0f}, {3.0f, 4.0f}, {4.0f, 1.0f},
                            {5.0f, 2.0f}, {6.0f, 0.5f}, {1.5f, 2.5f}, {2.5f, 4.5f},
                            {3.5f, 1.5f}, {4.5f, 3.5f}, {5.5f, 1.0f}, {0.5f, 0.0f}};
    const uint8_t y[12] = {0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0};
    size_t rows[12];
    for (size_t i = 0; i < 12; i++) rows[i] = i;
    double mean[2], sd[2], coef[2], b;
    st_feature_moments(&X[0][0], 2, rows, 12, mean, sd);
    assert_near(mean[0], 3.25, 1e-12);
    assert_near(sd[0], 1.72602626, 1e-8);
    assert_near(sd[1], 1.56956735, 1e-8);
    st_logreg_info info;
    assert_int_equal(st_logreg_fit(ctx, &X[0][0], 2, rows, 12, y, mean, sd, 1.0, 1, coef, &b,
                                   &info),
                     STRATA_OK);
    assert_true(info.converged);
    assert_near(b, 0.037502227095, 1e-9);
    assert_near(coef[0], 1.164832147029, 1e-9);
    assert_near(coef[1], -0.564588490253, 1e-9);
    assert_near(b, 0.0375023045, 1e-5); /* scikit-learn, to its own precision */
    assert_near(coef[0], 1.1648324919, 1e-5);
    assert_near(coef[1], -0.5645870095, 1e-5);
    strata_ctx_free(ctx);
}

/* Rows split over worker threads (20,000 rows at least per thread) reach the same optimum
 * as one thread, up to the order of floating-point sums. */
static void test_logistic_threads(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    const double w[3] = {0.8, -0.5, 0.2};
    make_linear(&d, 60000, 3, w, 0.3, 1.0, 21);
    size_t *rows = malloc(d.rows * sizeof *rows);
    for (size_t i = 0; i < d.rows; i++) rows[i] = i;
    double mean[3], sd[3], c1[3], c3[3], b1, b3;
    st_feature_moments(d.x, 3, rows, d.rows, mean, sd);
    st_logreg_info i1, i3;
    assert_int_equal(st_logreg_fit(ctx, d.x, 3, rows, d.rows, d.label, mean, sd, 1.0, 1, c1, &b1,
                                   &i1),
                     STRATA_OK);
    assert_int_equal(st_logreg_fit(ctx, d.x, 3, rows, d.rows, d.label, mean, sd, 1.0, 3, c3, &b3,
                                   &i3),
                     STRATA_OK);
    assert_true(i1.converged && i3.converged);
    assert_near(b3, b1, 1e-9);
    for (int j = 0; j < 3; j++) assert_near(c3[j], c1[j], 1e-9);
    assert_near(i3.objective, i1.objective, 1e-6 * i1.objective);
    free(rows);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

/* A linear problem: the baseline recovers the signs, and a useless feature stays small. */
static void test_logistic_signs(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    const double w[4] = {1.5, -2.0, 0.0, 0.7};
    make_linear(&d, 20000, 4, w, -0.5, 1.0, 11);
    st_churn_split s;
    assert_int_equal(st_churn_split_make(d.label, d.rows, 0.2, 0.16, 1, &s), STRATA_OK);
    st_churn_params p;
    st_churn_params_default(ctx, &p);
    strata_churn_model *m;
    assert_int_equal(st_churn_train(ctx, ST_CHURN_LOGISTIC, &d, &s, &p, &m), STRATA_OK);
    assert_true(m->coef[0] > 1.0);
    assert_true(m->coef[1] < -1.4);
    assert_true(fabs(m->coef[2]) < 0.1);
    assert_true(m->coef[3] > 0.4);
    /* standardized normals: coefficients close to the true weights */
    assert_near(m->coef[0], 1.5, 0.15);
    assert_near(m->coef[1], -2.0, 0.2);
    assert_true(m->threshold > 0.0 && m->threshold < 1.0);
    /* importance = |standardized coefficient|: x1, x0, x3, x2 */
    st_churn_importance *imp;
    size_t n;
    assert_int_equal(st_churn_importance_list(ctx, m, &imp, &n), STRATA_OK);
    assert_int_equal(imp[0].feature, 1);
    assert_int_equal(imp[1].feature, 0);
    assert_int_equal(imp[3].feature, 2);
    st_free(imp);
    strata_churn_model_free(m);
    st_churn_split_clear(&s);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

/* ---------------------------------------------------------------------------------------
 * risk and saving
 * ------------------------------------------------------------------------------------- */

static void test_risk_and_saving(void **state)
{
    (void)state;
    assert_int_equal(st_churn_risk_of(0.29, 0.3, 0.6), ST_RISK_LOW);
    assert_int_equal(st_churn_risk_of(0.3, 0.3, 0.6), ST_RISK_MEDIUM);
    assert_int_equal(st_churn_risk_of(0.6, 0.3, 0.6), ST_RISK_HIGH);
    assert_string_equal(st_churn_risk_name(ST_RISK_HIGH), "high");
    const double prob[6] = {0.9, 0.7, 0.2, 0.65, 0.95, 0.61};
    const double value[6] = {100, 500, 1000, NAN, 100, 50};
    size_t rows[6];
    /* high risk: rows 0, 1, 3, 4, 5; by value: 1 (500), then 4 and 0 (100: higher prob
     * first), then 5 (50), then 3 (no value) */
    assert_int_equal(st_churn_worth_saving(prob, value, 6, 0.6, 6, rows), 5);
    const size_t want[5] = {1, 4, 0, 5, 3};
    assert_memory_equal(rows, want, sizeof want);
    assert_int_equal(st_churn_worth_saving(prob, NULL, 6, 0.6, 2, rows), 2);
    assert_int_equal(rows[0], 4);
    assert_int_equal(rows[1], 0);
    /* risk counts, by tier */
    const uint32_t tier[6] = {0, 1, 1, 0, 0, 1};
    char t1[] = "T1", t2[] = "T2";
    char *names[2] = {t1, t2};
    cJSON *r = st_churn_risk_json(prob, 6, 0.3, 0.6, tier, names, 2);
    cJSON *counts = cJSON_GetObjectItem(r, "counts");
    assert_near(cJSON_GetObjectItem(counts, "high")->valuedouble, 5, 0);
    assert_near(cJSON_GetObjectItem(counts, "low")->valuedouble, 1, 0);
    cJSON *bt = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "by_tier"), 1);
    assert_string_equal(cJSON_GetObjectItem(bt, "tier")->valuestring, "T2");
    assert_near(cJSON_GetObjectItem(bt, "high")->valuedouble, 2, 0);
    assert_near(cJSON_GetObjectItem(bt, "low")->valuedouble, 1, 0);
    cJSON_Delete(r);
}

/* ---------------------------------------------------------------------------------------
 * model file
 * ------------------------------------------------------------------------------------- */

static strata_churn_model *train_small(strata_ctx *ctx, st_churn_kind kind, st_churn_data *d)
{
    const double w[3] = {1.0, -1.0, 0.5};
    make_linear(d, 600, 3, w, 0.0, 2.0, 5);
    /* a one-hot feature, and missing values, so the file carries both kinds */
    assert_int_equal(st_churn_data_set_feature(d, 2, ST_CHURN_ONEHOT, "plan", "gold"),
                     STRATA_OK);
    for (size_t i = 0; i < d->rows; i++) {
        d->x[i * 3 + 2] = d->x[i * 3 + 2] > 0 ? 1.0f : 0.0f;
        if (i % 17 == 0) d->x[i * 3] = NAN;
    }
    st_churn_split s;
    assert_int_equal(st_churn_split_make(d->label, d->rows, 0.2, 0.16, 3, &s), STRATA_OK);
    st_churn_params p;
    st_churn_params_default(ctx, &p);
    p.rounds = 30;
    strata_churn_model *m;
    assert_int_equal(st_churn_train(ctx, kind, d, &s, &p, &m), STRATA_OK);
    m->label_column = st_churn_model_strdup(m, "Churn");
    st_churn_split_clear(&s);
    return m;
}

static void round_trip(st_churn_kind kind)
{
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    strata_churn_model *m = train_small(ctx, kind, &d);
    st_buf b;
    st_buf_init(&b, ST_MODEL_MAX_BYTES);
    assert_int_equal(st_churn_model_to_buffer(ctx, m, &b), STRATA_OK);
    strata_churn_model *back;
    assert_int_equal(st_churn_model_from_buffer(ctx, b.data, b.len, ST_MODEL_LOAD, &back),
                     STRATA_OK);
    assert_int_equal(back->kind, kind);
    assert_int_equal(back->nfeatures, 3);
    assert_string_equal(back->features[2].name, "plan=gold");
    assert_string_equal(back->label_column, "Churn");
    assert_near(back->threshold, m->threshold, 0);
    double *p1 = malloc(d.rows * sizeof *p1), *p2 = malloc(d.rows * sizeof *p2);
    assert_int_equal(st_churn_predict(ctx, m, d.x, d.rows, d.cols, p1), STRATA_OK);
    assert_int_equal(st_churn_predict(ctx, back, d.x, d.rows, d.cols, p2), STRATA_OK);
    assert_memory_equal(p1, p2, d.rows * sizeof *p1); /* bit for bit */
    /* the same through a file */
    char path[] = "/tmp/strata-test-churn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(strata_churn_model_save(ctx, m, path), STRATA_OK);
    strata_churn_model *fromfile;
    assert_int_equal(strata_churn_model_load(ctx, path, &fromfile), STRATA_OK);
    assert_int_equal(st_churn_predict(ctx, fromfile, d.x, d.rows, d.cols, p2), STRATA_OK);
    assert_memory_equal(p1, p2, d.rows * sizeof *p1);
    strata_churn_model_free(fromfile);
    remove(path);
    assert_int_equal(strata_churn_model_load(ctx, path, &fromfile), STRATA_ENOINPUT);

    /* every truncation is refused */
    for (size_t len = 0; len < b.len; len += (len < 64 ? 1 : 1 + b.len / 200)) {
        strata_churn_model *bad = (strata_churn_model *)1;
        strata_status st = st_churn_model_from_buffer(ctx, b.data, len, ST_MODEL_LOAD, &bad);
        assert_true(st == STRATA_EPARSE || st == STRATA_EMODEL);
        assert_null(bad);
    }
    /* every flipped byte is refused (checksums), and a byte too many */
    unsigned char *copy = malloc(b.len + 1);
    memcpy(copy, b.data, b.len);
    for (size_t i = 0; i < b.len; i += (i < 256 ? 1 : 1 + b.len / 300)) {
        copy[i] ^= 0x5a;
        strata_churn_model *bad;
        strata_status st = st_churn_model_from_buffer(ctx, copy, b.len, ST_MODEL_LOAD, &bad);
        assert_true(st == STRATA_EPARSE || st == STRATA_EMODEL);
        copy[i] ^= 0x5a;
    }
    copy[b.len] = 0;
    strata_churn_model *padded;
    assert_int_equal(st_churn_model_from_buffer(ctx, copy, b.len + 1, ST_MODEL_LOAD, &padded),
                     STRATA_EPARSE);
    free(copy);
    free(p1);
    free(p2);
    strata_churn_model_free(back);
    strata_churn_model_free(m);
    st_buf_clear(&b);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

static void test_model_file_xgboost(void **state)
{
    (void)state;
    round_trip(ST_CHURN_XGBOOST);
}

static void test_model_file_logistic(void **state)
{
    (void)state;
    round_trip(ST_CHURN_LOGISTIC);
}

/* Write a little-endian u32 and re-seal the header checksum, to reach the later checks. */
static void patch_u32(unsigned char *p, size_t off, uint32_t v, bool reseal_payload, size_t len)
{
    for (int i = 0; i < 4; i++) p[off + (size_t)i] = (unsigned char)(v >> (8 * i));
    if (reseal_payload) {
        uint32_t c = (uint32_t)crc32(0, p + 32, (unsigned)(len - 32));
        for (int i = 0; i < 4; i++) p[24 + i] = (unsigned char)(c >> (8 * i));
    }
    uint32_t h = (uint32_t)crc32(0, p, 28);
    for (int i = 0; i < 4; i++) p[28 + i] = (unsigned char)(h >> (8 * i));
}

/* Sealed but wrong: a newer version, an unknown kind, an absurd feature count. */
static void test_model_file_validation(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    strata_churn_model *m = train_small(ctx, ST_CHURN_LOGISTIC, &d);
    st_buf b;
    st_buf_init(&b, ST_MODEL_MAX_BYTES);
    assert_int_equal(st_churn_model_to_buffer(ctx, m, &b), STRATA_OK);
    unsigned char *p = malloc(b.len);
    strata_churn_model *bad;

    memcpy(p, b.data, b.len);
    patch_u32(p, 8, 2, false, b.len);
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_LOAD, &bad), STRATA_EMODEL);
    assert_non_null(strstr(strata_errmsg(ctx), "version 2"));

    memcpy(p, b.data, b.len);
    patch_u32(p, 12, 9, false, b.len);
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_LOAD, &bad), STRATA_EPARSE);

    memcpy(p, b.data, b.len);
    patch_u32(p, 32, 100000, true, b.len);
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_LOAD, &bad), STRATA_EPARSE);

    /* a NaN coefficient (the first coefficient follows the intercept) */
    memcpy(p, b.data, b.len);
    size_t coef_off = b.len - 4 - 3 * 8;
    uint64_t nan_bits = 0x7ff8000000000000ULL;
    for (int i = 0; i < 8; i++) p[coef_off + (size_t)i] = (unsigned char)(nan_bits >> (8 * i));
    patch_u32(p, 8, 1, true, b.len);
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_LOAD, &bad), STRATA_EPARSE);
    assert_non_null(strstr(strata_errmsg(ctx), "not finite"));

    /* the parse-only mode of the fuzzer skips checksums but still validates */
    memcpy(p, b.data, b.len);
    p[40] ^= 1; /* inside the threshold, payload checksum now wrong */
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_LOAD, &bad), STRATA_EPARSE);
    memcpy(p, b.data, b.len);
    assert_int_equal(st_churn_model_from_buffer(ctx, p, b.len, ST_MODEL_PARSE_ONLY, &bad),
                     STRATA_OK);
    strata_churn_model_free(bad);
    free(p);
    strata_churn_model_free(m);
    st_buf_clear(&b);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

/* ---------------------------------------------------------------------------------------
 * the table path
 * ------------------------------------------------------------------------------------- */

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/strata-test-churn-XXXXXX.csv");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Types, one-hot levels in byte order, blanks as missing, the id and a many-valued text
 * column left out; then the same table encoded by a model's feature list. */
static void test_table_encoding(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_buf csv;
    st_buf_init(&csv, 1 << 20);
    st_buf_puts(&csv, "id,age,plan,city,churn\r\n");
    /* 70 rows: city has 70 distinct values (> ST_CHURN_MAX_LEVELS), plan has two + blank */
    for (int i = 0; i < 70; i++) {
        const char *plan = i % 3 == 0 ? "gold" : i % 3 == 1 ? "basic" : "";
        if (i == 1) st_buf_printf(&csv, "p%d,,\"%s\",c%d,no\r\n", i, plan, i);
        else st_buf_printf(&csv, "p%d,%d,%s,c%d,%s\r\n", i, 20 + i, plan, i, i % 2 ? "Yes" : "no");
    }
    char *path = write_temp(csv.data);
    strata_churn_table_opts o = {.table = path, .label_column = "churn", .id_column = "id"};
    st_churn_data d;
    cJSON *skipped = cJSON_CreateArray();
    assert_int_equal(st_churn_table_load(ctx, &o, NULL, &d, skipped), STRATA_OK);
    assert_int_equal(d.rows, 70);
    assert_int_equal(d.cols, 3);
    assert_string_equal(d.features[0].name, "age");
    assert_int_equal(d.features[0].kind, ST_CHURN_NUMERIC);
    assert_string_equal(d.features[1].name, "plan=basic"); /* byte order: basic < gold */
    assert_string_equal(d.features[2].name, "plan=gold");
    assert_int_equal(cJSON_GetArraySize(skipped), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(skipped, 0), "column")->valuestring,
                        "city");
    /* row 0: age 20, gold; row 1: age blank (NaN), basic; row 2: plan blank -> both NaN */
    assert_near(d.x[0], 20, 0);
    assert_near(d.x[1], 0, 0);
    assert_near(d.x[2], 1, 0);
    assert_true(isnan(d.x[3]));
    assert_near(d.x[4], 1, 0);
    assert_true(isnan(d.x[7]) && isnan(d.x[8]));
    assert_near(d.x[6], 22, 0);
    assert_int_equal(d.label[0], 0);
    assert_int_equal(d.label[3], 1);
    assert_string_equal(d.ids[69], "p69");
    st_churn_data_clear(&d);
    cJSON_Delete(skipped);

    /* a model's encoding: its own order, an unseen level is all zeros, a level it knows
     * that the table lacks is simply never 1 */
    strata_churn_model *m;
    assert_int_equal(st_churn_model_alloc(ctx, ST_CHURN_LOGISTIC, 3, &m), STRATA_OK);
    st_churn_model_set_feature(m, 0, ST_CHURN_ONEHOT, "plan", "gold");
    st_churn_model_set_feature(m, 1, ST_CHURN_ONEHOT, "plan", "silver");
    st_churn_model_set_feature(m, 2, ST_CHURN_NUMERIC, "age", NULL);
    strata_churn_table_opts so = {.table = path};
    assert_int_equal(st_churn_table_load(ctx, &so, m, &d, NULL), STRATA_OK);
    assert_int_equal(d.cols, 3);
    assert_null(d.label);
    assert_near(d.x[0], 1, 0); /* row 0 gold */
    assert_near(d.x[1], 0, 0);
    assert_near(d.x[2], 20, 0);
    assert_near(d.x[3], 0, 0); /* row 1 basic: unseen by the model */
    assert_near(d.x[4], 0, 0);
    assert_true(isnan(d.x[5]));
    assert_true(isnan(d.x[6]) && isnan(d.x[7])); /* row 2 blank plan */
    st_churn_data_clear(&d);
    st_churn_model_set_feature(m, 2, ST_CHURN_NUMERIC, "income", NULL);
    assert_int_equal(st_churn_table_load(ctx, &so, m, &d, NULL), STRATA_EDATA);
    assert_non_null(strstr(strata_errmsg(ctx), "'income'"));
    /* a model's numeric column that holds text is an error naming the line */
    st_churn_model_set_feature(m, 2, ST_CHURN_NUMERIC, "id", NULL);
    assert_int_equal(st_churn_table_load(ctx, &so, m, &d, NULL), STRATA_EPARSE);
    assert_non_null(strstr(strata_errmsg(ctx), ":2: column 'id': 'p0' is not a number"));
    strata_churn_model_free(m);
    remove(path);
    st_buf_clear(&csv);
    strata_ctx_free(ctx);
}

/* Bad tables fail with the file and line of the first problem. */
static void test_table_errors(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    struct {
        const char *csv, *label, *want;
        strata_status st;
    } cases[] = {
        {"a,y\n1,yes\n2,no\n3\n", "y", ":4: 1 fields, the header has 2", STRATA_EPARSE},
        {"a,y\n1,yes\n2,maybe\n", "y", ":3: label 'y' is 'maybe'", STRATA_EPARSE},
        {"a,y\n1,yes\n2,\n", "y", ":3: label 'y' is ''", STRATA_EPARSE},
        {"a,y\n1,yes\n", "z", "no label column 'z'", STRATA_EDATA},
        {"a,a,y\n1,2,yes\n", "y", "column 'a' appears twice", STRATA_EPARSE},
        {"a,y\n", "y", "no data rows", STRATA_EDATA},
        {"a,y\n,yes\n,no\n", "y", "no usable feature", STRATA_EDATA},
        {"a,y\n1,yes\n\"2,no\n", "y", ":3: field", STRATA_EPARSE},
    };
    for (size_t i = 0; i < ST_ARRAY_LEN(cases); i++) {
        char *path = write_temp(cases[i].csv);
        strata_churn_table_opts o = {.table = path, .label_column = cases[i].label};
        strata_status st = st_churn_table_load(ctx, &o, NULL, &d, NULL);
        if (st != cases[i].st || !strstr(strata_errmsg(ctx), cases[i].want))
            print_error("case %zu: %s: %s\n", i, strata_status_name(st), strata_errmsg(ctx));
        assert_int_equal(st, cases[i].st);
        assert_non_null(strstr(strata_errmsg(ctx), cases[i].want));
        assert_null(d.x);
        remove(path);
    }
    strata_churn_table_opts o = {.table = "/nonexistent/t.csv", .label_column = "y"};
    assert_int_equal(st_churn_table_load(ctx, &o, NULL, &d, NULL), STRATA_ENOINPUT);
    strata_ctx_free(ctx);
}

/* Every allocation of a logistic fit, save and load fails in turn: a clean error, no leak. */
static void test_allocation_failures(void **state)
{
    (void)state;
    strata_ctx *ctx = new_ctx();
    st_churn_data d;
    const double w[2] = {1.0, -1.0};
    make_linear(&d, 300, 2, w, 0.0, 1.0, 9);
    st_churn_params p;
    st_churn_params_default(ctx, &p);
    p.train_xgboost = false;
    p.threads = 1;
    size_t before = strata_memory_used();
    int failures = 0;
    for (uint64_t nth = 1; nth < 200; nth++) {
        strata_memory_fail_after(nth);
        st_churn_fit_result r;
        strata_status st = st_churn_fit(ctx, &d, &p, &r);
        strata_churn_model *back = NULL;
        if (st == STRATA_OK) {
            st_buf b;
            st_buf_init(&b, ST_MODEL_MAX_BYTES);
            st = st_churn_model_to_buffer(ctx, r.logistic.model, &b);
            if (st == STRATA_OK)
                st = st_churn_model_from_buffer(ctx, b.data, b.len, ST_MODEL_LOAD, &back);
            st_buf_clear(&b);
            strata_churn_model_free(back);
            st_churn_fit_result_clear(&r);
        }
        strata_memory_fail_after(0);
        assert_int_equal(strata_memory_used(), before);
        if (st == STRATA_OK) break;
        assert_true(st == STRATA_ENOMEM || st == STRATA_ELIMIT);
        failures++;
    }
    assert_true(failures > 5);
    st_churn_data_clear(&d);
    strata_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_xgboost_separable),
        cmocka_unit_test(test_logistic_vs_sklearn),
        cmocka_unit_test(test_logistic_threads),
        cmocka_unit_test(test_logistic_signs),
        cmocka_unit_test(test_risk_and_saving),
        cmocka_unit_test(test_model_file_xgboost),
        cmocka_unit_test(test_model_file_logistic),
        cmocka_unit_test(test_model_file_validation),
        cmocka_unit_test(test_table_encoding),
        cmocka_unit_test(test_table_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
