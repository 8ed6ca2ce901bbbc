/*
 * clv.c — BG/NBD + Gamma-Gamma lifetime value (see clv.h for the conventions and contract).
 *
 * Layout of this file:
 *   1. calibration summary from a transaction log
 *   2. deterministic parallel work over fixed chunks (core st_parallel_for)
 *   3. a multi-start BFGS2 driver (GSL multimin) on log parameters
 *   4. BG/NBD likelihood + gradient, Gamma-Gamma likelihood + gradient, the two fits
 *   5. per-person predictions (P(alive), E[X(t)], E[M], CLV)
 *   6. holdout table and the summary.json section
 *   7. files for `strata clv`: summary and transaction-log tables, predictions CSV
 *
 * Numerical notes.
 * - Both likelihoods are evaluated in log space with lgamma/digamma from GSL (thread-safe,
 *   unlike libm's lgamma, which writes the global signgam). Terms that depend on x only are
 *   computed once per distinct x per evaluation and weighted by the count of persons with
 *   that x, so an evaluation costs a few logs and one exp per person.
 * - Sums are formed per fixed chunk of persons and the chunk sums are added in chunk order,
 *   so results are bit-identical for any thread count.
 * - E[X(t)|x,t_x,T] needs 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t). GSL's
 *   gsl_sf_hyperg_2F1 refuses or loses accuracy for large parameters, and the raw series
 *   behaves like (1-z)^(a-1-r-x), which overflows for large x. Euler's transformation gives
 *   (1-z)^(r+x) 2F1(r+x, b+x; C; z) = (1-z)^(a-1) 2F1(A, a-1; C; z) with C = a+b+x-1,
 *   A = a+b-1-r, whose series converges at least as fast as z^n n^-(x+r-a+2). Writing
 *   (a-1)_n = (a-1)(a)_{n-1} and (C)_n = C (C+1)_{n-1} cancels the factor C/(a-1) of the
 *   formula term by term, which leaves
 *     E * (1 + odds) = C * (1 - (1-z)^(a-1)) / (a-1) - (1-z)^(a-1) * S,
 *     S = sum_{n>=1} (A)_n (a)_{n-1} / ((C+1)_{n-1} n!) z^n,
 *   with no singularity at a = 1 or C = 0 and nothing that overflows for any x.
 */
#include "models/clv.h"

#include "core/core.h"
#include "models/kmeans.h" /* st_table: the CSV reader of the model commands */

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ======================================================================================
 * 1. Calibration summary
 * ==================================================================================== */

strata_status st_clv_cbs_alloc(st_clv_cbs *cbs, size_t n, bool with_person)
{
    memset(cbs, 0, sizeof *cbs);
    size_t count = n ? n : 1;
    cbs->x = st_calloc(count, sizeof(double));
    cbs->t_x = st_calloc(count, sizeof(double));
    cbs->T = st_calloc(count, sizeof(double));
    cbs->m = st_calloc(count, sizeof(double));
    cbs->x_star = st_calloc(count, sizeof(double));
    if (with_person) cbs->person = st_calloc(count, sizeof(uint32_t));
    if (!cbs->x || !cbs->t_x || !cbs->T || !cbs->m || !cbs->x_star ||
        (with_person && !cbs->person)) {
        st_clv_cbs_clear(cbs);
        return STRATA_ENOMEM;
    }
    cbs->n = n;
    return STRATA_OK;
}

void st_clv_cbs_clear(st_clv_cbs *cbs)
{
    if (!cbs) return;
    st_free(cbs->person);
    st_free(cbs->x);
    st_free(cbs->t_x);
    st_free(cbs->T);
    st_free(cbs->m);
    st_free(cbs->x_star);
    memset(cbs, 0, sizeof *cbs);
}

strata_status st_clv_cbs_from_log(strata_ctx *ctx, const uint32_t *person, const int32_t *day,
                                  const double *amount, size_t n_tx, int32_t cal_end_day,
                                  int32_t holdout_end_day, st_clv_unit unit, st_clv_cbs *out)
{
    memset(out, 0, sizeof *out);
    if (unit != ST_CLV_DAYS && unit != ST_CLV_WEEKS)
        return st_error(ctx, STRATA_EINVAL, "clv: time unit must be days or weeks");
    if (cal_end_day == STRATA_DAY_NONE)
        return st_error(ctx, STRATA_EINVAL, "clv: a calibration end day is required");
    if (holdout_end_day != STRATA_DAY_NONE && holdout_end_day <= cal_end_day)
        return st_error(ctx, STRATA_EINVAL, "clv: the holdout must end after the calibration");
    /* Validate order first and count persons, so the output is allocated once. */
    size_t persons = 0;
    for (size_t i = 0; i < n_tx; i++) {
        if (day[i] == STRATA_DAY_NONE)
            return st_error(ctx, STRATA_EINVAL, "clv: transaction %zu has no day", i + 1);
        if (amount && !isfinite(amount[i]))
            return st_error(ctx, STRATA_EINVAL, "clv: transaction %zu has a non-finite amount",
                            i + 1);
        if (i == 0 || person[i] != person[i - 1]) {
            if (i > 0 && person[i] < person[i - 1])
                return st_error(ctx, STRATA_EINVAL,
                                "clv: transaction log not sorted by person at row %zu", i + 1);
            persons++;
        } else if (day[i] < day[i - 1]) {
            return st_error(ctx, STRATA_EINVAL, "clv: transaction log not sorted by day at row %zu",
                            i + 1);
        }
    }
    st_clv_cbs cbs;
    if (st_clv_cbs_alloc(&cbs, persons, true) != STRATA_OK)
        return st_error(ctx, STRATA_ENOMEM, "clv: out of memory for %zu persons", persons);
    const double per = (double)unit;
    size_t row = 0, late = 0;
    for (size_t i = 0; i < n_tx;) {
        size_t end = i;
        while (end < n_tx && person[end] == person[i])
            end++;
        int32_t first = day[i];
        if (first > cal_end_day) {
            late++;
            i = end;
            continue;
        }
        /* Walk the distinct purchase days of this person: the first day is the initial
         * purchase, later days in calibration are repeats, days in the holdout count once. */
        int32_t last = first;
        double repeats = 0, repeat_spend = 0, holdout = 0;
        size_t j = i;
        while (j < end) {
            int32_t d = day[j];
            double spend = 0;
            for (; j < end && day[j] == d; j++)
                if (amount) spend += amount[j];
            if (d == first) continue;
            if (d <= cal_end_day) {
                repeats += 1;
                repeat_spend += spend;
                last = d;
            } else if (holdout_end_day != STRATA_DAY_NONE && d <= holdout_end_day) {
                holdout += 1;
            }
        }
        cbs.person[row] = person[i];
        cbs.x[row] = repeats;
        cbs.t_x[row] = (double)(last - first) / per;
        cbs.T[row] = (double)(cal_end_day - first) / per;
        cbs.m[row] = repeats > 0 ? repeat_spend / repeats : 0;
        cbs.x_star[row] = holdout;
        row++;
        i = end;
    }
    cbs.n = row;
    cbs.n_late = late;
    *out = cbs;
    return STRATA_OK;
}

strata_status st_clv_cbs_validate(strata_ctx *ctx, const st_clv_cbs *cbs)
{
    for (size_t i = 0; i < cbs->n; i++) {
        double x = cbs->x[i], t_x = cbs->t_x[i], T = cbs->T[i];
        const char *why = NULL;
        if (!isfinite(x) || !isfinite(t_x) || !isfinite(T))
            why = "x, t_x and T must be numbers";
        else if (x < 0 || x != floor(x) || x > 1e9)
            why = "x must be a whole number >= 0";
        else if (T <= 0)
            why = "T must be > 0";
        else if (t_x < 0 || t_x > T * (1 + 1e-12))
            why = "t_x must be between 0 and T";
        else if (x == 0 && t_x != 0)
            why = "t_x must be 0 when x is 0";
        else if (cbs->m && (!isfinite(cbs->m[i]) || cbs->m[i] < 0))
            why = "m must be >= 0";
        else if (cbs->x_star && (!isfinite(cbs->x_star[i]) || cbs->x_star[i] < 0))
            why = "x_star must be >= 0";
        if (why)
            return st_error(ctx, STRATA_EINVAL, "clv: row %zu: %s (x=%g t_x=%g T=%g)", i + 1, why,
                            x, t_x, T);
    }
    return STRATA_OK;
}

/* ======================================================================================
 * 2. Deterministic parallel work over fixed chunks
 * ==================================================================================== */

#define CHUNK 8192 /* persons per chunk: the unit of both work sharing and summation order */

typedef void (*chunk_fn)(void *arg, size_t chunk);
typedef struct chunk_job {
    chunk_fn fn;
    void *arg;
} chunk_job;

static strata_status run_chunk_range(void *p, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    chunk_job *job = p;
    for (size_t c = begin; c < end; c++)
        job->fn(job->arg, c);
    return STRATA_OK;
}

