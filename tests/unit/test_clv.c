/*
 * test_clv.c — src/models/clv.c (BG/NBD + Gamma-Gamma) against the published CDNOW results
 * and against independent computations.
 *
 * - Published (Fader, Hardie & Lee 2005, Marketing Science, and 2005 JMR), checked to the
 *   published digits: BG/NBD r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4;
 *   customer 1's E[X(39)] 1.226; Gamma-Gamma p 6.25, q 3.74, gamma 15.44.
 * - Independent: tests/data/cdnow/reference_clv.py evaluates the textbook formulas with
 *   mpmath at 80 digits (its own hypergeometric summation) at fixed parameters; the numbers
 *   below are its output. The holdout "actual" column is recomputed here from x.star.
 * - The calibration summary built from the elog must match BTYD's cbs (x, t.x, T.cal within
 *   0.005 weeks, m.x, x.star).
 * - Parameter recovery on a simulated BG/NBD population, thread-count independence,
 *   extreme frequencies (x = 300, 10000), bad input, allocation failure without leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/core.h"
#include "models/clv.h"

#ifndef STRATA_SOURCE_DIR
#define STRATA_SOURCE_DIR "."
#endif
#define CDNOW_DIR STRATA_SOURCE_DIR "/tests/data/cdnow/"

static void near_at(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", got, want, eps);
        _fail(file, line);
    }
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)
/* relative tolerance */
#define assert_rel(got, want, rel) assert_near((got), (want), (rel)*fabs(want) + 1e-300)

/* ---- fixtures: the gzip CSV copies of the CDNOW sample ---- */

#define MAX_COLS 8
typedef struct table {
    size_t rows;
    double *col[MAX_COLS];
} table;

/* Read a numeric gzip CSV with a header into columns (test-side parser: plain fields). */
static table read_gz_csv(const char *path, int ncols)
{
    table t = {0, {NULL}};
    gzFile f = gzopen(path, "rb");
    assert_non_null(f);
    char line[512];
    size_t cap = 8192;
    for (int c = 0; c < ncols; c++)
        t.col[c] = malloc(cap * sizeof(double));
    assert_non_null(gzgets(f, line, sizeof line)); /* header */
    while (gzgets(f, line, sizeof line)) {
        if (t.rows == cap) {
            cap *= 2;
            for (int c = 0; c < ncols; c++)
                t.col[c] = realloc(t.col[c], cap * sizeof(double));
        }
        char *p = line;
        for (int c = 0; c < ncols; c++) {
            char *end;
            t.col[c][t.rows] = strtod(p, &end);
            assert_true(end != p);
            p = end + (*end == ',');
        }
        t.rows++;
    }
    gzclose(f);
    return t;
}

static void table_free(table *t)
{
    for (int c = 0; c < MAX_COLS; c++)
        free(t->col[c]);
}

/* cbs columns: cust,x,t.x,T.cal,x.star,m.x */
static table cdnow_cbs(void)
{
    table t = read_gz_csv(CDNOW_DIR "cdnow_sample_cbs.csv.gz", 6);
    assert_int_equal(t.rows, 2357);
    return t;
}

static st_clv_cbs cbs_view(const table *t)
{
    st_clv_cbs c = {.n = t->rows,
                    .x = t->col[1],
                    .t_x = t->col[2],
                    .T = t->col[3],
                    .x_star = t->col[4],
                    .m = t->col[5]};
    return c;
}

/* The parameters reference_clv.py uses. */
static const st_bgnbd REF_BG = {.r = 0.2425943, .alpha = 4.4135977, .a = 0.7929244, .b = 2.4259157};
static const st_gammagamma REF_GG = {.p = 6.249558, .q = 3.744228, .gamma = 15.443574};

/* ---- published results ---- */

