/*
 * logreg.c — the logistic-regression baseline of the churn models: L2-penalised maximum
 * likelihood on standardized features, solved by Newton's method (IRLS) with backtracking.
 * Owns nothing beyond the scratch of one fit.
 *
 * Why our own instead of liblinear: the churn matrix has tens of features (at most
 * ST_CHURN_MAX_FEATURES), so the exact Newton system is tiny — one pass over the rows builds
 * the (d+1)^2 Hessian, a Cholesky factorisation solves it, and about ten passes reach the
 * optimum to machine precision, deterministically and on our allocator and threads. That is
 * the same optimum liblinear's trust-region Newton (or scikit-learn's lbfgs) approaches
 * iteratively, with the intercept left unpenalised (liblinear penalises it, which biases the
 * baseline), for about 200 lines instead of a new dependency.
 *
 * Objective: sum_i [softplus(eta_i) - y_i eta_i] + l2/2 |w|^2, eta_i = b + w . z_i, where z
 * is the standardized row with missing values at 0 (mean imputation).
 */
#include "models/modelfile.h"

#include <math.h>
#include <pthread.h>

#define MAX_ITERATIONS 100
#define MIN_ROWS_PER_THREAD 20000

void st_feature_moments(const float *x, size_t cols, const size_t *rows, size_t n, double *mean,
                        double *sd)
{
    for (size_t j = 0; j < cols; j++) {
        /* Welford's update: one pass, no cancellation on large magnitudes */
        double m = 0.0, s = 0.0;
        uint64_t k = 0;
        for (size_t r = 0; r < n; r++) {
            double v = x[rows[r] * cols + j];
            if (isnan(v)) continue;
            k++;
            double delta = v - m;
            m += delta / (double)k;
            s += delta * (v - m);
        }
        mean[j] = k ? m : 0.0;
        double var = k ? s / (double)k : 0.0;
        sd[j] = var > 1e-24 && isfinite(var) ? sqrt(var) : 1.0;
    }
}