/* Run fn(arg, c) for every chunk c on up to `threads` threads (core's st_parallel_for).
 * Each chunk writes only its own outputs and sums are added in chunk order afterwards, so
 * results do not depend on the thread count. */
static void parallel_chunks(unsigned threads, size_t nchunks, chunk_fn fn, void *arg)
{
    chunk_job job = {fn, arg};
    (void)st_parallel_for(threads, nchunks, run_chunk_range, &job);
}

static unsigned pick_threads(strata_ctx *ctx, unsigned requested, size_t n)
{
    if (n < 4 * CHUNK) return 1; /* thread start-up costs more than it saves */
    unsigned t = requested ? requested : (ctx ? st_threads(ctx) : 1);
    return t ? t : 1;
}

/* ======================================================================================
 * 3. Multi-start BFGS2 on log parameters
 * ==================================================================================== */

#define MAX_DIM 4
#define LOG_PARAM_LIMIT 30.0 /* |log parameter| beyond this is outside the model's range */

/* Mean negative log-likelihood and its gradient in log parameters (grad may be NULL). */
typedef double (*objective_fn)(void *data, const double *theta, double *grad);

typedef struct objective {
    objective_fn fn;
    void *data;
    int dim;
    int evaluations;
} objective;

static double obj_call(objective *o, const double *theta, double *grad)
{
    o->evaluations++;
    return o->fn(o->data, theta, grad);
}

static double obj_eval(objective *o, const gsl_vector *v, double *grad)
{
    double theta[MAX_DIM];
    for (int i = 0; i < o->dim; i++) {
        theta[i] = gsl_vector_get(v, (size_t)i);
        if (!(fabs(theta[i]) <= LOG_PARAM_LIMIT)) {
            if (grad)
                for (int j = 0; j < o->dim; j++)
                    grad[j] = 0;
            return GSL_POSINF;
        }
    }
    double f = obj_call(o, theta, grad);
    return isfinite(f) ? f : GSL_POSINF;
}

static double gsl_f(const gsl_vector *v, void *p)
{
    return obj_eval(p, v, NULL);
}

static void gsl_fdf(const gsl_vector *v, void *p, double *f, gsl_vector *g)
{
    objective *o = p;
    double grad[MAX_DIM];
    *f = obj_eval(o, v, grad);
    for (int i = 0; i < o->dim; i++)
        gsl_vector_set(g, (size_t)i, grad[i]);
}

static void gsl_df(const gsl_vector *v, void *p, gsl_vector *g)
{
    double f;
    gsl_fdf(v, p, &f, g);
}

typedef struct fit_outcome {
    double theta[MAX_DIM];
    double f;
    double grad_norm;
    int iterations;
    int starts, starts_converged;
    bool converged;
    bool found; /* some start ended at a finite value */
} fit_outcome;

/* Solve the dim x dim system A x = b (A overwritten) by Gaussian elimination with partial
 * pivoting; false when A is singular. */
static bool solve_small(double a[MAX_DIM][MAX_DIM], double *b, int dim)
{
    for (int c = 0; c < dim; c++) {
        int piv = c;
        for (int r = c + 1; r < dim; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
        if (!(fabs(a[piv][c]) > 1e-300)) return false;
        for (int k = 0; k < dim; k++) {
            double t = a[c][k];
            a[c][k] = a[piv][k], a[piv][k] = t;
        }
        double t = b[c];
        b[c] = b[piv], b[piv] = t;
        for (int r = c + 1; r < dim; r++) {
            double f = a[r][c] / a[c][c];
            for (int k = c; k < dim; k++)
                a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int r = dim - 1; r >= 0; r--) {
        for (int k = r + 1; k < dim; k++)
            b[r] -= a[r][k] * b[k];
        b[r] /= a[r][r];
    }
    return true;
}

/* Newton steps with a Hessian from central differences of the analytic gradient. BFGS2's
 * line search can stall a little short of the gradient test when the objective is a sum of
 * large terms that cancel; near the optimum Newton converges in a step or two. Updates
 * theta, *f and *gn; returns the gradient norm reached. */
static void newton_polish(objective *o, double *theta, double *f, double *gn, double gtol)
{
    const int dim = o->dim;
    for (int it = 0; it < 20; it++) {
        double g[MAX_DIM], h[MAX_DIM][MAX_DIM], step[MAX_DIM];
        double f0 = obj_call(o, theta, g), norm = 0;
        for (int i = 0; i < dim; i++)
            norm += g[i] * g[i];
        norm = sqrt(norm);
        *f = f0, *gn = norm;
        if (!isfinite(f0) || norm <= gtol) return;
        for (int j = 0; j < dim; j++) {
            double tp[MAX_DIM], tm[MAX_DIM], gp[MAX_DIM], gm[MAX_DIM], e = 1e-5;
            memcpy(tp, theta, sizeof tp);
            memcpy(tm, theta, sizeof tm);
            tp[j] += e, tm[j] -= e;
            obj_call(o, tp, gp);
            obj_call(o, tm, gm);
            for (int i = 0; i < dim; i++)
                h[i][j] = (gp[i] - gm[i]) / (2 * e);
        }
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < i; j++)
                h[i][j] = h[j][i] = (h[i][j] + h[j][i]) / 2;
        for (int i = 0; i < dim; i++)
            step[i] = -g[i];
        if (!solve_small(h, step, dim)) return;
        double slope = 0;
        for (int i = 0; i < dim; i++)
            slope += g[i] * step[i];
        if (!(slope < 0)) return; /* not a descent direction: the Hessian is not positive */
        double t = 1, trial[MAX_DIM], f1 = INFINITY;
        for (int k = 0; k < 30; k++, t /= 2) {
            for (int i = 0; i < dim; i++)
                trial[i] = theta[i] + t * step[i];
            bool inside = true;
            for (int i = 0; i < dim; i++)
                inside = inside && fabs(trial[i]) <= LOG_PARAM_LIMIT;
            if (!inside) continue;
            f1 = obj_call(o, trial, NULL);
            if (f1 <= f0 + 1e-4 * t * slope || (f1 <= f0 && t < 1e-3)) break;
        }
        if (!(f1 <= f0)) return;
        memcpy(theta, trial, (size_t)dim * sizeof(double));
    }
}

/* Minimise from every start and keep the lowest finite end point. Returns false when GSL
 * could not allocate its workspace. */
static bool minimize_multistart(objective *o, const double starts[][MAX_DIM], int nstarts,
                                int max_iter, double gtol, fit_outcome *best)
{
    /* GSL's default error handler aborts the process, which library code must never do;
     * every GSL status is checked here instead. (This is GSL's process-wide setting.) */
    gsl_set_error_handler_off();
    memset(best, 0, sizeof *best);
    best->f = GSL_POSINF;
    gsl_multimin_function_fdf fdf = {gsl_f, gsl_df, gsl_fdf, (size_t)o->dim, (void *)o};
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, (size_t)o->dim);
    gsl_vector *x0 = gsl_vector_alloc((size_t)o->dim);
    if (!s || !x0) {
        if (s) gsl_multimin_fdfminimizer_free(s);
        if (x0) gsl_vector_free(x0);
        return false;
    }
    for (int k = 0; k < nstarts; k++) {
        for (int i = 0; i < o->dim; i++)
            gsl_vector_set(x0, (size_t)i, starts[k][i]);
        best->starts++;
        if (gsl_multimin_fdfminimizer_set(s, &fdf, x0, 0.1, 0.1) != GSL_SUCCESS) continue;
        if (!isfinite(s->f)) continue;
        int iter = 0;
        bool conv = false;
        /* BFGS2 may stop making progress (GSL_ENOPROG) a little before the gradient test
         * passes; one restart of the Hessian approximation usually finishes the job. */
        int restarts = 0;
        while (iter < max_iter) {
            iter++;
            int status = gsl_multimin_fdfminimizer_iterate(s);
            if (gsl_multimin_test_gradient(s->gradient, gtol) == GSL_SUCCESS) {
                conv = true;
                break;
            }
            if (status != GSL_SUCCESS) {
                if (restarts++ >= 2) break;
                gsl_multimin_fdfminimizer_restart(s);
            }
        }
        double gn = gsl_blas_dnrm2(s->gradient), f = s->f, theta[MAX_DIM];
        for (int i = 0; i < o->dim; i++)
            theta[i] = gsl_vector_get(s->x, (size_t)i);
        if (!conv && isfinite(f) && gn < 1e-2) newton_polish(o, theta, &f, &gn, gtol);
        if (!conv && gn <= gtol) conv = true;
        if (conv) best->starts_converged++;
        if (isfinite(f) && f < best->f) {
            best->f = f;
            best->found = true;
            best->converged = conv;
            best->grad_norm = gn;
            best->iterations = iter;
            memcpy(best->theta, theta, sizeof theta);
        }
    }
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(x0);
    return true;
}

/* ======================================================================================
 * 4. Likelihoods and fits
 * ==================================================================================== */

