/*
 * metrics.c — binary classification measures (see metrics.h). Owns nothing beyond the
 * scratch array of one call.
 *
 * The sorting measures share one representation: (prob, label) pairs sorted by prob, then
 * label, so rows with equal predictions form runs ("tie groups") and the result does not
 * depend on the input order. Every measure is taken over tie groups, never over single
 * rows, because a threshold cannot separate two rows with the same prediction: that is what
 * makes the AUC use average ranks and the average precision step only at distinct scores
 * (both as scikit-learn computes them).
 */
#include "models/metrics.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
    double prob;
    uint32_t label;
} scored;

static int scored_cmp(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->prob != y->prob) return x->prob < y->prob ? -1 : 1;
    return (x->label > y->label) - (x->label < y->label);
}

static strata_status check_inputs(const double *prob, const uint8_t *label, size_t n,
                                  uint64_t *positives)
{
    uint64_t pos = 0;
    if (n > 0 && (!prob || !label)) return STRATA_EINVAL;
    for (size_t i = 0; i < n; i++) {
        /* written so that NaN fails too */
        if (!(prob[i] >= 0.0 && prob[i] <= 1.0) || label[i] > 1) return STRATA_EINVAL;
        pos += label[i];
    }
    *positives = pos;
    return STRATA_OK;
}

/* Validated, sorted copy; both classes required when need_both. Caller frees *out. */
static strata_status sorted_pairs(const double *prob, const uint8_t *label, size_t n,
                                  bool need_both, scored **out, uint64_t *positives)
{
    *out = NULL;
    strata_status st = check_inputs(prob, label, n, positives);
    if (st != STRATA_OK) return st;
    if (n == 0 || (need_both && (*positives == 0 || *positives == n))) return STRATA_EDATA;
    if (n > SIZE_MAX / sizeof(scored)) return STRATA_ENOMEM;
    scored *s = st_malloc(n * sizeof *s);
    if (!s) return STRATA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s[i].prob = prob[i];
        s[i].label = label[i];
    }
    qsort(s, n, sizeof *s, scored_cmp);
    *out = s;
    return STRATA_OK;
}

/* Mann-Whitney: AUC = (sum of positive ranks - P(P+1)/2) / (P N), ties sharing their mean
 * rank. Ranks are 1-based over the ascending order. */
static double auc_sorted(const scored *s, size_t n, uint64_t positives)
{
    double rank_sum = 0.0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        uint64_t pos = 0;
        while (j < n && s[j].prob == s[i].prob) pos += s[j++].label;
        double mean_rank = ((double)i + 1.0 + (double)j) / 2.0; /* ranks i+1 .. j */
        rank_sum += (double)pos * mean_rank;
        i = j;
    }
    double p = (double)positives, neg = (double)(n - positives);
    return (rank_sum - p * (p + 1.0) / 2.0) / (p * neg);
}

/* Average precision: walk thresholds from the highest prediction down; at each distinct
 * prediction add (recall gained) x (precision there). */
static double pr_auc_sorted(const scored *s, size_t n, uint64_t positives)
{
    double ap = 0.0;
    uint64_t tp = 0, fp = 0;
    size_t j = n;
    while (j > 0) {
        size_t i = j;
        uint64_t pos = 0, cnt = 0;
        while (i > 0 && s[i - 1].prob == s[j - 1].prob) {
            pos += s[i - 1].label;
            cnt++;
            i--;
        }
        tp += pos;
        fp += cnt - pos;
        if (pos > 0) ap += ((double)pos / (double)positives) * ((double)tp / (double)(tp + fp));
        j = i;
    }
    return ap;
}

static size_t calibration_sorted(const scored *s, size_t n, st_calib_bin *bins)
{
    size_t used = 0;
    for (size_t b = 0; b < ST_CALIB_BINS; b++) {
        /* equal-count bins: rows [b n / 10, (b + 1) n / 10), in 128-bit-free arithmetic */
        size_t lo = (size_t)((double)n * (double)b / ST_CALIB_BINS);
        size_t hi = (size_t)((double)n * (double)(b + 1) / ST_CALIB_BINS);
        if (b + 1 == ST_CALIB_BINS) hi = n;
        if (hi <= lo) continue;
        double sum = 0.0;
        uint64_t pos = 0;
        for (size_t k = lo; k < hi; k++) {
            sum += s[k].prob;
            pos += s[k].label;
        }
        st_calib_bin *o = &bins[used++];
        o->n = hi - lo;
        o->mean_pred = sum / (double)o->n;
        o->observed = (double)pos / (double)o->n;
        o->lo = s[lo].prob;
        o->hi = s[hi - 1].prob;
    }
    return used;
}

static double log_loss_raw(const double *prob, const uint8_t *label, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = prob[i];
        if (p < ST_LOGLOSS_EPS) p = ST_LOGLOSS_EPS;
        if (p > 1.0 - ST_LOGLOSS_EPS) p = 1.0 - ST_LOGLOSS_EPS;
        sum -= label[i] ? log(p) : log1p(-p);
    }
    return sum / (double)n;
}