static inline double softplus(double eta)
{
    return eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

static inline double sigmoid(double eta)
{
    if (eta >= 0) return 1.0 / (1.0 + exp(-eta));
    double e = exp(eta);
    return e / (1.0 + e);
}

/* The work of one thread in one pass: its rows, and its own sums. */
typedef struct pass_part {
    const float *x;
    size_t cols;
    const size_t *rows;
    size_t begin, end;
    const uint8_t *label;
    const double *mean, *sd, *beta; /* beta[0] = intercept, beta[1 + j] = coef j */
    double *grad;                   /* D */
    double *hess;                   /* D x D, upper triangle */
    double *z;                      /* D scratch */
    double loss;
} pass_part;

static void *pass_run(void *arg)
{
    pass_part *p = arg;
    size_t D = p->cols + 1;
    memset(p->grad, 0, D * sizeof *p->grad);
    memset(p->hess, 0, D * D * sizeof *p->hess);
    p->loss = 0.0;
    double *z = p->z;
    z[0] = 1.0;
    for (size_t r = p->begin; r < p->end; r++) {
        const float *row = p->x + p->rows[r] * p->cols;
        double eta = p->beta[0];
        for (size_t j = 0; j < p->cols; j++) {
            double v = row[j];
            z[j + 1] = isnan(v) ? 0.0 : (v - p->mean[j]) / p->sd[j];
            eta += p->beta[j + 1] * z[j + 1];
        }
        double y = p->label[p->rows[r]];
        double prob = sigmoid(eta);
        p->loss += softplus(eta) - y * eta;
        double resid = prob - y, w = prob * (1.0 - prob);
        for (size_t a = 0; a < D; a++) {
            if (z[a] == 0.0) continue; /* one-hot and imputed columns are mostly zero */
            p->grad[a] += resid * z[a];
            double wa = w * z[a];
            double *h = p->hess + a * D;
            for (size_t b = a; b < D; b++) h[b] += wa * z[b];
        }
    }
    return NULL;
}

/* Loss, gradient and Hessian of the penalised objective at beta, over `nparts` threads. */
static void full_pass(pass_part *parts, unsigned nparts, size_t D, const double *beta,
                      double l2, double *loss, double *grad, double *hess)
{
    pthread_t tid[64];
    bool started[64] = {false};
    for (unsigned t = 0; t < nparts; t++) parts[t].beta = beta;
    /* part 0 runs on the calling thread; a part whose thread cannot start runs inline */
    for (unsigned t = 1; t < nparts; t++) {
        started[t] = pthread_create(&tid[t], NULL, pass_run, &parts[t]) == 0;
        if (!started[t]) pass_run(&parts[t]);
    }
    pass_run(&parts[0]);
    for (unsigned t = 1; t < nparts; t++)
        if (started[t]) pthread_join(tid[t], NULL);
    /* sum in part order, so a given thread count always gives the same bits */
    memcpy(grad, parts[0].grad, D * sizeof *grad);
    memcpy(hess, parts[0].hess, D * D * sizeof *hess);
    *loss = parts[0].loss;
    for (unsigned t = 1; t < nparts; t++) {
        for (size_t a = 0; a < D; a++) grad[a] += parts[t].grad[a];
        for (size_t a = 0; a < D * D; a++) hess[a] += parts[t].hess[a];
        *loss += parts[t].loss;
    }
    for (size_t a = 1; a < D; a++) {
        *loss += 0.5 * l2 * beta[a] * beta[a];
        grad[a] += l2 * beta[a];
        hess[a * D + a] += l2;
    }
    for (size_t a = 0; a < D; a++) /* mirror the upper triangle */
        for (size_t b = a + 1; b < D; b++) hess[b * D + a] = hess[a * D + b];
}

/* Solve H s = g in place (s returned in g) by Cholesky; false when H is not positive
 * definite. H is overwritten by its factor. */
static bool cholesky_solve(double *H, double *g, size_t D)
{
    for (size_t j = 0; j < D; j++) {
        double d = H[j * D + j];
        for (size_t k = 0; k < j; k++) d -= H[j * D + k] * H[j * D + k];
        if (!(d > 1e-300)) return false;
        d = sqrt(d);
        H[j * D + j] = d;
        for (size_t i = j + 1; i < D; i++) {
            double s = H[i * D + j];
            for (size_t k = 0; k < j; k++) s -= H[i * D + k] * H[j * D + k];
            H[i * D + j] = s / d;
        }
    }
    for (size_t i = 0; i < D; i++) { /* L y = g */
        double s = g[i];
        for (size_t k = 0; k < i; k++) s -= H[i * D + k] * g[k];
        g[i] = s / H[i * D + i];
    }
    for (size_t i = D; i-- > 0;) { /* L^T s = y */
        double s = g[i];
        for (size_t k = i + 1; k < D; k++) s -= H[k * D + i] * g[k];
        g[i] = s / H[i * D + i];
    }
    return true;
}

strata_status st_logreg_fit(strata_ctx *ctx, const float *x, size_t cols, const size_t *rows,
                            size_t n, const uint8_t *label, const double *mean,
                            const double *sd, double l2, unsigned threads, double *coef,
                            double *intercept, st_logreg_info *info)
{
    memset(info, 0, sizeof *info);
    if (cols == 0 || cols > ST_CHURN_MAX_FEATURES || n == 0 || !(l2 >= 0))
        return st_error(ctx, STRATA_EINVAL, "logistic regression: bad shape or penalty");
    size_t D = cols + 1;
    unsigned nparts = threads ? threads : 1;
    if (nparts > 64) nparts = 64;
    while (nparts > 1 && n / nparts < MIN_ROWS_PER_THREAD) nparts--;

    /* one allocation: beta, trial, step, grad, hess, trial grad and hess, per-part sums */
    size_t per_part = 2 * D + D * D;
    size_t total = 5 * D + 2 * D * D + (size_t)nparts * per_part;
    double *mem = st_calloc(total, sizeof *mem);
    pass_part *parts = st_calloc(nparts, sizeof *parts);
    if (!mem || !parts) {
        st_free(mem);
        st_free(parts);
        return st_error(ctx, STRATA_ENOMEM, "logistic regression: out of memory");
    }
    double *beta = mem, *trial = beta + D, *step = trial + D, *grad = step + D;
    double *hess = grad + D, *tgrad = hess + D * D, *thess = tgrad + D;
    double *part_mem = thess + D * D;
    for (unsigned t = 0; t < nparts; t++) {
        pass_part *p = &parts[t];
        p->x = x;
        p->cols = cols;
        p->rows = rows;
        p->begin = n * t / nparts;
        p->end = n * (t + 1) / nparts;
        p->label = label;
        p->mean = mean;
        p->sd = sd;
        p->grad = part_mem + (size_t)t * per_part;
        p->z = p->grad + D;
        p->hess = p->z + D;
    }

    /* start from the base rate, so the first step is already a small one */
    uint64_t positives = 0;
    for (size_t r = 0; r < n; r++) positives += label[rows[r]];
    double rate = ((double)positives + 0.5) / ((double)n + 1.0);
    beta[0] = log(rate / (1.0 - rate));

    strata_status st = STRATA_OK;
    double loss;
    full_pass(parts, nparts, D, beta, l2, &loss, grad, hess);
    for (int it = 0; it < MAX_ITERATIONS; it++) {
        info->iterations = it + 1;
        memcpy(step, grad, D * sizeof *step);
        if (!cholesky_solve(hess, step, D)) {
            st = st_error(ctx, STRATA_EMODEL,
                          "logistic regression: Hessian not positive definite (iteration %d)",
                          it + 1);
            break;
        }
        double slope = 0.0, max_step = 0.0; /* directional derivative along -step */
        for (size_t a = 0; a < D; a++) {
            slope -= grad[a] * step[a];
            if (fabs(step[a]) > max_step) max_step = fabs(step[a]);
        }
        if (max_step < 1e-10) {
            info->converged = true;
            break;
        }
        /* backtracking (Armijo): Newton's full step is accepted near the optimum */
        double t = 1.0, tloss = loss;
        bool accepted = false;
        for (int k = 0; k < 40; k++, t *= 0.5) {
            for (size_t a = 0; a < D; a++) trial[a] = beta[a] - t * step[a];
            full_pass(parts, nparts, D, trial, l2, &tloss, tgrad, thess);
            if (tloss <= loss + 1e-4 * t * slope) {
                accepted = true;
                break;
            }
        }
        if (!accepted) { /* no decrease possible at this precision: we are at the optimum */
            info->converged = true;
            break;
        }
        double old = loss;
        memcpy(beta, trial, D * sizeof *beta);
        memcpy(grad, tgrad, D * sizeof *grad);
        memcpy(hess, thess, D * D * sizeof *hess);
        loss = tloss;
        if (t * max_step < 1e-8 || old - loss <= 1e-13 * (1.0 + fabs(loss))) {
            info->converged = true;
            break;
        }
    }
    info->objective = loss;
    *intercept = beta[0];
    for (size_t j = 0; j < cols; j++) coef[j] = beta[j + 1];
    st_free(parts);
    st_free(mem);
    return st;
}

void st_logreg_predict(const float *x, size_t rows, size_t cols, const double *mean,
                       const double *sd, const double *coef, double intercept, double *prob)
{
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        double eta = intercept;
        for (size_t j = 0; j < cols; j++) {
            double v = row[j];
            if (!isnan(v)) eta += coef[j] * (v - mean[j]) / sd[j];
        }
        prob[r] = sigmoid(eta);
    }
}