/* Distinct x values with their counts, and each row's index into them. */
typedef struct xgroups {
    double *value;
    double *count;
    size_t n;
    uint32_t *row_group; /* per row */
} xgroups;

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static void xgroups_clear(xgroups *g)
{
    st_free(g->value);
    st_free(g->count);
    st_free(g->row_group);
    memset(g, 0, sizeof *g);
}

/* Group the rows with keep[i] (NULL = all) by x. O(n log n). */
static strata_status xgroups_build(const double *x, const bool *keep, size_t n, xgroups *g)
{
    memset(g, 0, sizeof *g);
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += !keep || keep[i];
    double *sorted = st_malloc((used ? used : 1) * sizeof(double));
    g->row_group = st_calloc(n ? n : 1, sizeof(uint32_t));
    if (!sorted || !g->row_group) goto oom;
    used = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep[i]) sorted[used++] = x[i];
    qsort(sorted, used, sizeof(double), cmp_double);
    size_t distinct = 0;
    for (size_t i = 0; i < used; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[distinct++] = sorted[i];
    g->value = st_malloc((distinct ? distinct : 1) * sizeof(double));
    g->count = st_calloc(distinct ? distinct : 1, sizeof(double));
    if (!g->value || !g->count) goto oom;
    memcpy(g->value, sorted, distinct * sizeof(double));
    g->n = distinct;
    for (size_t i = 0; i < n; i++) {
        if (keep && !keep[i]) continue;
        size_t lo = 0, hi = distinct; /* binary search: value[lo] == x[i] */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (g->value[mid] <= x[i])
                lo = mid;
            else
                hi = mid;
        }
        g->row_group[i] = (uint32_t)lo;
        g->count[lo] += 1;
    }
    st_free(sorted);
    return STRATA_OK;
oom:
    st_free(sorted);
    xgroups_clear(g);
    return STRATA_ENOMEM;
}

/* ---- BG/NBD ----
 * Per person (FHL 2005 eq. 6, in logs):
 *   LL = [lgamma(r+x) - lgamma(r) + r log alpha] + [lgamma(a+b) + lgamma(b+x) - lgamma(b)
 *        - lgamma(a+b+x)] + log( exp(L3) + [x>0] exp(L4) ),
 *   L3 = -(r+x) log(alpha+T),  L4 = log a - log(b+x-1) - (r+x) log(alpha+t_x).
 * The brackets depend on x only (summed per group); the last term is per person. */
enum { BG_LL, BG_DR, BG_DALPHA, BG_DA, BG_DB, BG_NSUM };

typedef struct bg_data {
    const double *x, *t_x, *T;
    size_t n;
    xgroups groups;
    double *inv_bx1; /* per group: 1/(b+x-1) for x > 0 */
    double *log_bx1; /* per group: log(b+x-1) */
    double *partial; /* per chunk: BG_NSUM sums */
    size_t nchunks;
    unsigned threads;
    double r, alpha, a, b, log_a;
    bool want_grad;
} bg_data;

static void bg_chunk(void *arg, size_t chunk)
{
    bg_data *d = arg;
    size_t lo = chunk * CHUNK, hi = ST_MIN(d->n, lo + CHUNK);
    double ll = 0, g_r = 0, g_alpha = 0, g_a = 0, g_b = 0;
    const double r = d->r, alpha = d->alpha, log_a = d->log_a;
    for (size_t i = lo; i < hi; i++) {
        double x = d->x[i], rx = r + x;
        double log_aT = log(alpha + d->T[i]);
        double l3 = -rx * log_aT;
        if (x > 0) {
            uint32_t gi = d->groups.row_group[i];
            double log_atx = log(alpha + d->t_x[i]);
            double l4 = log_a - d->log_bx1[gi] - rx * log_atx;
            double hi_l = l3 > l4 ? l3 : l4, lo_l = l3 > l4 ? l4 : l3;
            double e = exp(lo_l - hi_l);
            ll += hi_l + log(1 + e); /* e in (0, 1]: log1p buys nothing here */
            if (d->want_grad) {
                /* weights of the two terms of the log-sum-exp */
                double w_hi = 1 / (1 + e), w_lo = e / (1 + e);
                double w3 = l3 > l4 ? w_hi : w_lo, w4 = l3 > l4 ? w_lo : w_hi;
                g_r -= w3 * log_aT + w4 * log_atx;
                g_alpha -= rx * (w3 / (alpha + d->T[i]) + w4 / (alpha + d->t_x[i]));
                g_a += w4;
                g_b -= w4 * d->inv_bx1[gi];
            }
        } else {
            ll += l3;
            if (d->want_grad) {
                g_r -= log_aT;
                g_alpha -= rx / (alpha + d->T[i]);
            }
        }
    }
    double *out = d->partial + chunk * BG_NSUM;
    out[BG_LL] = ll;
    out[BG_DR] = g_r;
    out[BG_DALPHA] = g_alpha;
    out[BG_DA] = g_a;
    out[BG_DB] = g_b;
}

/* Total log-likelihood at (r, alpha, a, b); gradient w.r.t. the parameters into grad[4]. */
static double bg_loglik(bg_data *d, const double p[4], double *grad)
{
    d->r = p[0], d->alpha = p[1], d->a = p[2], d->b = p[3];
    d->log_a = log(d->a);
    d->want_grad = grad != NULL;
    const double r = d->r, alpha = d->alpha, a = d->a, b = d->b;
    for (size_t k = 0; k < d->groups.n; k++) {
        double v = d->groups.value[k];
        if (v > 0) {
            d->log_bx1[k] = log(b + v - 1);
            d->inv_bx1[k] = 1 / (b + v - 1);
        }
    }
    parallel_chunks(d->threads, d->nchunks, bg_chunk, d);
    double s[BG_NSUM] = {0};
    for (size_t c = 0; c < d->nchunks; c++)
        for (int j = 0; j < BG_NSUM; j++)
            s[j] += d->partial[c * BG_NSUM + j];
    /* x-only terms, per distinct x */
    const double lg_r = gsl_sf_lngamma(r), lg_b = gsl_sf_lngamma(b), lg_ab = gsl_sf_lngamma(a + b),
                 log_alpha = log(alpha);
    const double psi_r = grad ? gsl_sf_psi(r) : 0, psi_b = grad ? gsl_sf_psi(b) : 0,
                 psi_ab = grad ? gsl_sf_psi(a + b) : 0;
    double ll = s[BG_LL], n = (double)d->n;
    ll += n * r * log_alpha;
    double g_r = s[BG_DR] + n * log_alpha, g_alpha = s[BG_DALPHA] + n * r / alpha;
    double g_a = s[BG_DA] / a, g_b = s[BG_DB];
    for (size_t k = 0; k < d->groups.n; k++) {
        double v = d->groups.value[k], c = d->groups.count[k];
        if (v == 0) continue; /* every x-only bracket is 0 at x = 0 */
        ll += c * (gsl_sf_lngamma(r + v) - lg_r + lg_ab + gsl_sf_lngamma(b + v) - lg_b -
                   gsl_sf_lngamma(a + b + v));
        if (grad) {
            double psi_abx = gsl_sf_psi(a + b + v);
            g_r += c * (gsl_sf_psi(r + v) - psi_r);
            g_a += c * (psi_ab - psi_abx);
            g_b += c * (psi_ab + gsl_sf_psi(b + v) - psi_b - psi_abx);
        }
    }
    if (grad) {
        grad[0] = g_r;
        grad[1] = g_alpha;
        grad[2] = g_a;
        grad[3] = g_b;
    }
    return ll;
}

static double bg_objective(void *data, const double *theta, double *grad)
{
    bg_data *d = data;
    double p[4], g[4];
    for (int i = 0; i < 4; i++)
        p[i] = exp(theta[i]);
    double ll = bg_loglik(d, p, grad ? g : NULL);
    double n = (double)d->n;
    if (grad)
        for (int i = 0; i < 4; i++)
            grad[i] = -p[i] * g[i] / n; /* chain rule: d/dlog p */
    return -ll / n;
}

static void bg_data_clear(bg_data *d)
{
    xgroups_clear(&d->groups);
    st_free(d->inv_bx1);
    st_free(d->log_bx1);
    st_free(d->partial);
}

static strata_status bg_data_init(bg_data *d, const double *x, const double *t_x, const double *T,
                                  size_t n, unsigned threads)
{
    memset(d, 0, sizeof *d);
    d->x = x, d->t_x = t_x, d->T = T, d->n = n, d->threads = threads;
    d->nchunks = (n + CHUNK - 1) / CHUNK;
    if (xgroups_build(x, NULL, n, &d->groups) != STRATA_OK) return STRATA_ENOMEM;
    size_t ng = d->groups.n ? d->groups.n : 1;
    d->inv_bx1 = st_calloc(ng, sizeof(double));
    d->log_bx1 = st_calloc(ng, sizeof(double));
    d->partial = st_calloc(d->nchunks ? d->nchunks * BG_NSUM : 1, sizeof(double));
    if (!d->inv_bx1 || !d->log_bx1 || !d->partial) {
        bg_data_clear(d);
        return STRATA_ENOMEM;
    }
    return STRATA_OK;
}