static void test_bgnbd_cdnow_published(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_bgnbd md;
    assert_int_equal(st_bgnbd_fit(ctx, t.col[1], t.col[2], t.col[3], t.rows, NULL, &md), STRATA_OK);
    assert_true(md.converged);
    assert_int_equal(md.n, 2357);
    /* published to 3 decimals: the estimate must round to them */
    assert_near(md.r, 0.243, 0.0005);
    assert_near(md.alpha, 4.414, 0.0005);
    assert_near(md.a, 0.793, 0.0005);
    assert_near(md.b, 2.426, 0.0005);
    assert_near(md.ll, -9582.4, 0.05);
    /* and the LL reported is the LL of the returned parameters */
    assert_near(st_bgnbd_loglik(&md, t.col[1], t.col[2], t.col[3], t.rows), md.ll, 1e-6);
    /* customer 1 (x=2, t_x=30.43, T=38.86): 1.226 expected purchases in the next 39 weeks */
    assert_near(st_bgnbd_expected(&md, 39, t.col[1][0], t.col[2][0], t.col[3][0]), 1.226, 0.0005);
    strata_ctx_free(ctx);
    table_free(&t);
}

static void test_gammagamma_cdnow_published(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_gammagamma gg;
    assert_int_equal(st_gammagamma_fit(ctx, t.col[1], t.col[5], t.rows, NULL, &gg), STRATA_OK);
    assert_int_equal(gg.n, 946); /* the customers with at least one repeat purchase */
    assert_int_equal(gg.n_excluded, 0);
    assert_near(gg.p, 6.25, 0.005);
    assert_near(gg.q, 3.74, 0.005);
    assert_near(gg.gamma, 15.44, 0.005);
    /* scipy L-BFGS-B on the same likelihood: LL -4055.9177 */
    assert_near(gg.ll, -4055.9177, 0.001);
    strata_ctx_free(ctx);
    table_free(&t);
}

/* ---- predictions vs mpmath (reference_clv.py) ---- */

static void test_expected_vs_mpmath(void **state)
{
    (void)state;
    static const double cases[][6] = {
        /* t, x, t_x, T, E[X(t)], P(alive) */
        {39, 0, 0, 38.86, 0.19478188502922575, 1.0},
        {39, 5, 10, 38, 0.10641585541167815, 0.02749290013954049},
        {1000, 0, 0, 1, 6.038744731009003, 1.0},
        {100000, 2, 1, 3, 71.78010202474485, 0.6809889083278096},
        {39, 300, 30, 38, 4.440637802160511e-23, 2.1155179645692226e-25},
        {39, 300, 38, 38, 209.3570974248016, 0.9973763237270793},
        {39, 10000, 38.5, 38.6, 0.006781570322632351, 9.82088915977481e-07},
        {0.5, 1, 0.1, 0.2, 0.09859322286454969, 0.7485712941754673},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const double *c = cases[i];
        assert_rel(st_bgnbd_expected(&REF_BG, c[0], c[1], c[2], c[3]), c[4], 1e-9);
        assert_rel(st_bgnbd_p_alive(&REF_BG, c[1], c[2], c[3]), c[5], 1e-12);
    }
    /* other parameter regions: a > 1; a + b < 1 (C = a+b-1 < 0 for x = 0); a = 1 exactly,
     * where the textbook formula is 0/0 and only its limit exists */
    static const double other[][9] = {
        {0.5, 10, 1.7, 3.0, 39, 0, 0, 38.86, 0.3325438230071288},
        {0.5, 10, 1.7, 3.0, 39, 3, 20, 38, 0.7428661706482383},
        {0.5, 10, 1.7, 3.0, 500, 1, 5, 10, 2.6154353574711964},
        {0.3, 2, 0.4, 0.3, 39, 0, 0, 38.86, 0.2213583291753869},
        {0.3, 2, 0.4, 0.3, 39, 3, 20, 38, 1.2086098365334768},
        {0.3, 2, 0.4, 0.3, 500, 1, 5, 10, 4.303288612763237},
        {1.0, 1.0, 1.0, 2.0, 39, 0, 0, 38.86, 0.7592944700312148},
        {1.0, 1.0, 1.0, 2.0, 39, 3, 20, 38, 0.7339621817546618},
        {1.0, 1.0, 1.0, 2.0, 500, 1, 5, 10, 3.7588661300544732},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        const double *c = other[i];
        st_bgnbd md = {.r = c[0], .alpha = c[1], .a = c[2], .b = c[3]};
        assert_rel(st_bgnbd_expected(&md, c[4], c[5], c[6], c[7]), c[8], 1e-9);
    }
    /* a new customer: eq. 7 equals eq. 10 at x = t_x = T = 0; E[X(0)] = 0 */
    assert_near(st_bgnbd_expected_new(&REF_BG, 0), 0, 0);
    assert_rel(st_bgnbd_expected_new(&REF_BG, 39), st_bgnbd_expected(&REF_BG, 39, 0, 0, 0), 1e-15);
}

