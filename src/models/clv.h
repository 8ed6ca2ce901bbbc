/*
 * clv.h — customer lifetime value: the BG/NBD purchase model (Fader, Hardie & Lee 2005,
 * "Counting your customers the easy way") and the Gamma-Gamma spend model (Fader, Hardie &
 * Lee 2005, "RFM and CLV"), fitted by maximum likelihood, with per-person predictions
 * (P(alive), expected purchases, expected order value, discounted CLV), the holdout check by
 * frequency group and the summary.json section.
 *
 * Place in the data flow: models. The module owns no data; every function is array in,
 * array out (the batch job passes per-person aggregates, the CLI passes tables). No I/O.
 *
 * Conventions (as the literature and the lifetimes / BTYD packages):
 *   x    = repeat purchases: distinct purchase days after the first one, in calibration
 *   t_x  = time from the first to the last purchase (0 when x = 0)
 *   T    = time from the first purchase to the end of calibration
 *   m    = mean amount of the repeat purchase days (0 when x = 0)
 * Time is in one chosen unit (days or weeks); every horizon passed to the model is in the
 * same unit as the T it was fitted on.
 *
 * The `strata clv` command reaches these through strata_clv_run() (src/job/tool_clv.c).
 */
#ifndef ST_MODELS_CLV_H
#define ST_MODELS_CLV_H

#include "strata.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of one time unit in days. */
typedef enum st_clv_unit { ST_CLV_DAYS = 1, ST_CLV_WEEKS = 7 } st_clv_unit;

/* ---------------------------------------------------------------------------------------
 * Calibration summary ("customer-by-sufficient-statistic" table, BTYD's cbs).
 * ------------------------------------------------------------------------------------- */
typedef struct st_clv_cbs {
    size_t n;         /* rows */
    uint32_t *person; /* person index of each row, ascending (NULL for tables read as is) */
    double *x;        /* repeat purchase days in calibration (integer valued, >= 0) */
    double *t_x;      /* first -> last purchase day, in units */
    double *T;        /* first purchase day -> end of calibration, in units */
    double *m;        /* mean amount of the repeat purchase days; 0 when x == 0 */
    double *x_star;   /* purchase days in the holdout window; 0 without a holdout */
    size_t n_late;    /* persons whose first purchase is after the calibration end (left out) */
} st_clv_cbs;

/* Allocate the five double columns (and person when with_person) for n rows, zero-filled.
 * Caller frees with st_clv_cbs_clear(). STRATA_ENOMEM leaves *cbs empty. */
strata_status st_clv_cbs_alloc(st_clv_cbs *cbs, size_t n, bool with_person);
/* Free the columns; the struct is left empty (n = 0). NULL-safe. */
void st_clv_cbs_clear(st_clv_cbs *cbs);

/* Build the calibration summary from a transaction log.
 *   person, day, amount: n_tx transactions sorted by person, then day (amount may be NULL:
 *                        m is then 0). Days are days since 1970-01-01.
 *   cal_end_day:         the LAST day of calibration, inclusive (CDNOW: 1997-09-30). A
 *                        person's T is cal_end_day - first day.
 *   holdout_end_day:     the last day of the holdout window, inclusive, or STRATA_DAY_NONE.
 *                        x_star counts distinct purchase days in (cal_end_day, holdout_end].
 *   unit:                days or weeks.
 * Same-day purchases of one person are merged into one purchase whose amount is their sum.
 * Persons whose first purchase is after cal_end_day get no row (counted in n_late).
 * Rows come out in person order. Fails with STRATA_EINVAL (naming the transaction) when the
 * log is not sorted or an amount is not finite; *out is then empty.
 * Caller frees with st_clv_cbs_clear(). Cost: O(n_tx), one pass. */
strata_status st_clv_cbs_from_log(strata_ctx *ctx, const uint32_t *person, const int32_t *day,
                                  const double *amount, size_t n_tx, int32_t cal_end_day,
                                  int32_t holdout_end_day, st_clv_unit unit, st_clv_cbs *out);

/* Check a summary read from a file: finite values, x integer >= 0, 0 <= t_x <= T, T > 0,
 * t_x = 0 when x = 0, m >= 0. STRATA_EINVAL names the first bad row (1-based). */
strata_status st_clv_cbs_validate(strata_ctx *ctx, const st_clv_cbs *cbs);

/* ---------------------------------------------------------------------------------------
 * Fitting.
 * ------------------------------------------------------------------------------------- */
typedef struct st_clv_fit_opts {
    unsigned threads; /* for the likelihood; 0 = the context's setting */
    int max_iter;     /* per start; 0 = 500 */
    double gtol;      /* |gradient| of the mean log-likelihood in log parameters; 0 = 1e-7 */
} st_clv_fit_opts;

typedef struct st_bgnbd {
    double r, alpha, a, b; /* alpha is in the time unit of T */
    double ll;             /* total log-likelihood at the estimate */
    size_t n;              /* persons used */
    int iterations;        /* of the winning start */
    int starts;            /* starting points tried */
    int starts_converged;  /* of those, how many met the gradient test */
    double grad_norm;      /* |gradient of the mean LL in log parameters| at the estimate */
    bool converged;
    int evaluations; /* likelihood evaluations over all starts */
} st_bgnbd;