static void fit_opts_resolve(const st_clv_fit_opts *opts, int *max_iter, double *gtol,
                             unsigned *threads)
{
    *max_iter = opts && opts->max_iter > 0 ? opts->max_iter : 500;
    *gtol = opts && opts->gtol > 0 ? opts->gtol : 1e-7;
    *threads = opts ? opts->threads : 0;
}

static strata_status check_columns(strata_ctx *ctx, const double *x, const double *t_x,
                                   const double *T, size_t n)
{
    st_clv_cbs view = {.n = n, .x = (double *)x, .t_x = (double *)t_x, .T = (double *)T};
    return st_clv_cbs_validate(ctx, &view);
}

#define FIT_SUBSAMPLE 50000 /* persons in the multi-start search of a large fit */

/* Multi-start search on a random subsample of about FIT_SUBSAMPLE rows (rows kept by a hash
 * of their index, so the sample is the same on every run). *found false when the sample has
 * no repeat purchase. */
static strata_status bg_search_subsample(strata_ctx *ctx, const double *x, const double *t_x,
                                         const double *T, size_t n, unsigned threads, int max_iter,
                                         double gtol, const double starts[3][MAX_DIM],
                                         fit_outcome *out, int *evaluations)
{
    memset(out, 0, sizeof *out);
    double *sx = st_malloc(2 * FIT_SUBSAMPLE * sizeof(double));
    double *stx = st_malloc(2 * FIT_SUBSAMPLE * sizeof(double));
    double *sT = st_malloc(2 * FIT_SUBSAMPLE * sizeof(double));
    strata_status st = STRATA_ENOMEM;
    if (!sx || !stx || !sT) goto done;
    const uint64_t keep_below = (uint64_t)((double)FIT_SUBSAMPLE / (double)n * 0x1p64);
    size_t m = 0;
    double sum_x = 0;
    for (size_t i = 0; i < n && m < 2 * FIT_SUBSAMPLE; i++) {
        if (st_hash_mix(0x636c76ULL, (uint64_t)i) >= keep_below) continue;
        sx[m] = x[i], stx[m] = t_x[i], sT[m] = T[i];
        sum_x += x[i];
        m++;
    }
    st = STRATA_OK;
    if (m < 2 || sum_x <= 0) goto done; /* not found: the caller searches on everyone */
    bg_data d;
    if (bg_data_init(&d, sx, stx, sT, m, pick_threads(ctx, threads, m)) != STRATA_OK) {
        st = STRATA_ENOMEM;
        goto done;
    }
    objective o = {bg_objective, &d, 4, 0};
    if (!minimize_multistart(&o, starts, 3, max_iter, gtol, out)) st = STRATA_ENOMEM;
    *evaluations += o.evaluations;
    bg_data_clear(&d);
done:
    st_free(sx);
    st_free(stx);
    st_free(sT);
    if (st == STRATA_ENOMEM) return st_error(ctx, st, "clv: out of memory fitting BG/NBD");
    return st;
}

strata_status st_bgnbd_fit(strata_ctx *ctx, const double *x, const double *t_x, const double *T,
                           size_t n, const st_clv_fit_opts *opts, st_bgnbd *out)
{
    memset(out, 0, sizeof *out);
    strata_status st = check_columns(ctx, x, t_x, T, n);
    if (st != STRATA_OK) return st;
    double sum_x = 0, sum_T = 0;
    for (size_t i = 0; i < n; i++)
        sum_x += x[i], sum_T += T[i];
    if (n < 2 || sum_x <= 0)
        return st_error(ctx, STRATA_EDATA,
                        "clv: BG/NBD needs at least 2 persons and some repeat purchases "
                        "(%zu persons, %.0f repeat purchases)",
                        n, sum_x);
    int max_iter;
    double gtol;
    unsigned threads;
    fit_opts_resolve(opts, &max_iter, &gtol, &threads);
    /* Starts: the neutral point of lifetimes (all parameters 1) and two points whose mean
     * purchase rate r/alpha matches the data's repeat rate, with more and less dropout. */
    double rate = sum_x / sum_T;
    double starts[3][MAX_DIM] = {
        {0, 0, 0, 0},
        {0, log(1 / rate), 0, 0},
        {log(0.5), log(0.5 / rate), log(0.5), log(3.0)},
    };
    int nstarts = 3, evaluations = 0;
    fit_outcome search = {.starts = 0};
    /* On many persons the search from every start runs on a random subsample, and only its
     * best end point is refined on everyone: the subsample's optimum is within sampling
     * error of the full one, so the full-data run needs a few iterations instead of
     * hundreds of likelihood evaluations. */
    if (n > FIT_SUBSAMPLE) {
        st = bg_search_subsample(ctx, x, t_x, T, n, threads, max_iter, gtol, starts, &search,
                                 &evaluations);
        if (st != STRATA_OK) return st;
        if (search.found) {
            memcpy(starts[0], search.theta, sizeof starts[0]);
            nstarts = 1;
        }
    }
    bg_data d;
    if (bg_data_init(&d, x, t_x, T, n, pick_threads(ctx, threads, n)) != STRATA_OK)
        return st_error(ctx, STRATA_ENOMEM, "clv: out of memory fitting BG/NBD");
    objective o = {bg_objective, &d, 4, 0};
    fit_outcome best;
    bool ok =
        minimize_multistart(&o, (const double(*)[MAX_DIM])starts, nstarts, max_iter, gtol, &best);
    if (ok && nstarts == 1 && !best.converged) {
        /* the refinement failed: fall back to every start on every person */
        const double all[3][MAX_DIM] = {
            {0, 0, 0, 0},
            {0, log(1 / rate), 0, 0},
            {log(0.5), log(0.5 / rate), log(0.5), log(3.0)},
        };
        fit_outcome again;
        ok = minimize_multistart(&o, all, 3, max_iter, gtol, &again);
        if (ok && again.found && (!best.found || again.f < best.f)) best = again;
        search.starts = 0;
    }
    if (!ok) {
        bg_data_clear(&d);
        return st_error(ctx, STRATA_ENOMEM, "clv: out of memory in the optimiser");
    }
    if (!best.found) {
        bg_data_clear(&d);
        return st_error(ctx, STRATA_EMODEL,
                        "clv: BG/NBD fit failed: no starting point reached a finite likelihood");
    }
    if (search.starts) { /* report the starts of the search, not the one refinement */
        best.starts = search.starts;
        best.starts_converged = search.starts_converged;
    }
    out->r = exp(best.theta[0]);
    out->alpha = exp(best.theta[1]);
    out->a = exp(best.theta[2]);
    out->b = exp(best.theta[3]);
    out->ll = -best.f * (double)n;
    out->n = n;
    out->iterations = best.iterations;
    out->starts = best.starts;
    out->starts_converged = best.starts_converged;
    out->grad_norm = best.grad_norm;
    out->converged = best.converged;
    out->evaluations = o.evaluations + evaluations;
    bg_data_clear(&d);
    if (!best.converged) {
        st_bgnbd failed = *out;
        memset(out, 0, sizeof *out);
        return st_error(ctx, STRATA_EMODEL,
                        "clv: BG/NBD fit did not converge (best LL %.4f, |gradient| %.3g after "
                        "%d iterations; r=%g alpha=%g a=%g b=%g)",
                        failed.ll, failed.grad_norm, failed.iterations, failed.r, failed.alpha,
                        failed.a, failed.b);
    }
    return STRATA_OK;
}

double st_bgnbd_loglik(const st_bgnbd *model, const double *x, const double *t_x, const double *T,
                       size_t n)
{
    bg_data d;
    if (check_columns(NULL, x, t_x, T, n) != STRATA_OK) return NAN;
    if (bg_data_init(&d, x, t_x, T, n, 1) != STRATA_OK) return NAN;
    double p[4] = {model->r, model->alpha, model->a, model->b};
    double ll = bg_loglik(&d, p, NULL);
    bg_data_clear(&d);
    return ll;
}

/* ---- Gamma-Gamma ----
 * Per person with x > 0, m > 0 (FHL 2005 JMR; lifetimes' GammaGammaFitter):
 *   LL = lgamma(px+q) - lgamma(px) - lgamma(q) + q log g + (px-1) log m + px log x
 *        - (px+q) log(g + m x)
 * lgamma/digamma of px and px+q depend on x only; the per-person part is log(g + m x). */
enum { GG_LOG, GG_XLOG, GG_RATIO, GG_XRATIO, GG_NSUM };

typedef struct gg_data {
    const double *x, *m;
    const bool *keep;
    size_t n, used;
    xgroups groups;
    double sum_log_m, sum_x_log_m, sum_x_log_x; /* constants over the used rows */
    double *partial;
    size_t nchunks;
    unsigned threads;
    double gam;
} gg_data;