static void test_predict_and_clv_vs_mpmath(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    st_clv_cbs cbs = cbs_view(&t);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_predict_opts o;
    st_clv_predict_defaults(&o, ST_CLV_WEEKS);
    assert_near(o.horizon, 13, 0);
    assert_near(o.month_length, 4.345, 0);
    st_clv_preds pr;
    assert_int_equal(st_clv_predict(ctx, &REF_BG, &REF_GG, &cbs, &o, &pr), STRATA_OK);
    assert_int_equal(pr.n, 2357);
    static const double cust[][5] = {
        /* id, aov, clv, P(alive), E[X(13)] */
        {1, 24.653924917018994, 36.27397441395108, 0.7266202309343033, 0.4571913049525063},
        {2, 18.910035117612537, 4.640941073442449, 0.2123911039871588, 0.07476024339969074},
        {3, 35.170369021922376, 8.344473501946158, 1.0, 0.06981598834294775},
        {157, 26.39426392634064, 625.4287077350923, 0.9692211871682419, 7.838684702844633},
    };
    for (size_t k = 0; k < 4; k++) {
        size_t i = (size_t)cust[k][0] - 1;
        assert_rel(pr.exp_aov[i], cust[k][1], 1e-9);
        assert_rel(pr.clv[i], cust[k][2], 1e-9);
        assert_rel(pr.p_alive[i], cust[k][3], 1e-12);
        assert_rel(pr.exp_purchases[i], cust[k][4], 1e-9);
    }
    for (size_t i = 0; i < pr.n; i++) {
        assert_true(pr.p_alive[i] >= 0 && pr.p_alive[i] <= 1);
        assert_true(isfinite(pr.clv[i]) && pr.clv[i] >= 0);
    }
    /* no spend model: only the purchase columns */
    st_clv_preds pr2;
    assert_int_equal(st_clv_predict(ctx, &REF_BG, NULL, &cbs, &o, &pr2), STRATA_OK);
    assert_null(pr2.clv);
    assert_null(pr2.exp_aov);
    assert_true(pr2.exp_purchases[156] == pr.exp_purchases[156]);
    st_clv_preds_clear(&pr2);
    /* bad options are refused */
    o.discount = -1;
    assert_int_equal(st_clv_predict(ctx, &REF_BG, &REF_GG, &cbs, &o, &pr2), STRATA_EINVAL);
    st_clv_preds_clear(&pr);
    strata_ctx_free(ctx);
    table_free(&t);
}

static void test_holdout_table(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    st_clv_cbs cbs = cbs_view(&t);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_holdout h;
    assert_int_equal(st_clv_holdout_table(ctx, &REF_BG, &cbs, 39, &h), STRATA_OK);
    /* actual column recomputed here from the cbs x.star column */
    double sum[8] = {0};
    size_t cnt[8] = {0};
    for (size_t i = 0; i < t.rows; i++) {
        int g = t.col[1][i] >= 7 ? 7 : (int)t.col[1][i];
        sum[g] += t.col[4][i];
        cnt[g]++;
    }
    static const size_t persons[8] = {1411, 439, 214, 100, 62, 38, 29, 64};
    static const double predicted[8] = {0.22508715506393,   0.5231312238441458, 1.0441337065406875,
                                        1.5202785454624683, 2.163864229438708,  2.6538437813958584,
                                        3.504039192081734,  6.157185216221853};
    double total = 0;
    for (int g = 0; g < 8; g++) {
        assert_int_equal(h.persons[g], persons[g]);
        assert_int_equal(h.persons[g], cnt[g]);
        assert_near(h.actual_mean[g], sum[g] / (double)cnt[g], 1e-12);
        assert_rel(h.predicted_mean[g], predicted[g], 1e-9);
        total += sum[g];
    }
    assert_near(h.actual_total, 1882, 0); /* published: 1,882 holdout repeat purchases */
    assert_near(h.actual_total, total, 0);
    double pred_total = 0;
    for (int g = 0; g < 8; g++)
        pred_total += predicted[g] * (double)persons[g];
    assert_rel(h.predicted_total, pred_total, 1e-9);
    st_clv_cbs no_holdout = cbs;
    no_holdout.x_star = NULL;
    assert_int_equal(st_clv_holdout_table(ctx, &REF_BG, &no_holdout, 39, &h), STRATA_EINVAL);
    strata_ctx_free(ctx);
    table_free(&t);
}