typedef struct st_gammagamma {
    double p, q, gamma;
    double ll;
    size_t n;          /* persons used: x > 0 and m > 0 */
    size_t n_excluded; /* persons with x > 0 but m <= 0 (not usable by the spend model) */
    int iterations;
    int starts, starts_converged;
    double grad_norm;
    bool converged;
    int evaluations;
} st_gammagamma;

/* Fit BG/NBD by maximum likelihood: GSL's BFGS2 quasi-Newton on (log r, log alpha, log a,
 * log b) from several starting points, keeping the best (a few Newton steps finish a run
 * that stalls just short of the gradient test). Above 50,000 persons the starts are run on
 * a fixed random subsample of about 50,000 and the best end point is refined on everyone
 * (falling back to every start on everyone if that refinement fails). The likelihood is computed in
 * log space (lgamma, log-sum-exp), so any x (300, 10000, ...) gives finite values; x-dependent
 * gamma terms are computed once per distinct x. Deterministic for any thread count.
 * Fails with STRATA_EINVAL for bad input (see st_clv_cbs_validate), STRATA_EDATA with fewer
 * than 2 persons or no repeat purchase at all (the parameters are not identified), and
 * STRATA_EMODEL when no start converges to a finite optimum; *out is then zeroed.
 * Cost: O(n) per likelihood evaluation, typically 30-100 evaluations per start. */
strata_status st_bgnbd_fit(strata_ctx *ctx, const double *x, const double *t_x, const double *T,
                           size_t n, const st_clv_fit_opts *opts, st_bgnbd *out);

/* Total BG/NBD log-likelihood of the rows at the given parameters (NaN on bad input). */
double st_bgnbd_loglik(const st_bgnbd *model, const double *x, const double *t_x, const double *T,
                       size_t n);

/* Fit Gamma-Gamma on the persons with x > 0 and m > 0 (3 parameters, log space, BFGS2).
 * STRATA_EDATA with fewer than 2 usable persons; STRATA_EMODEL when the fit fails or ends
 * with q <= 1 (the mean spend would be infinite, so no expected order value exists). */
strata_status st_gammagamma_fit(strata_ctx *ctx, const double *x, const double *m, size_t n,
                                const st_clv_fit_opts *opts, st_gammagamma *out);

/* ---------------------------------------------------------------------------------------
 * Per-person quantities. All are finite for any valid input (never NaN).
 * ------------------------------------------------------------------------------------- */

/* P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)). */
double st_bgnbd_p_alive(const st_bgnbd *model, double x, double t_x, double T);

/* E[X(t) | x, t_x, T]: expected purchases in the next t units (FHL 2005 eq. 10). The
 * Gauss hypergeometric term is summed after Euler's transformation in a form without
 * cancellation or singularities (see clv.c), not with gsl_sf_hyperg_2F1. */
double st_bgnbd_expected(const st_bgnbd *model, double t, double x, double t_x, double T);

/* E[X(t)] for a person who has just made a first purchase (FHL 2005 eq. 7). */
double st_bgnbd_expected_new(const st_bgnbd *model, double t);

/* E[M | x, m]: expected mean order value (Gamma-Gamma), the population mean p*gamma/(q-1)
 * for x = 0. */
double st_gammagamma_aov(const st_gammagamma *model, double x, double m);

typedef struct st_clv_predict_opts {
    double horizon;      /* H for exp_purchases, in model units (default 90 days / 13 weeks) */
    int months;          /* CLV months M (default 12) */
    double month_length; /* one month in model units (lifetimes: 30 days, 4.345 weeks) */
    double discount;     /* monthly discount rate d (default 0.01) */
    unsigned threads;    /* 0 = the context's setting */
} st_clv_predict_opts;

/* Defaults for a unit: horizon 90 days or 13 weeks, 12 months of 30 days or 4.345 weeks,
 * discount 0.01 per month. */
void st_clv_predict_defaults(st_clv_predict_opts *opts, st_clv_unit unit);

typedef struct st_clv_preds {
    size_t n;
    double *p_alive;       /* P(alive) now */
    double *exp_purchases; /* E[X(H) | ...] */
    double *exp_aov;       /* E[M | x, m]; NULL without a spend model */
    double *clv;           /* see st_clv_predict; NULL without a spend model */
} st_clv_preds;

/* Predictions for every row of cbs. With spend == NULL only p_alive and exp_purchases are
 * made. The CLV is
 *     clv = sum_{k=1..M} (E[X(k L)] - E[X((k-1) L)]) * exp_aov / (1 + d)^k
 * with L = month_length, E[X(t)] = st_bgnbd_expected(t, x, t_x, T) — the expected purchases
 * falling into month k, valued at the expected order value and discounted to today (the
 * formula of lifetimes' customer_lifetime_value).
 * Fails with STRATA_EINVAL for bad options. Caller frees with st_clv_preds_clear().
 * Cost: O(n * M * series length); uses threads. */