static void gg_chunk(void *arg, size_t chunk)
{
    gg_data *d = arg;
    size_t lo = chunk * CHUNK, hi = ST_MIN(d->n, lo + CHUNK);
    double s_log = 0, s_xlog = 0, s_ratio = 0, s_xratio = 0;
    for (size_t i = lo; i < hi; i++) {
        if (!d->keep[i]) continue;
        double x = d->x[i], den = d->gam + d->m[i] * x;
        double l = log(den);
        s_log += l;
        s_xlog += x * l;
        s_ratio += 1 / den;
        s_xratio += x / den;
    }
    double *out = d->partial + chunk * GG_NSUM;
    out[GG_LOG] = s_log;
    out[GG_XLOG] = s_xlog;
    out[GG_RATIO] = s_ratio;
    out[GG_XRATIO] = s_xratio;
}

static double gg_loglik(gg_data *d, double p, double q, double gam, double grad[3])
{
    d->gam = gam;
    parallel_chunks(d->threads, d->nchunks, gg_chunk, d);
    double s[GG_NSUM] = {0};
    for (size_t c = 0; c < d->nchunks; c++)
        for (int j = 0; j < GG_NSUM; j++)
            s[j] += d->partial[c * GG_NSUM + j];
    double used = (double)d->used;
    /* sum of -(px+q) log(g+mx) = -p*sum(x log) - q*sum(log) */
    double ll = -p * s[GG_XLOG] - q * s[GG_LOG];
    ll += used * (q * log(gam) - gsl_sf_lngamma(q));
    ll += p * d->sum_x_log_m - d->sum_log_m + p * d->sum_x_log_x;
    double g_p = d->sum_x_log_m + d->sum_x_log_x - s[GG_XLOG];
    double g_q = used * (log(gam) - (grad ? gsl_sf_psi(q) : 0)) - s[GG_LOG];
    /* d/dg of -(px+q) log(g+mx) = -(px+q)/(g+mx) */
    double g_g = used * q / gam - p * s[GG_XRATIO] - q * s[GG_RATIO];
    for (size_t k = 0; k < d->groups.n; k++) {
        double v = d->groups.value[k], c = d->groups.count[k], px = p * v;
        ll += c * (gsl_sf_lngamma(px + q) - gsl_sf_lngamma(px));
        if (grad) {
            double psi_pxq = gsl_sf_psi(px + q);
            g_p += c * v * (psi_pxq - gsl_sf_psi(px));
            g_q += c * psi_pxq;
        }
    }
    if (grad) {
        grad[0] = g_p;
        grad[1] = g_q;
        grad[2] = g_g;
    }
    return ll;
}

static double gg_objective(void *data, const double *theta, double *grad)
{
    gg_data *d = data;
    double p = exp(theta[0]), q = exp(theta[1]), gam = exp(theta[2]), g[3];
    double ll = gg_loglik(d, p, q, gam, grad ? g : NULL);
    double used = (double)d->used;
    if (grad) {
        grad[0] = -p * g[0] / used;
        grad[1] = -q * g[1] / used;
        grad[2] = -gam * g[2] / used;
    }
    return -ll / used;
}

strata_status st_gammagamma_fit(strata_ctx *ctx, const double *x, const double *m, size_t n,
                                const st_clv_fit_opts *opts, st_gammagamma *out)
{
    memset(out, 0, sizeof *out);
    gg_data d;
    memset(&d, 0, sizeof d);
    bool *keep = st_calloc(n ? n : 1, sizeof(bool));
    if (!keep) return st_error(ctx, STRATA_ENOMEM, "clv: out of memory fitting Gamma-Gamma");
    size_t excluded = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(m[i]) || x[i] < 0) {
            st_free(keep);
            return st_error(ctx, STRATA_EINVAL, "clv: row %zu: bad x or m for Gamma-Gamma", i + 1);
        }
        if (x[i] <= 0) continue;
        if (m[i] <= 0) {
            excluded++;
            continue;
        }
        keep[i] = true;
        d.used++;
        double log_m = log(m[i]);
        d.sum_log_m += log_m;
        d.sum_x_log_m += x[i] * log_m;
        d.sum_x_log_x += x[i] * log(x[i]);
    }
    if (d.used < 2) {
        st_free(keep);
        return st_error(ctx, STRATA_EDATA,
                        "clv: Gamma-Gamma needs at least 2 persons with repeat purchases and "
                        "positive spend (have %zu)",
                        d.used);
    }
    int max_iter;
    double gtol;
    unsigned threads;
    fit_opts_resolve(opts, &max_iter, &gtol, &threads);
    d.x = x, d.m = m, d.keep = keep, d.n = n;
    d.threads = pick_threads(ctx, threads, n);
    d.nchunks = (n + CHUNK - 1) / CHUNK;
    d.partial = st_calloc(d.nchunks * GG_NSUM, sizeof(double));
    if (!d.partial || xgroups_build(x, keep, n, &d.groups) != STRATA_OK) {
        st_free(d.partial);
        st_free(keep);
        return st_error(ctx, STRATA_ENOMEM, "clv: out of memory fitting Gamma-Gamma");
    }
    /* Starts: lifetimes' neutral point, and a moment match: with p = 2, q = 3 the mean of
     * spend is p*g/(q-1) = g, so g = the mean repeat spend. */
    double mean_m = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) mean_m += m[i];
    mean_m /= (double)d.used;
    const double starts[2][MAX_DIM] = {{0, 0, 0, 0}, {log(2.0), log(3.0), log(mean_m), 0}};
    objective o = {gg_objective, &d, 3, 0};
    fit_outcome best;
    bool ok = minimize_multistart(&o, starts, 2, max_iter, gtol, &best);
    xgroups_clear(&d.groups);
    st_free(d.partial);
    st_free(keep);
    if (!ok) return st_error(ctx, STRATA_ENOMEM, "clv: out of memory in the optimiser");
    if (!best.found || !best.converged)
        return st_error(ctx, STRATA_EMODEL,
                        "clv: Gamma-Gamma fit did not converge (|gradient| %.3g after %d "
                        "iterations)",
                        best.grad_norm, best.iterations);
    double p = exp(best.theta[0]), q = exp(best.theta[1]), gam = exp(best.theta[2]);
    if (q <= 1)
        return st_error(ctx, STRATA_EMODEL,
                        "clv: Gamma-Gamma estimate q=%g <= 1 means unbounded mean spend; the "
                        "spend data do not fit the model",
                        q);
    out->p = p, out->q = q, out->gamma = gam;
    out->ll = -best.f * (double)d.used;
    out->n = d.used;
    out->n_excluded = excluded;
    out->iterations = best.iterations;
    out->starts = best.starts;
    out->starts_converged = best.starts_converged;
    out->grad_norm = best.grad_norm;
    out->converged = true;
    out->evaluations = o.evaluations;
    return STRATA_OK;
}

/* ======================================================================================
 * 5. Per-person predictions
 * ==================================================================================== */

/* log of the odds of "dropped out" vs "alive" given the history; -inf when x = 0. */
static double log_dropout_odds(const st_bgnbd *md, double x, double t_x, double T)
{
    if (x <= 0) return -INFINITY;
    /* log((alpha+T)/(alpha+t_x)) via log1p: the two logs nearly cancel when t_x is close
     * to T, and the difference is multiplied by r + x, which may be 10^4 or more */
    return log(md->a) - log(md->b + x - 1) + (md->r + x) * log1p((T - t_x) / (md->alpha + t_x));
}

/* 1 / (1 + exp(l)) without overflow. */
static double inv_one_plus_exp(double l)
{
    if (l > 0) {
        double e = exp(-l);
        return e / (1 + e);
    }
    return 1 / (1 + exp(l));
}

double st_bgnbd_p_alive(const st_bgnbd *model, double x, double t_x, double T)
{
    return inv_one_plus_exp(log_dropout_odds(model, x, t_x, T));
}

#define SERIES_MAX_TERMS 1000000

/* E[X(t)] * (1 + odds): see the derivation at the top of the file. */
static double expected_numerator(const st_bgnbd *md, double t, double x, double T)
{
    if (!(t > 0)) return 0;
    const double a = md->a, beta = a - 1;
    const double C = md->a + md->b + x - 1, A = md->a + md->b - 1 - md->r;
    const double z = t / (md->alpha + T + t);
    const double L = -log1p(-z); /* -log(1-z) > 0 */
    /* g = (1 - (1-z)^beta) / beta, continuous at beta = 0 */
    double g = fabs(beta * L) < 1e-8 ? L * (1 - beta * L / 2) : -expm1(-beta * L) / beta;
    double pow_1mz = exp(-beta * L); /* (1-z)^(a-1) */
    /* S = sum_{n>=1} u_n,  u_1 = A z,  u_{n+1} = u_n (A+n)(a+n-1) z / ((C+n)(n+1)) */
    double term = A * z, sum = term, ratio = 0;
    for (int k = 1; k < SERIES_MAX_TERMS && term != 0; k++) {
        ratio = (A + k) * (a + k - 1) * z / ((C + k) * (k + 1));
        term *= ratio;
        sum += term;
        /* stop once the terms shrink geometrically below double precision of the sum */
        if (fabs(ratio) < 1 && fabs(term) <= 1e-17 * fabs(sum) + 1e-300) break;
        if (k == SERIES_MAX_TERMS - 1 && fabs(ratio) < 1)
            sum += term * ratio / (1 - ratio); /* tail estimate for z extremely close to 1 */
    }
    return C * g - pow_1mz * sum;
}