/* ---- calibration summary from the transaction log ---- */

static int32_t ymd_day(double ymd)
{
    long v = (long)ymd;
    return st_days_from_civil((int)(v / 10000), (unsigned)(v / 100 % 100), (unsigned)(v % 100));
}

static void test_cbs_from_elog(void **state)
{
    (void)state;
    /* elog columns: masterid,sampleid,date,cds,sales; sorted by sampleid then date */
    table e = read_gz_csv(CDNOW_DIR "cdnow_sample_elog.csv.gz", 5);
    assert_int_equal(e.rows, 6919);
    uint32_t *person = malloc(e.rows * sizeof *person);
    int32_t *day = malloc(e.rows * sizeof *day);
    for (size_t i = 0; i < e.rows; i++) {
        person[i] = (uint32_t)e.col[1][i];
        day[i] = ymd_day(e.col[2][i]);
    }
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_cbs cbs;
    assert_int_equal(st_clv_cbs_from_log(ctx, person, day, e.col[4], e.rows,
                                         st_days_from_civil(1997, 9, 30),
                                         st_days_from_civil(1998, 6, 30), ST_CLV_WEEKS, &cbs),
                     STRATA_OK);
    table t = cdnow_cbs();
    assert_int_equal(cbs.n, t.rows);
    assert_int_equal(cbs.n_late, 0);
    for (size_t i = 0; i < cbs.n; i++) {
        assert_int_equal(cbs.person[i], (uint32_t)t.col[0][i]);
        assert_near(cbs.x[i], t.col[1][i], 0);
        assert_near(cbs.t_x[i], t.col[2][i], 0.005);
        assert_near(cbs.T[i], t.col[3][i], 0.005);
        assert_near(cbs.x_star[i], t.col[4][i], 0);
        assert_near(cbs.m[i], t.col[5][i], 1e-9);
    }
    st_clv_cbs_clear(&cbs);

    /* a shorter calibration leaves late starters out and counts them */
    assert_int_equal(st_clv_cbs_from_log(ctx, person, day, NULL, e.rows,
                                         st_days_from_civil(1997, 1, 31), STRATA_DAY_NONE,
                                         ST_CLV_DAYS, &cbs),
                     STRATA_OK);
    size_t first_in_jan = 0;
    for (size_t i = 0; i < e.rows; i++)
        if (i == 0 || person[i] != person[i - 1])
            first_in_jan += day[i] <= st_days_from_civil(1997, 1, 31);
    assert_int_equal(cbs.n, first_in_jan);
    assert_int_equal(cbs.n + cbs.n_late, 2357);
    for (size_t i = 0; i < cbs.n; i++) {
        assert_true(cbs.T[i] >= cbs.t_x[i]);
        assert_true(cbs.T[i] <= 30);
        assert_near(cbs.m[i], 0, 0); /* no amounts given */
        assert_near(cbs.x_star[i], 0, 0);
    }
    st_clv_cbs_clear(&cbs);

    /* unsorted input is refused with the row named */
    int32_t tmp = day[1];
    day[1] = day[0] - 1;
    assert_int_equal(st_clv_cbs_from_log(ctx, person, day, NULL, e.rows,
                                         st_days_from_civil(1997, 9, 30), STRATA_DAY_NONE,
                                         ST_CLV_WEEKS, &cbs),
                     STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "row 2"));
    assert_int_equal(cbs.n, 0);
    day[1] = tmp;
    strata_ctx_free(ctx);
    table_free(&t);
    table_free(&e);
    free(person);
    free(day);
}