static void confusion_raw(const double *prob, const uint8_t *label, size_t n, double threshold,
                          st_confusion *c)
{
    memset(c, 0, sizeof *c);
    c->threshold = threshold;
    for (size_t i = 0; i < n; i++) {
        bool predicted = prob[i] >= threshold;
        if (label[i]) predicted ? c->tp++ : c->fn++;
        else predicted ? c->fp++ : c->tn++;
    }
    c->precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0.0;
    c->recall = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0.0;
    c->f1 = c->precision + c->recall > 0
                ? 2.0 * c->precision * c->recall / (c->precision + c->recall)
                : 0.0;
    c->accuracy = n ? (double)(c->tp + c->tn) / (double)n : 0.0;
}

strata_status st_binary_metrics_compute(const double *prob, const uint8_t *label, size_t n,
                                        double threshold, st_binary_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->auc = out->pr_auc = out->log_loss = out->brier = NAN;
    scored *s;
    uint64_t positives;
    strata_status st = sorted_pairs(prob, label, n, true, &s, &positives);
    if (st != STRATA_OK) return st;
    out->n = n;
    out->positives = positives;
    out->auc = auc_sorted(s, n, positives);
    out->pr_auc = pr_auc_sorted(s, n, positives);
    out->calibration_bins = calibration_sorted(s, n, out->calibration);
    st_free(s);
    out->log_loss = log_loss_raw(prob, label, n);
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += (prob[i] - label[i]) * (prob[i] - label[i]);
    out->brier = sq / (double)n;
    confusion_raw(prob, label, n, threshold, &out->confusion);
    return STRATA_OK;
}

strata_status st_metric_auc(const double *prob, const uint8_t *label, size_t n, double *out)
{
    scored *s;
    uint64_t positives;
    *out = NAN;
    strata_status st = sorted_pairs(prob, label, n, true, &s, &positives);
    if (st != STRATA_OK) return st;
    *out = auc_sorted(s, n, positives);
    st_free(s);
    return STRATA_OK;
}

strata_status st_metric_pr_auc(const double *prob, const uint8_t *label, size_t n, double *out)
{
    scored *s;
    uint64_t positives;
    *out = NAN;
    strata_status st = sorted_pairs(prob, label, n, true, &s, &positives);
    if (st != STRATA_OK) return st;
    *out = pr_auc_sorted(s, n, positives);
    st_free(s);
    return STRATA_OK;
}

strata_status st_metric_log_loss(const double *prob, const uint8_t *label, size_t n,
                                 double *out)
{
    uint64_t positives;
    *out = NAN;
    strata_status st = check_inputs(prob, label, n, &positives);
    if (st != STRATA_OK) return st;
    if (n == 0) return STRATA_EDATA;
    *out = log_loss_raw(prob, label, n);
    return STRATA_OK;
}

strata_status st_metric_confusion(const double *prob, const uint8_t *label, size_t n,
                                  double threshold, st_confusion *out)
{
    uint64_t positives;
    memset(out, 0, sizeof *out);
    strata_status st = check_inputs(prob, label, n, &positives);
    if (st != STRATA_OK) return st;
    confusion_raw(prob, label, n, threshold, out);
    return STRATA_OK;
}

strata_status st_metric_calibration(const double *prob, const uint8_t *label, size_t n,
                                    st_calib_bin bins[ST_CALIB_BINS], size_t *nbins)
{
    scored *s;
    uint64_t positives;
    *nbins = 0;
    memset(bins, 0, ST_CALIB_BINS * sizeof *bins);
    strata_status st = sorted_pairs(prob, label, n, false, &s, &positives);
    if (st != STRATA_OK) return st;
    *nbins = calibration_sorted(s, n, bins);
    st_free(s);
    return STRATA_OK;
}

strata_status st_metric_best_f1_threshold(const double *prob, const uint8_t *label, size_t n,
                                          double *out_threshold)
{
    scored *s;
    uint64_t positives;
    *out_threshold = NAN;
    strata_status st = sorted_pairs(prob, label, n, false, &s, &positives);
    if (st != STRATA_OK) return st;
    if (positives == 0) {
        st_free(s);
        return STRATA_EDATA;
    }
    /* Lowering the threshold to each distinct prediction in turn admits its tie group. */
    double best_f1 = -1.0, best = s[n - 1].prob;
    uint64_t tp = 0, fp = 0;
    size_t j = n;
    while (j > 0) {
        size_t i = j;
        while (i > 0 && s[i - 1].prob == s[j - 1].prob) {
            s[i - 1].label ? tp++ : fp++;
            i--;
        }
        double f1 = 2.0 * (double)tp / (double)(2 * tp + fp + (positives - tp));
        if (f1 > best_f1) {
            best_f1 = f1;
            best = s[j - 1].prob;
        }
        j = i;
    }
    st_free(s);
    *out_threshold = best;
    return STRATA_OK;
}