double st_bgnbd_expected(const st_bgnbd *model, double t, double x, double t_x, double T)
{
    double num = expected_numerator(model, t, x, T);
    double e = num * inv_one_plus_exp(log_dropout_odds(model, x, t_x, T));
    return e > 0 && isfinite(e) ? e : 0;
}

double st_bgnbd_expected_new(const st_bgnbd *model, double t)
{
    return st_bgnbd_expected(model, t, 0, 0, 0);
}

double st_gammagamma_aov(const st_gammagamma *model, double x, double m)
{
    double p = model->p, q = model->q;
    double pop = p * model->gamma / (q - 1);
    if (!(x > 0) || !(m > 0)) return pop;
    double w = p * x / (p * x + q - 1); /* weight of the person's own mean */
    return (1 - w) * pop + w * m;
}

void st_clv_predict_defaults(st_clv_predict_opts *opts, st_clv_unit unit)
{
    memset(opts, 0, sizeof *opts);
    bool weeks = unit == ST_CLV_WEEKS;
    opts->horizon = weeks ? 13 : 90;
    opts->months = 12;
    opts->month_length = weeks ? 4.345 : 30;
    opts->discount = 0.01;
}

void st_clv_preds_clear(st_clv_preds *preds)
{
    if (!preds) return;
    st_free(preds->p_alive);
    st_free(preds->exp_purchases);
    st_free(preds->exp_aov);
    st_free(preds->clv);
    memset(preds, 0, sizeof *preds);
}

typedef struct predict_job {
    const st_bgnbd *model;
    const st_gammagamma *spend;
    const st_clv_cbs *cbs;
    const st_clv_predict_opts *opts;
    st_clv_preds *out;
} predict_job;

static void predict_chunk(void *arg, size_t chunk)
{
    predict_job *j = arg;
    const st_clv_cbs *c = j->cbs;
    size_t lo = chunk * CHUNK, hi = ST_MIN(c->n, lo + CHUNK);
    for (size_t i = lo; i < hi; i++) {
        double x = c->x[i], t_x = c->t_x[i], T = c->T[i];
        double alive = inv_one_plus_exp(log_dropout_odds(j->model, x, t_x, T));
        j->out->p_alive[i] = alive;
        double e = expected_numerator(j->model, j->opts->horizon, x, T) * alive;
        j->out->exp_purchases[i] = e > 0 && isfinite(e) ? e : 0;
        if (!j->spend) continue;
        double aov = st_gammagamma_aov(j->spend, x, c->m ? c->m[i] : 0);
        j->out->exp_aov[i] = aov;
        double clv = 0, prev = 0, disc = 1;
        for (int k = 1; k <= j->opts->months; k++) {
            double cum = expected_numerator(j->model, k * j->opts->month_length, x, T) * alive;
            if (!(cum > prev) || !isfinite(cum)) cum = prev; /* E[X(t)] is non-decreasing */
            disc /= 1 + j->opts->discount;
            clv += (cum - prev) * aov * disc;
            prev = cum;
        }
        j->out->clv[i] = clv;
    }
}

strata_status st_clv_predict(strata_ctx *ctx, const st_bgnbd *model, const st_gammagamma *spend,
                             const st_clv_cbs *cbs, const st_clv_predict_opts *opts,
                             st_clv_preds *out)
{
    memset(out, 0, sizeof *out);
    if (!(opts->horizon >= 0) || !isfinite(opts->horizon) || opts->months < 0 ||
        opts->months > 1200 || !(opts->month_length > 0) || !isfinite(opts->month_length) ||
        !(opts->discount > -1) || !isfinite(opts->discount))
        return st_error(ctx, STRATA_EINVAL,
                        "clv: bad prediction options (horizon %g, months %d, month length %g, "
                        "discount %g)",
                        opts->horizon, opts->months, opts->month_length, opts->discount);
    if (!(model->r > 0 && model->alpha > 0 && model->a > 0 && model->b > 0))
        return st_error(ctx, STRATA_EMODEL, "clv: the BG/NBD model has no fitted parameters");
    if (spend && !(spend->p > 0 && spend->q > 1 && spend->gamma > 0))
        return st_error(ctx, STRATA_EMODEL,
                        "clv: the Gamma-Gamma model needs p > 0, q > 1, gamma > 0");
    strata_status st = st_clv_cbs_validate(ctx, cbs);
    if (st != STRATA_OK) return st;
    size_t n = cbs->n ? cbs->n : 1;
    out->p_alive = st_malloc(n * sizeof(double));
    out->exp_purchases = st_malloc(n * sizeof(double));
    if (spend) {
        out->exp_aov = st_malloc(n * sizeof(double));
        out->clv = st_malloc(n * sizeof(double));
    }
    if (!out->p_alive || !out->exp_purchases || (spend && (!out->exp_aov || !out->clv))) {
        st_clv_preds_clear(out);
        return st_error(ctx, STRATA_ENOMEM, "clv: out of memory for %zu predictions", cbs->n);
    }
    out->n = cbs->n;
    predict_job job = {model, spend, cbs, opts, out};
    parallel_chunks(pick_threads(ctx, opts->threads, cbs->n), (cbs->n + CHUNK - 1) / CHUNK,
                    predict_chunk, &job);
    return STRATA_OK;
}

/* ======================================================================================
 * 6. Holdout table and summary
 * ==================================================================================== */

static int freq_group(double x)
{
    return x >= ST_CLV_GROUPS - 1 ? ST_CLV_GROUPS - 1 : (int)x;
}

strata_status st_clv_holdout_table(strata_ctx *ctx, const st_bgnbd *model, const st_clv_cbs *cbs,
                                   double duration, st_clv_holdout *out)
{
    memset(out, 0, sizeof *out);
    if (!(duration > 0) || !isfinite(duration) || !cbs->x_star)
        return st_error(ctx, STRATA_EINVAL,
                        "clv: the holdout check needs a holdout length > 0 and x_star values");
    out->duration = duration;
    for (size_t i = 0; i < cbs->n; i++) {
        int g = freq_group(cbs->x[i]);
        double pred = st_bgnbd_expected(model, duration, cbs->x[i], cbs->t_x[i], cbs->T[i]);
        out->persons[g]++;
        out->actual_mean[g] += cbs->x_star[i];
        out->predicted_mean[g] += pred;
        out->actual_total += cbs->x_star[i];
        out->predicted_total += pred;
    }
    for (int g = 0; g < ST_CLV_GROUPS; g++) {
        if (!out->persons[g]) continue;
        out->actual_mean[g] /= (double)out->persons[g];
        out->predicted_mean[g] /= (double)out->persons[g];
    }
    return STRATA_OK;
}

/* cJSON helpers that remember a failure instead of checking every call. */
typedef struct jb {
    bool failed;
} jb;

static cJSON *jb_obj(jb *b, cJSON *parent, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        b->failed = true;
    else if (parent && !cJSON_AddItemToObject(parent, name, o)) {
        cJSON_Delete(o);
        b->failed = true;
        return NULL;
    }
    return o;
}

static cJSON *jb_arr(jb *b, cJSON *parent, const char *name)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        b->failed = true;
    else if (parent && !cJSON_AddItemToObject(parent, name, a)) {
        cJSON_Delete(a);
        b->failed = true;
        return NULL;
    }
    return a;
}

static void jb_num(jb *b, cJSON *o, const char *name, double v)
{
    if (!o) return;
    cJSON *item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
    if (!item || !cJSON_AddItemToObject(o, name, item)) {
        cJSON_Delete(item);
        b->failed = true;
    }
}

static void jb_push_num(jb *b, cJSON *arr, double v)
{
    if (!arr) return;
    cJSON *item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        b->failed = true;
    }
}

static void jb_str(jb *b, cJSON *o, const char *name, const char *s)
{
    if (o && !cJSON_AddStringToObject(o, name, s)) b->failed = true;
}

static void jb_bool(jb *b, cJSON *o, const char *name, bool v)
{
    if (o && !cJSON_AddBoolToObject(o, name, v)) b->failed = true;
}

/* Equal-width histogram of v[0..n) over [lo, hi] with `bins` bins; values above hi go into
 * the last bin, below lo into the first. */