static void test_cbs_same_day_merge(void **state)
{
    (void)state;
    /* person 4: days 10, 10, 12, 12, 20 (holdout), 40 (after holdout); person 7: day 15 */
    const uint32_t person[] = {4, 4, 4, 4, 4, 4, 7};
    const int32_t day[] = {10, 10, 12, 12, 20, 40, 15};
    const double amount[] = {1, 2, 3, 4, 5, 6, 7};
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_cbs c;
    assert_int_equal(st_clv_cbs_from_log(ctx, person, day, amount, 7, 17, 30, ST_CLV_DAYS, &c),
                     STRATA_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.person[0], 4);
    assert_near(c.x[0], 1, 0);      /* day 12 is the one repeat day */
    assert_near(c.t_x[0], 2, 0);    /* 12 - 10 */
    assert_near(c.T[0], 7, 0);      /* 17 - 10 */
    assert_near(c.m[0], 7, 0);      /* 3 + 4 merged */
    assert_near(c.x_star[0], 1, 0); /* day 20; day 40 is after the holdout */
    assert_near(c.x[1], 0, 0);
    assert_near(c.T[1], 2, 0);
    assert_near(c.m[1], 0, 0);
    st_clv_cbs_clear(&c);
    strata_ctx_free(ctx);
}

/* ---- robustness ---- */

static void test_large_frequencies(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    size_t n = t.rows + 2;
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    memcpy(x, t.col[1], t.rows * sizeof *x);
    memcpy(tx, t.col[2], t.rows * sizeof *x);
    memcpy(T, t.col[3], t.rows * sizeof *x);
    x[n - 2] = 300, tx[n - 2] = 38, T[n - 2] = 38.5;
    x[n - 1] = 10000, tx[n - 1] = 38.6, T[n - 1] = 38.6;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_bgnbd md;
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, n, NULL, &md), STRATA_OK);
    assert_true(md.converged && isfinite(md.ll));
    assert_true(isfinite(md.r) && isfinite(md.alpha) && isfinite(md.a) && isfinite(md.b));
    for (size_t i = n - 2; i < n; i++) {
        double e = st_bgnbd_expected(&md, 39, x[i], tx[i], T[i]);
        double pa = st_bgnbd_p_alive(&md, x[i], tx[i], T[i]);
        assert_true(isfinite(e) && e > 0);
        assert_true(pa > 0 && pa <= 1);
    }
    /* the 10000-purchase person bought about 260 times a week up to today: alive, and
     * expected to go on at about that rate */
    assert_true(st_bgnbd_p_alive(&md, x[n - 1], tx[n - 1], T[n - 1]) > 0.99);
    double next_week = st_bgnbd_expected(&md, 1, x[n - 1], tx[n - 1], T[n - 1]);
    assert_true(next_week > 200 && next_week < 300);
    /* LL with the extreme rows is finite at any sensible parameters */
    assert_true(isfinite(st_bgnbd_loglik(&REF_BG, x, tx, T, n)));
    strata_ctx_free(ctx);
    free(x);
    free(tx);
    free(T);
    table_free(&t);
}

static void test_bad_input(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_bgnbd md;
    double x[3] = {1, 0, 2}, tx[3] = {5, 0, 3}, T[3] = {10, 4, 8};
    x[0] = 1.5; /* not a whole number */
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, 3, NULL, &md), STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "row 1"));
    x[0] = 1;
    tx[2] = 9; /* t_x > T */
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, 3, NULL, &md), STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "row 3"));
    tx[2] = 3;
    T[1] = NAN;
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, 3, NULL, &md), STRATA_EINVAL);
    T[1] = 4;
    double zero[3] = {0, 0, 0}, ztx[3] = {0, 0, 0};
    assert_int_equal(st_bgnbd_fit(ctx, zero, ztx, T, 3, NULL, &md), STRATA_EDATA);
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, 1, NULL, &md), STRATA_EDATA);
    assert_near(md.r, 0, 0); /* outputs zeroed on failure */
    st_gammagamma gg;
    double m[3] = {10, 0, -1};
    assert_int_equal(st_gammagamma_fit(ctx, x, m, 3, NULL, &gg), STRATA_EDATA);
    strata_ctx_free(ctx);
}

/* Simulate the BG/NBD story: lambda ~ Gamma(r, 1/alpha), p ~ Beta(a, b); purchases are a
 * Poisson process at rate lambda and after each purchase the person drops out with prob p. */