strata_status st_clv_predict(strata_ctx *ctx, const st_bgnbd *model, const st_gammagamma *spend,
                             const st_clv_cbs *cbs, const st_clv_predict_opts *opts,
                             st_clv_preds *out);
void st_clv_preds_clear(st_clv_preds *preds);

/* ---------------------------------------------------------------------------------------
 * Holdout check and summary.
 * ------------------------------------------------------------------------------------- */
#define ST_CLV_GROUPS 8 /* calibration frequency groups 0, 1, ..., 6, 7+ */

typedef struct st_clv_holdout {
    double duration; /* holdout length in model units */
    size_t persons[ST_CLV_GROUPS];
    double actual_mean[ST_CLV_GROUPS];    /* mean x_star of the group */
    double predicted_mean[ST_CLV_GROUPS]; /* mean E[X(duration) | x, t_x, T] */
    double actual_total, predicted_total; /* over everyone */
} st_clv_holdout;

/* Predicted vs actual holdout purchases per calibration frequency group (FHL 2005 fig. 4).
 * STRATA_EINVAL when duration <= 0 or cbs has no x_star column. */
strata_status st_clv_holdout_table(strata_ctx *ctx, const st_bgnbd *model, const st_clv_cbs *cbs,
                                   double duration, st_clv_holdout *out);

/* The "clv" section of summary.json:
 *   {unit, bgnbd:{r,alpha,a,b,log_likelihood,persons,converged,iterations,...},
 *    gamma_gamma:{p,q,gamma,...} | absent, options:{horizon,months,month_length,discount},
 *    totals:{persons, p_alive_mean, exp_purchases_sum, clv_sum, clv_mean},
 *    holdout:{duration, groups:[{x:"0".."7+", persons, actual, predicted}], ...} | absent,
 *    p_alive_histogram:{edges:[..21], counts:[..20]},
 *    clv_histogram:{edges, counts, quantiles:{p50,p90,p99,max}} | absent,
 *    p_alive_heatmap:{recency_edges, frequency_labels, mean:[[..]], persons:[[..]]}}
 * The heatmap rows are 10 equal-width buckets of recency (T - t_x, time since the last
 * purchase) and its columns the frequency groups 0..7+. spend, preds->exp_aov/clv and
 * holdout may be NULL/absent. Returns NULL on allocation failure.
 * Caller frees with cJSON_Delete(). */
cJSON *st_clv_summary_json(const st_bgnbd *model, const st_gammagamma *spend, const st_clv_cbs *cbs,
                           const st_clv_preds *preds, const st_clv_predict_opts *opts,
                           const st_clv_holdout *holdout, st_clv_unit unit);

/* ---------------------------------------------------------------------------------------
 * Files, for `strata clv` (the batch job passes arrays instead).
 * ------------------------------------------------------------------------------------- */
typedef struct st_clv_data {
    st_clv_cbs cbs;
    char *id_text;  /* id of row i: id_text + id_off[i] (NUL-terminated) */
    size_t *id_off; /* NULL when the file has no id column (ids are row numbers) */
    bool has_m, has_x_star;
    size_t skipped; /* input rows left out because a needed value was empty */
    uint64_t first_skipped_line;
    size_t transactions; /* elog: transactions read */
} st_clv_data;

/* Read a calibration summary CSV (gzip accepted) with columns x, t_x, T and optional m,
 * x_star and an id; BTYD (x, t.x, T.cal, m.x, x.star, cust) and lifetimes (frequency,
 * recency = t_x, T, monetary_value, customer_id) names are accepted too. Values are
 * validated (st_clv_cbs_validate). Caller frees with st_clv_data_clear(). */
strata_status st_clv_read_cbs(strata_ctx *ctx, const char *path, st_clv_data *out);

typedef struct st_clv_elog_opts {
    const char *id_column;     /* NULL = customer_id|cust|id|user_id|masterid|customer */
    const char *date_column;   /* NULL = date|order_date|order_ts */
    const char *amount_column; /* NULL = sales|amount|value|monetary (optional column) */
    int32_t cal_end_day;       /* last day of calibration, inclusive (required) */
    int32_t holdout_end_day;   /* last day of the holdout, inclusive; STRATA_DAY_NONE = none */
    st_clv_unit unit;
} st_clv_elog_opts;

/* Read a transaction log CSV (id, date as YYYYMMDD or ISO, amount), in any order, and build
 * the calibration summary (st_clv_cbs_from_log). Ids keep their order of first appearance.
 * Caller frees with st_clv_data_clear(). */
strata_status st_clv_read_elog(strata_ctx *ctx, const char *path, const st_clv_elog_opts *opts,
                               st_clv_data *out);
void st_clv_data_clear(st_clv_data *data);

/* Write id,x,t_x,T,p_alive,exp_purchases[,exp_aov,clv] per row. STRATA_EIO names the path. */
strata_status st_clv_write_predictions(strata_ctx *ctx, const char *path, const st_clv_data *data,
                                       const st_clv_preds *preds);

#endif /* ST_MODELS_CLV_H */
