/*
 * test_metrics.c — src/models/metrics.c against scikit-learn 1.2.1 on a fixed vector with
 * ties, plus hand-computed edge cases, input validation and allocation failure.
 *
 * The reference numbers were computed once with /usr/bin/python3 (scikit-learn 1.2.1,
 * numpy 1.24.2):
 *
 *   import numpy as np
 *   from sklearn.metrics import (roc_auc_score, average_precision_score, log_loss,
 *                                brier_score_loss, confusion_matrix, precision_recall_curve)
 *   p = np.array(PROB); y = np.array(LABEL)           # the two arrays below
 *   roc_auc_score(y, p)            -> 0.80999999999999994
 *   average_precision_score(y, p)  -> 0.83789682539682531
 *   log_loss(y, p)                 -> 0.51145455201504364
 *   brier_score_loss(y, p)         -> 0.174875
 *   confusion_matrix(y, p >= 0.5).ravel()  -> tn 8, fp 2, fn 3, tp 7
 *   prec, rec, thr = precision_recall_curve(y, p); f1 = 2*prec*rec/(prec+rec)
 *   thr[argmax(f1[:-1])]           -> 0.25 (F1 0.76923076923076927, the unique maximum)
 *   o = np.lexsort((y, p)); [(p[b].mean(), y[b].mean()) for b in np.array_split(o, 10)]
 *                                  -> the CALIB table below
 *   log_loss([1, 0, 1], [0.0, 0.0, 1.0], eps=1e-15) -> 11.512925464970229
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "models/metrics.h"

/* cmocka 1.1 compares only floats; doubles need their own check with a useful message. */
static void near_at(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", got, want, eps);
        _fail(file, line);
    }
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

static const double PROB[20] = {0.10, 0.40, 0.35, 0.80, 0.70, 0.35, 0.90, 0.05, 0.60, 0.35,
                                0.20, 0.55, 0.95, 0.15, 0.50, 0.45, 0.30, 0.65, 0.25, 0.75};
static const uint8_t LABEL[20] = {0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1};
static const double CALIB[10][2] = {{0.075, 0.0}, {0.175, 0.0}, {0.275, 0.5}, {0.35, 0.5},
                                    {0.375, 0.5}, {0.475, 0.5}, {0.575, 0.5}, {0.675, 0.5},
                                    {0.775, 1.0}, {0.925, 1.0}};

static void test_against_sklearn(void **state)
{
    (void)state;
    st_binary_metrics m;
    assert_int_equal(st_binary_metrics_compute(PROB, LABEL, 20, 0.5, &m), STRATA_OK);
    assert_int_equal(m.n, 20);
    assert_int_equal(m.positives, 10);
    assert_near(m.auc, 0.80999999999999994, 1e-12);
    assert_near(m.pr_auc, 0.83789682539682531, 1e-12);
    assert_near(m.log_loss, 0.51145455201504364, 1e-12);
    assert_near(m.brier, 0.174875, 1e-12);
    assert_int_equal(m.confusion.tn, 8);
    assert_int_equal(m.confusion.fp, 2);
    assert_int_equal(m.confusion.fn, 3);
    assert_int_equal(m.confusion.tp, 7);
    assert_near(m.confusion.precision, 7.0 / 9.0, 1e-12);
    assert_near(m.confusion.recall, 0.7, 1e-12);
    assert_near(m.confusion.f1, 2.0 * 7 / (2 * 7 + 2 + 3), 1e-12);
    assert_near(m.confusion.accuracy, 0.75, 1e-12);
    assert_int_equal(m.calibration_bins, 10);
    for (int b = 0; b < 10; b++) {
        assert_int_equal(m.calibration[b].n, 2);
        assert_near(m.calibration[b].mean_pred, CALIB[b][0], 1e-12);
        assert_near(m.calibration[b].observed, CALIB[b][1], 1e-12);
    }
    assert_near(m.calibration[0].lo, 0.05, 0);
    assert_near(m.calibration[9].hi, 0.95, 0);

    double v;
    assert_int_equal(st_metric_auc(PROB, LABEL, 20, &v), STRATA_OK);
    assert_near(v, 0.81, 1e-12);
    assert_int_equal(st_metric_pr_auc(PROB, LABEL, 20, &v), STRATA_OK);
    assert_near(v, 0.83789682539682531, 1e-12);
    assert_int_equal(st_metric_log_loss(PROB, LABEL, 20, &v), STRATA_OK);
    assert_near(v, 0.51145455201504364, 1e-12);
    assert_int_equal(st_metric_best_f1_threshold(PROB, LABEL, 20, &v), STRATA_OK);
    assert_near(v, 0.25, 0);
}

/* The same rows in reverse order give the same numbers: ties are resolved by value, not
 * by position. */
static void test_order_invariance(void **state)
{
    (void)state;
    double p[20];
    uint8_t y[20];
    for (int i = 0; i < 20; i++) {
        p[i] = PROB[19 - i];
        y[i] = LABEL[19 - i];
    }
    st_binary_metrics a, b;
    assert_int_equal(st_binary_metrics_compute(PROB, LABEL, 20, 0.5, &a), STRATA_OK);
    assert_int_equal(st_binary_metrics_compute(p, y, 20, 0.5, &b), STRATA_OK);
    assert_near(a.auc, b.auc, 0);
    assert_near(a.pr_auc, b.pr_auc, 0);
    for (int k = 0; k < 10; k++)
        assert_near(a.calibration[k].observed, b.calibration[k].observed, 0);
}