static void simulate(size_t n, uint64_t seed, double r, double alpha, double a, double b, double *x,
                     double *tx, double *T)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    for (size_t i = 0; i < n; i++) {
        double lambda = gsl_ran_gamma(rng, r, 1 / alpha);
        double p = gsl_ran_beta(rng, a, b);
        T[i] = 1 + 38 * gsl_rng_uniform(rng);
        double t = 0, last = 0;
        int k = 0;
        for (;;) {
            t += gsl_ran_exponential(rng, 1 / lambda);
            if (t > T[i]) break;
            k++;
            last = t;
            if (gsl_rng_uniform(rng) < p) break; /* dropped out right after this purchase */
        }
        x[i] = k;
        tx[i] = k ? last : 0;
    }
    gsl_rng_free(rng);
}

static void test_recovery_and_threads(void **state)
{
    (void)state;
    const size_t n = 60000; /* > 4 chunks, so the threaded path runs */
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    simulate(n, 42, 0.25, 4.0, 0.8, 2.5, x, tx, T);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_fit_opts one = {.threads = 1}, two = {.threads = 2};
    st_bgnbd m1, m2;
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, n, &one, &m1), STRATA_OK);
    assert_int_equal(st_bgnbd_fit(ctx, x, tx, T, n, &two, &m2), STRATA_OK);
    /* bit-identical for any thread count */
    assert_memory_equal(&m1.r, &m2.r, sizeof(double));
    assert_memory_equal(&m1.alpha, &m2.alpha, sizeof(double));
    assert_memory_equal(&m1.a, &m2.a, sizeof(double));
    assert_memory_equal(&m1.b, &m2.b, sizeof(double));
    assert_memory_equal(&m1.ll, &m2.ll, sizeof(double));
    /* the true parameters are recovered (sampling error at n = 60000 is a few percent) */
    assert_near(m1.r, 0.25, 0.25 * 0.1);
    assert_near(m1.alpha, 4.0, 4.0 * 0.15);
    assert_near(m1.a, 0.8, 0.8 * 0.2);
    assert_near(m1.b, 2.5, 2.5 * 0.25);
    /* the MLE beats the true parameters on its own data */
    st_bgnbd truth = {.r = 0.25, .alpha = 4.0, .a = 0.8, .b = 2.5};
    assert_true(m1.ll >= st_bgnbd_loglik(&truth, x, tx, T, n));
    strata_ctx_free(ctx);
    free(x);
    free(tx);
    free(T);
}