static void add_histogram(jb *b, cJSON *parent, const char *name, const double *v, size_t n,
                          double lo, double hi, int bins)
{
    cJSON *h = jb_obj(b, parent, name);
    cJSON *edges = jb_arr(b, h, "edges"), *counts = jb_arr(b, h, "counts");
    if (!h || !edges || !counts) return;
    double width = hi > lo ? (hi - lo) / bins : 1;
    size_t cnt[64] = {0};
    for (size_t i = 0; i < n; i++) {
        double k = floor((v[i] - lo) / width);
        int bin = k < 0 ? 0 : k >= bins ? bins - 1 : (int)k;
        cnt[bin]++;
    }
    for (int k = 0; k <= bins; k++)
        jb_push_num(b, edges, lo + k * width);
    for (int k = 0; k < bins; k++)
        jb_push_num(b, counts, (double)cnt[k]);
}

/* Quantile of sorted values (linear interpolation between order statistics). */
static double quantile_sorted(const double *s, size_t n, double q)
{
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n) return s[n - 1];
    return s[i] + (pos - (double)i) * (s[i + 1] - s[i]);
}

static void add_bgnbd(jb *b, cJSON *root, const st_bgnbd *md)
{
    cJSON *o = jb_obj(b, root, "bgnbd");
    jb_num(b, o, "r", md->r);
    jb_num(b, o, "alpha", md->alpha);
    jb_num(b, o, "a", md->a);
    jb_num(b, o, "b", md->b);
    jb_num(b, o, "log_likelihood", md->ll);
    jb_num(b, o, "persons", (double)md->n);
    jb_bool(b, o, "converged", md->converged);
    jb_num(b, o, "iterations", md->iterations);
    jb_num(b, o, "starts", md->starts);
    jb_num(b, o, "starts_converged", md->starts_converged);
    jb_num(b, o, "gradient_norm", md->grad_norm);
    jb_num(b, o, "evaluations", md->evaluations);
}

static void add_gammagamma(jb *b, cJSON *root, const st_gammagamma *g)
{
    cJSON *o = jb_obj(b, root, "gamma_gamma");
    jb_num(b, o, "p", g->p);
    jb_num(b, o, "q", g->q);
    jb_num(b, o, "gamma", g->gamma);
    jb_num(b, o, "log_likelihood", g->ll);
    jb_num(b, o, "persons", (double)g->n);
    jb_num(b, o, "persons_excluded", (double)g->n_excluded);
    jb_num(b, o, "population_mean_aov", g->p * g->gamma / (g->q - 1));
    jb_bool(b, o, "converged", g->converged);
    jb_num(b, o, "iterations", g->iterations);
}

static void add_holdout(jb *b, cJSON *root, const st_clv_holdout *h)
{
    static const char *const labels[ST_CLV_GROUPS] = {"0", "1", "2", "3", "4", "5", "6", "7+"};
    cJSON *o = jb_obj(b, root, "holdout");
    jb_num(b, o, "duration", h->duration);
    jb_num(b, o, "actual_total", h->actual_total);
    jb_num(b, o, "predicted_total", h->predicted_total);
    cJSON *groups = jb_arr(b, o, "groups");
    for (int g = 0; g < ST_CLV_GROUPS && groups; g++) {
        cJSON *row = jb_obj(b, NULL, NULL);
        if (!row) break;
        if (!cJSON_AddItemToArray(groups, row)) {
            cJSON_Delete(row);
            b->failed = true;
            break;
        }
        jb_str(b, row, "x", labels[g]);
        jb_num(b, row, "persons", (double)h->persons[g]);
        jb_num(b, row, "actual", h->persons[g] ? h->actual_mean[g] : NAN);
        jb_num(b, row, "predicted", h->persons[g] ? h->predicted_mean[g] : NAN);
    }
}

/* Mean P(alive) by recency (time since last purchase) x frequency group. */
static void add_heatmap(jb *b, cJSON *root, const st_clv_cbs *cbs, const double *p_alive)
{
    enum { RBINS = 10 };
    double max_rec = 0;
    for (size_t i = 0; i < cbs->n; i++)
        max_rec = ST_MAX(max_rec, cbs->T[i] - cbs->t_x[i]);
    double width = max_rec > 0 ? max_rec / RBINS : 1;
    double sum[RBINS][ST_CLV_GROUPS] = {{0}};
    size_t cnt[RBINS][ST_CLV_GROUPS] = {{0}};
    for (size_t i = 0; i < cbs->n; i++) {
        double k = floor((cbs->T[i] - cbs->t_x[i]) / width);
        int r = k < 0 ? 0 : k >= RBINS ? RBINS - 1 : (int)k;
        int g = freq_group(cbs->x[i]);
        sum[r][g] += p_alive[i];
        cnt[r][g]++;
    }
    static const char *const labels[ST_CLV_GROUPS] = {"0", "1", "2", "3", "4", "5", "6", "7+"};
    cJSON *o = jb_obj(b, root, "p_alive_heatmap");
    cJSON *edges = jb_arr(b, o, "recency_edges");
    cJSON *flabels = jb_arr(b, o, "frequency_labels");
    cJSON *mean = jb_arr(b, o, "mean"), *persons = jb_arr(b, o, "persons");
    if (!o || !edges || !flabels || !mean || !persons) return;
    for (int k = 0; k <= RBINS; k++)
        jb_push_num(b, edges, k * width);
    for (int g = 0; g < ST_CLV_GROUPS; g++) {
        cJSON *s = cJSON_CreateString(labels[g]);
        if (!s || !cJSON_AddItemToArray(flabels, s)) {
            cJSON_Delete(s);
            b->failed = true;
        }
    }
    for (int r = 0; r < RBINS; r++) {
        cJSON *mrow = jb_arr(b, NULL, NULL), *prow = jb_arr(b, NULL, NULL);
        if (!mrow || !prow || !cJSON_AddItemToArray(mean, mrow)) {
            cJSON_Delete(mrow);
            cJSON_Delete(prow);
            b->failed = true;
            return;
        }
        if (!cJSON_AddItemToArray(persons, prow)) {
            cJSON_Delete(prow);
            b->failed = true;
            return;
        }
        for (int g = 0; g < ST_CLV_GROUPS; g++) {
            jb_push_num(b, mrow, cnt[r][g] ? sum[r][g] / (double)cnt[r][g] : NAN);
            jb_push_num(b, prow, (double)cnt[r][g]);
        }
    }
}

cJSON *st_clv_summary_json(const st_bgnbd *model, const st_gammagamma *spend, const st_clv_cbs *cbs,
                           const st_clv_preds *preds, const st_clv_predict_opts *opts,
                           const st_clv_holdout *holdout, st_clv_unit unit)
{
    jb b = {false};
    cJSON *root = jb_obj(&b, NULL, NULL);
    if (!root) return NULL;
    jb_str(&b, root, "unit", unit == ST_CLV_WEEKS ? "weeks" : "days");
    add_bgnbd(&b, root, model);
    if (spend) add_gammagamma(&b, root, spend);
    if (opts) {
        cJSON *o = jb_obj(&b, root, "options");
        jb_num(&b, o, "horizon", opts->horizon);
        jb_num(&b, o, "months", opts->months);
        jb_num(&b, o, "month_length", opts->month_length);
        jb_num(&b, o, "discount", opts->discount);
    }
    if (preds && cbs && preds->n == cbs->n) {
        size_t n = preds->n;
        double sum_alive = 0, sum_exp = 0, sum_clv = 0;
        for (size_t i = 0; i < n; i++) {
            sum_alive += preds->p_alive[i];
            sum_exp += preds->exp_purchases[i];
            if (preds->clv) sum_clv += preds->clv[i];
        }
        cJSON *t = jb_obj(&b, root, "totals");
        jb_num(&b, t, "persons", (double)n);
        jb_num(&b, t, "p_alive_mean", n ? sum_alive / (double)n : NAN);
        jb_num(&b, t, "exp_purchases_sum", sum_exp);
        if (preds->clv) {
            jb_num(&b, t, "clv_sum", sum_clv);
            jb_num(&b, t, "clv_mean", n ? sum_clv / (double)n : NAN);
        }
        add_histogram(&b, root, "p_alive_histogram", preds->p_alive, n, 0, 1, 20);
        if (preds->clv && n > 0) {
            double *sorted = st_malloc(n * sizeof(double));
            if (!sorted) {
                cJSON_Delete(root);
                return NULL;
            }
            memcpy(sorted, preds->clv, n * sizeof(double));
            qsort(sorted, n, sizeof(double), cmp_double);
            double p99 = quantile_sorted(sorted, n, 0.99);
            add_histogram(&b, root, "clv_histogram", preds->clv, n, 0, p99 > 0 ? p99 : 1, 20);
            cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "clv_histogram");
            cJSON *q = jb_obj(&b, h, "quantiles");
            jb_num(&b, q, "p50", quantile_sorted(sorted, n, 0.5));
            jb_num(&b, q, "p90", quantile_sorted(sorted, n, 0.9));
            jb_num(&b, q, "p99", p99);
            jb_num(&b, q, "max", sorted[n - 1]);
            jb_str(&b, h, "note", "the last bin also holds values above p99");
            st_free(sorted);
        }
        add_heatmap(&b, root, cbs, preds->p_alive);
    }
    if (holdout) add_holdout(&b, root, holdout);
    if (b.failed) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ======================================================================================
 * 7. Files for `strata clv`
 * ==================================================================================== */