/* Hand-computed edge cases. */
static void test_edges(void **state)
{
    (void)state;
    double v;
    /* perfect ranking */
    const double sep[4] = {0.1, 0.2, 0.8, 0.9};
    const uint8_t sep_y[4] = {0, 0, 1, 1};
    assert_int_equal(st_metric_auc(sep, sep_y, 4, &v), STRATA_OK);
    assert_near(v, 1.0, 0);
    assert_int_equal(st_metric_pr_auc(sep, sep_y, 4, &v), STRATA_OK);
    assert_near(v, 1.0, 0);
    /* reversed ranking: AUC 0; AP = 1/2 * 1/3 + 1/2 * 2/4 = 5/12 */
    const uint8_t rev_y[4] = {1, 1, 0, 0};
    assert_int_equal(st_metric_auc(sep, rev_y, 4, &v), STRATA_OK);
    assert_near(v, 0.0, 0);
    assert_int_equal(st_metric_pr_auc(sep, rev_y, 4, &v), STRATA_OK);
    assert_near(v, 5.0 / 12.0, 1e-15);
    /* one tie group: AUC 1/2, AP = the positive rate */
    const double same[5] = {0.3, 0.3, 0.3, 0.3, 0.3};
    const uint8_t same_y[5] = {1, 0, 0, 1, 0};
    assert_int_equal(st_metric_auc(same, same_y, 5, &v), STRATA_OK);
    assert_near(v, 0.5, 0);
    assert_int_equal(st_metric_pr_auc(same, same_y, 5, &v), STRATA_OK);
    assert_near(v, 0.4, 1e-15);
    /* clipping: log(1e-15) twice and log(1 - 1e-15) once, over 3 */
    const double clip[3] = {0.0, 0.0, 1.0};
    const uint8_t clip_y[3] = {1, 0, 1};
    assert_int_equal(st_metric_log_loss(clip, clip_y, 3, &v), STRATA_OK);
    assert_near(v, 11.512925464970229, 1e-9);
    /* calibration with 3 rows: bins [0,1) [1,2) [2,3) by floor(n b / 10) -> b = 3, 6, 9 */
    st_calib_bin bins[ST_CALIB_BINS];
    size_t nb;
    const double three[3] = {0.9, 0.1, 0.5};
    const uint8_t three_y[3] = {1, 0, 1};
    assert_int_equal(st_metric_calibration(three, three_y, 3, bins, &nb), STRATA_OK);
    assert_int_equal(nb, 3);
    assert_near(bins[0].mean_pred, 0.1, 0);
    assert_near(bins[0].observed, 0.0, 0);
    assert_near(bins[2].mean_pred, 0.9, 0);
    assert_near(bins[2].observed, 1.0, 0);
    /* 25 rows: bins of sizes 2,3,2,3,2,3,2,3,2,3 */
    double p25[25];
    uint8_t y25[25];
    for (int i = 0; i < 25; i++) {
        p25[i] = i / 100.0;
        y25[i] = i >= 21;
    }
    assert_int_equal(st_metric_calibration(p25, y25, 25, bins, &nb), STRATA_OK);
    assert_int_equal(nb, 10);
    assert_int_equal(bins[0].n, 2);
    assert_int_equal(bins[1].n, 3);
    assert_near(bins[1].mean_pred, 0.03, 1e-15); /* rows 2, 3, 4 */
    assert_near(bins[9].observed, 1.0, 0);       /* rows 22..24 */
    assert_near(bins[8].observed, 0.5, 0);       /* rows 20, 21 */
    /* confusion: threshold is inclusive */
    st_confusion c;
    assert_int_equal(st_metric_confusion(sep, sep_y, 4, 0.8, &c), STRATA_OK);
    assert_int_equal(c.tp, 2);
    assert_int_equal(c.fp, 0);
    assert_int_equal(st_metric_confusion(sep, sep_y, 4, 0.95, &c), STRATA_OK);
    assert_int_equal(c.tp, 0);
    assert_near(c.precision, 0.0, 0);
    assert_near(c.f1, 0.0, 0);
}

static void test_rejects(void **state)
{
    (void)state;
    double v;
    const double p[3] = {0.2, 0.5, 0.7};
    const uint8_t one_class[3] = {1, 1, 1};
    assert_int_equal(st_metric_auc(p, one_class, 3, &v), STRATA_EDATA);
    assert_true(isnan(v));
    assert_int_equal(st_metric_pr_auc(p, one_class, 0, &v), STRATA_EDATA);
    const uint8_t bad_label[3] = {0, 2, 1};
    assert_int_equal(st_metric_auc(p, bad_label, 3, &v), STRATA_EINVAL);
    const double bad_p[3] = {0.2, NAN, 0.7};
    const uint8_t y[3] = {0, 1, 1};
    assert_int_equal(st_metric_log_loss(bad_p, y, 3, &v), STRATA_EINVAL);
    const double big_p[3] = {0.2, 1.5, 0.7};
    st_binary_metrics m;
    assert_int_equal(st_binary_metrics_compute(big_p, y, 3, 0.5, &m), STRATA_EINVAL);
    assert_true(isnan(m.auc));
    const uint8_t none[3] = {0, 0, 0};
    assert_int_equal(st_metric_best_f1_threshold(p, none, 3, &v), STRATA_EDATA);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    size_t before = strata_memory_used();
    st_binary_metrics m;
    strata_memory_fail_after(1);
    assert_int_equal(st_binary_metrics_compute(PROB, LABEL, 20, 0.5, &m), STRATA_ENOMEM);
    strata_memory_fail_after(0);
    assert_int_equal(strata_memory_used(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_sklearn), cmocka_unit_test(test_order_invariance),
        cmocka_unit_test(test_edges),           cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