static void test_summary_json(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    st_clv_cbs cbs = cbs_view(&t);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_clv_predict_opts o;
    st_clv_predict_defaults(&o, ST_CLV_WEEKS);
    st_clv_preds pr;
    assert_int_equal(st_clv_predict(ctx, &REF_BG, &REF_GG, &cbs, &o, &pr), STRATA_OK);
    st_clv_holdout h;
    assert_int_equal(st_clv_holdout_table(ctx, &REF_BG, &cbs, 39, &h), STRATA_OK);
    st_bgnbd md = REF_BG;
    md.ll = -9582.43;
    cJSON *j = st_clv_summary_json(&md, &REF_GG, &cbs, &pr, &o, &h, ST_CLV_WEEKS);
    assert_non_null(j);
    cJSON *bg = cJSON_GetObjectItem(j, "bgnbd");
    assert_near(cJSON_GetObjectItem(bg, "r")->valuedouble, REF_BG.r, 0);
    assert_near(cJSON_GetObjectItem(bg, "log_likelihood")->valuedouble, -9582.43, 0);
    assert_string_equal(cJSON_GetObjectItem(j, "unit")->valuestring, "weeks");
    cJSON *groups = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "holdout"), "groups");
    assert_int_equal(cJSON_GetArraySize(groups), 8);
    cJSON *g7 = cJSON_GetArrayItem(groups, 7);
    assert_string_equal(cJSON_GetObjectItem(g7, "x")->valuestring, "7+");
    assert_near(cJSON_GetObjectItem(g7, "actual")->valuedouble, 6.359375, 1e-12);
    /* histogram counts add up to the persons, edges are one more than counts */
    const char *hists[] = {"p_alive_histogram", "clv_histogram"};
    for (int k = 0; k < 2; k++) {
        cJSON *hist = cJSON_GetObjectItem(j, hists[k]);
        cJSON *counts = cJSON_GetObjectItem(hist, "counts");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(hist, "edges")),
                         cJSON_GetArraySize(counts) + 1);
        double total = 0;
        cJSON *c;
        cJSON_ArrayForEach(c, counts) total += c->valuedouble;
        assert_near(total, 2357, 0);
    }
    /* P(alive) histogram: every x = 0 person has P(alive) = 1, so the top bin holds them */
    cJSON *pac = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "p_alive_histogram"), "counts");
    assert_true(cJSON_GetArrayItem(pac, 19)->valuedouble >= 1411);
    /* heatmap: persons per frequency column add up to the holdout group sizes */
    cJSON *hm = cJSON_GetObjectItem(j, "p_alive_heatmap");
    cJSON *persons = cJSON_GetObjectItem(hm, "persons");
    assert_int_equal(cJSON_GetArraySize(persons), 10);
    for (int g = 0; g < 8; g++) {
        double col = 0;
        cJSON *row;
        cJSON_ArrayForEach(row, persons) col += cJSON_GetArrayItem(row, g)->valuedouble;
        assert_near(col, (double)h.persons[g], 0);
    }
    /* x = 0 column: P(alive) is exactly 1 wherever there are persons */
    cJSON *mean0 = cJSON_GetArrayItem(cJSON_GetObjectItem(hm, "mean"), 9);
    assert_near(cJSON_GetArrayItem(mean0, 0)->valuedouble, 1.0, 0);
    double clv_sum = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "clv_sum")->valuedouble;
    double want = 0;
    for (size_t i = 0; i < pr.n; i++)
        want += pr.clv[i];
    assert_near(clv_sum, want, 1e-9 * want);
    cJSON_Delete(j);
    /* without spend model and holdout */
    st_clv_preds pr2;
    assert_int_equal(st_clv_predict(ctx, &REF_BG, NULL, &cbs, &o, &pr2), STRATA_OK);
    j = st_clv_summary_json(&md, NULL, &cbs, &pr2, &o, NULL, ST_CLV_WEEKS);
    assert_non_null(j);
    assert_null(cJSON_GetObjectItem(j, "gamma_gamma"));
    assert_null(cJSON_GetObjectItem(j, "clv_histogram"));
    assert_null(cJSON_GetObjectItem(j, "holdout"));
    cJSON_Delete(j);
    st_clv_preds_clear(&pr2);
    st_clv_preds_clear(&pr);
    strata_ctx_free(ctx);
    table_free(&t);
}

/* Every allocation failing in turn ends in ENOMEM with nothing leaked. */
static void test_allocation_failures(void **state)
{
    (void)state;
    table t = cdnow_cbs();
    st_clv_cbs view = cbs_view(&t);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    size_t base = strata_memory_used();
    st_clv_predict_opts o;
    st_clv_predict_defaults(&o, ST_CLV_WEEKS);
    int failures = 0;
    for (uint64_t nth = 1; nth < 40; nth++) {
        st_bgnbd md;
        st_gammagamma gg;
        st_clv_preds pr;
        strata_memory_fail_after(nth);
        strata_status s1 = st_bgnbd_fit(ctx, t.col[1], t.col[2], t.col[3], t.rows, NULL, &md);
        strata_status s2 =
            s1 == STRATA_OK ? st_gammagamma_fit(ctx, t.col[1], t.col[5], t.rows, NULL, &gg) : s1;
        strata_status s3 = s2 == STRATA_OK ? st_clv_predict(ctx, &md, &gg, &view, &o, &pr) : s2;
        strata_memory_fail_after(0);
        if (s3 == STRATA_OK) {
            st_clv_preds_clear(&pr);
        } else {
            assert_int_equal(s3, STRATA_ENOMEM);
            failures++;
        }
        assert_int_equal(strata_memory_used(), base);
    }
    assert_true(failures >= 10);
    strata_ctx_free(ctx);
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bgnbd_cdnow_published),
        cmocka_unit_test(test_gammagamma_cdnow_published),
        cmocka_unit_test(test_expected_vs_mpmath),
        cmocka_unit_test(test_predict_and_clv_vs_mpmath),
        cmocka_unit_test(test_holdout_table),
        cmocka_unit_test(test_cbs_from_elog),
        cmocka_unit_test(test_cbs_same_day_merge),
        cmocka_unit_test(test_large_frequencies),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_recovery_and_threads),
        cmocka_unit_test(test_summary_json),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