void st_clv_data_clear(st_clv_data *data)
{
    if (!data) return;
    st_clv_cbs_clear(&data->cbs);
    st_free(data->id_text);
    st_free(data->id_off);
    memset(data, 0, sizeof *data);
}

enum { CBS_ID, CBS_X, CBS_TX, CBS_T, CBS_M, CBS_XSTAR, CBS_NCOLS };

strata_status st_clv_read_cbs(strata_ctx *ctx, const char *path, st_clv_data *out)
{
    memset(out, 0, sizeof *out);
    static const st_table_col cols[CBS_NCOLS] = {
        {"id|cust|customer_id|customer|user_id|ID", ST_TABLE_TEXT, false},
        {"x|frequency", ST_TABLE_NUMBER, true},
        {"t_x|t.x|recency", ST_TABLE_NUMBER, true},
        {"T|T.cal|T_cal", ST_TABLE_NUMBER, true},
        {"m|m.x|monetary_value|zbar", ST_TABLE_NUMBER, false},
        {"x_star|x.star", ST_TABLE_NUMBER, false},
    };
    st_table t;
    strata_status st = st_table_read(ctx, path, cols, CBS_NCOLS, &t);
    if (st != STRATA_OK) return st;
    if (st_clv_cbs_alloc(&out->cbs, t.rows, false) != STRATA_OK) {
        st_table_clear(&t);
        return st_error(ctx, STRATA_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < t.rows; i++) {
        const double *v = t.values + i * CBS_NCOLS;
        out->cbs.x[i] = v[CBS_X];
        out->cbs.t_x[i] = v[CBS_TX];
        out->cbs.T[i] = v[CBS_T];
        out->cbs.m[i] = t.present[CBS_M] ? v[CBS_M] : 0;
        out->cbs.x_star[i] = t.present[CBS_XSTAR] ? v[CBS_XSTAR] : 0;
    }
    out->has_m = t.present[CBS_M];
    out->has_x_star = t.present[CBS_XSTAR];
    out->skipped = t.skipped;
    out->first_skipped_line = t.first_skipped_line;
    out->id_text = t.text, out->id_off = t.text_off;
    t.text = NULL, t.text_off = NULL;
    st_table_clear(&t);
    st = st_clv_cbs_validate(ctx, &out->cbs);
    if (st != STRATA_OK) {
        char detail[sizeof ctx->errmsg];
        snprintf(detail, sizeof detail, "%s", strata_errmsg(ctx));
        st_clv_data_clear(out);
        /* rows of the table are data rows, after the header line */
        return st_error(ctx, st, "%s: %s", path, detail);
    }
    return STRATA_OK;
}

typedef struct elog_tx {
    uint32_t person;
    int32_t day;
    double amount;
} elog_tx;

static int cmp_tx(const void *pa, const void *pb)
{
    const elog_tx *a = pa, *b = pb;
    if (a->person != b->person) return a->person < b->person ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

enum { ELOG_ID, ELOG_DATE, ELOG_AMOUNT, ELOG_NCOLS };

strata_status st_clv_read_elog(strata_ctx *ctx, const char *path, const st_clv_elog_opts *opts,
                               st_clv_data *out)
{
    memset(out, 0, sizeof *out);
    const st_table_col cols[ELOG_NCOLS] = {
        {opts->id_column ? opts->id_column : "customer_id|cust|id|user_id|masterid|customer",
         ST_TABLE_TEXT, true},
        {opts->date_column ? opts->date_column : "date|order_date|order_ts", ST_TABLE_DAY, true},
        {opts->amount_column ? opts->amount_column : "sales|amount|value|monetary", ST_TABLE_NUMBER,
         opts->amount_column != NULL},
    };
    st_table t;
    strata_status st = st_table_read(ctx, path, cols, ELOG_NCOLS, &t);
    if (st != STRATA_OK) return st;
    elog_tx *tx = st_malloc((t.rows ? t.rows : 1) * sizeof *tx);
    st_intern ids;
    st_intern_init(&ids);
    uint32_t *person = NULL;
    int32_t *day = NULL;
    double *amount = NULL;
    if (!tx) goto oom;
    for (size_t i = 0; i < t.rows; i++) {
        const char *id = t.text + t.text_off[i];
        size_t len = strlen(id);
        uint32_t pid = st_intern_put(&ids, id, len, st_hash64(id, len), NULL);
        if (pid == ST_INTERN_NONE) goto oom;
        double dv = t.values[i * ELOG_NCOLS + ELOG_DATE];
        tx[i] = (elog_tx){pid, (int32_t)dv,
                          t.present[ELOG_AMOUNT] ? t.values[i * ELOG_NCOLS + ELOG_AMOUNT] : 0};
    }
    qsort(tx, t.rows, sizeof *tx, cmp_tx);
    person = st_malloc((t.rows ? t.rows : 1) * sizeof *person);
    day = st_malloc((t.rows ? t.rows : 1) * sizeof *day);
    amount = st_malloc((t.rows ? t.rows : 1) * sizeof *amount);
    if (!person || !day || !amount) goto oom;
    for (size_t i = 0; i < t.rows; i++)
        person[i] = tx[i].person, day[i] = tx[i].day, amount[i] = tx[i].amount;
    st = st_clv_cbs_from_log(ctx, person, day, t.present[ELOG_AMOUNT] ? amount : NULL, t.rows,
                             opts->cal_end_day, opts->holdout_end_day, opts->unit, &out->cbs);
    if (st != STRATA_OK) goto done;
    /* ids of the summary rows, in person (= first appearance) order */
    st_buf text;
    st_buf_init(&text, (size_t)1 << 32);
    out->id_off = st_malloc((out->cbs.n ? out->cbs.n : 1) * sizeof(size_t));
    if (!out->id_off) goto oom;
    for (size_t i = 0; i < out->cbs.n && st == STRATA_OK; i++) {
        st_sv id = st_intern_str(&ids, out->cbs.person[i]);
        out->id_off[i] = text.len;
        st = st_buf_append(&text, id.ptr, id.len);
        if (st == STRATA_OK) st = st_buf_putc(&text, '\0');
    }
    out->id_text = st == STRATA_OK ? st_buf_take(&text) : NULL;
    st_buf_clear(&text);
    if (!out->id_text) goto oom;
    out->has_m = t.present[ELOG_AMOUNT];
    out->has_x_star = opts->holdout_end_day != STRATA_DAY_NONE;
    out->skipped = t.skipped;
    out->first_skipped_line = t.first_skipped_line;
    out->transactions = t.rows;
    goto done;
oom:
    st = st_error(ctx, STRATA_ENOMEM, "%s: out of memory", path);
done:
    if (st != STRATA_OK) st_clv_data_clear(out);
    st_free(tx);
    st_free(person);
    st_free(day);
    st_free(amount);
    st_intern_clear(&ids);
    st_table_clear(&t);
    return st;
}

strata_status st_clv_write_predictions(strata_ctx *ctx, const char *path, const st_clv_data *data,
                                       const st_clv_preds *preds)
{
    const st_clv_cbs *c = &data->cbs;
    if (preds->n != c->n) return st_error(ctx, STRATA_EINVAL, "clv: predictions do not match");
    FILE *f = fopen(path, "wb");
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot create: %s", path, strerror(errno));
    st_buf b;
    st_buf_init(&b, (size_t)4 << 20);
    strata_status st = st_buf_puts(&b, preds->clv ? "id,x,t_x,T,p_alive,exp_purchases,exp_aov,clv\n"
                                                  : "id,x,t_x,T,p_alive,exp_purchases\n");
    bool ok = true;
    for (size_t i = 0; st == STRATA_OK && ok && i < c->n; i++) {
        if (data->id_off) {
            const char *id = data->id_text + data->id_off[i];
            st = st_buf_csv_field(&b, id, strlen(id));
        } else {
            st = st_buf_printf(&b, "%zu", i + 1);
        }
        if (st == STRATA_OK)
            st = st_buf_printf(&b, ",%.15g,%.15g,%.15g,%.10g,%.10g", c->x[i], c->t_x[i], c->T[i],
                               preds->p_alive[i], preds->exp_purchases[i]);
        if (st == STRATA_OK && preds->clv)
            st = st_buf_printf(&b, ",%.10g,%.10g", preds->exp_aov[i], preds->clv[i]);
        if (st == STRATA_OK) st = st_buf_putc(&b, '\n');
        if (b.len > ((size_t)1 << 20)) {
            ok = fwrite(b.data, 1, b.len, f) == b.len;
            st_buf_reset(&b);
        }
    }
    if (st == STRATA_OK && ok && b.len) ok = fwrite(b.data, 1, b.len, f) == b.len;
    st_buf_clear(&b);
    ok = fclose(f) == 0 && ok;
    if (st != STRATA_OK) return st_error(ctx, st, "%s: cannot format the output", path);
    if (!ok) return st_error(ctx, STRATA_EIO, "%s: write failed", path);
    return STRATA_OK;
}
