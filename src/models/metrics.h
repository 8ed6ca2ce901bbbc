/*
 * metrics.h — quality measures of a binary classifier's probabilities against 0/1 labels:
 * ROC AUC (rank based, ties averaged), PR-AUC (average precision, as scikit-learn), log loss
 * (clipped), Brier score, the confusion matrix at a threshold, the F1-best threshold and a
 * calibration table by deciles of the prediction.
 *
 * Pure functions over caller-owned arrays: no context, no I/O. They are shared by the churn
 * models (src/models/churn.c) and the later A/B and campaign analyses. A probability must be
 * a finite number in [0, 1] and a label 0 or 1, else the functions fail with STRATA_EINVAL;
 * measures that need both classes fail with STRATA_EDATA when one is absent. Cost: the
 * sorting measures are O(n log n) time and O(n) extra memory (one 16-byte pair per row).
 */
#ifndef ST_METRICS_H
#define ST_METRICS_H

#include "core/core.h"

/* Confusion matrix at a threshold: a row is predicted positive when prob >= threshold. */
typedef struct st_confusion {
    double threshold;
    uint64_t tp, fp, tn, fn;
    double precision; /* tp / (tp + fp); 0 when nothing is predicted positive */
    double recall;    /* tp / (tp + fn); 0 when there are no positives */
    double f1;        /* harmonic mean of precision and recall; 0 when both are 0 */
    double accuracy;  /* (tp + tn) / n */
} st_confusion;

/* One bin of a calibration table: rows whose prediction ranks in one tenth of the sorted
 * predictions (equal-count bins; empty bins are left out when n < 10). */
typedef struct st_calib_bin {
    uint64_t n;
    double mean_pred; /* mean predicted probability in the bin */
    double observed;  /* share of positives in the bin */
    double lo, hi;    /* smallest and largest prediction in the bin */
} st_calib_bin;

#define ST_CALIB_BINS 10

/* Log loss clips probabilities to [eps, 1 - eps] with this eps (scikit-learn 1.2's default),
 * so a confident mistake costs about 34.5 instead of infinity. */
#define ST_LOGLOSS_EPS 1e-15

/* Every measure at once, with one sort. */
typedef struct st_binary_metrics {
    uint64_t n, positives;
    double auc;       /* probability that a random positive outranks a random negative */
    double pr_auc;    /* average precision: sum over thresholds of (R_k - R_k-1) * P_k */
    double log_loss;  /* mean binary cross-entropy, natural log, clipped by ST_LOGLOSS_EPS */
    double brier;     /* mean squared error of the probability */
    st_confusion confusion;
    st_calib_bin calibration[ST_CALIB_BINS];
    size_t calibration_bins;
} st_binary_metrics;

/* Fill *out with every measure, the confusion matrix taken at `threshold`. STRATA_EINVAL on
 * a bad probability or label, STRATA_EDATA when one class is absent (n = 0 included),
 * STRATA_ENOMEM; *out is zeroed with auc/pr_auc/log_loss NaN on failure. */
strata_status st_binary_metrics_compute(const double *prob, const uint8_t *label, size_t n,
                                        double threshold, st_binary_metrics *out);

/* The single measures, for callers that need only one. Same failures as above; the out
 * value is NaN on failure. */
strata_status st_metric_auc(const double *prob, const uint8_t *label, size_t n, double *out);
strata_status st_metric_pr_auc(const double *prob, const uint8_t *label, size_t n,
                               double *out);
strata_status st_metric_log_loss(const double *prob, const uint8_t *label, size_t n,
                                 double *out);
/* Confusion needs no sort and works with one class (or none): only EINVAL can fail. */
strata_status st_metric_confusion(const double *prob, const uint8_t *label, size_t n,
                                  double threshold, st_confusion *out);
/* Calibration deciles into bins[ST_CALIB_BINS]; *nbins = the number of non-empty bins. */
strata_status st_metric_calibration(const double *prob, const uint8_t *label, size_t n,
                                    st_calib_bin bins[ST_CALIB_BINS], size_t *nbins);
/* The threshold (one of the predictions) with the highest F1; on ties the highest such
 * threshold. STRATA_EDATA without positives. */
strata_status st_metric_best_f1_threshold(const double *prob, const uint8_t *label, size_t n,
                                          double *out_threshold);

#endif /* ST_METRICS_H */
