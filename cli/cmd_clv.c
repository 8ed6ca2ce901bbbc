/*
 * cmd_clv.c — `strata clv fit|predict`: customer lifetime value with BG/NBD (purchases and
 * P(alive)) and Gamma-Gamma (order value) on a calibration summary table or a transaction
 * log. fit prints the population parameters, the log-likelihood and, when the input has a
 * holdout, predicted vs actual purchases per frequency group; predict also writes one row
 * of predictions per person.
 *
 * The st_clv_* entry points are declared in src/models/clv.h, which depends only on
 * strata.h and cJSON, until the lead moves them into include/strata.h; then the include
 * below goes away.
 */
#include "cli.h"

#include "../src/models/clv.h"

#include <math.h>
#include <string.h>

/* The options both subcommands share (spliced into their tables). */
// clang-format off
#define INPUT_OPTIONS                                                                            \
    {"--cbs", "FILE", "calibration summary CSV: x,t_x,T[,m][,x_star] (or BTYD / lifetimes names)", false}, \
    {"--elog", "FILE", "instead of --cbs: transaction log CSV (customer id, date, sales)", false}, \
    {"--calibration-end", "YYYY-MM-DD", "with --elog: last day of calibration (inclusive)", false}, \
    {"--holdout-end", "YYYY-MM-DD", "with --elog: last day of the holdout (inclusive)", false},   \
    {"--id-column", "NAME", "with --elog: customer id column (default: customer_id, cust, id, user_id, masterid)", false}, \
    {"--date-column", "NAME", "with --elog: date column, YYYYMMDD or ISO (default: date)", false}, \
    {"--amount-column", "NAME", "with --elog: amount column (default: sales, amount)", false},   \
    {"--unit", "weeks|days", "time unit of t_x, T and every horizon (default: days)", false},    \
    {"--holdout-length", "N", "with --cbs: holdout length in units for the x_star check", false}, \
    {"--summary", "FILE", "also write the summary JSON here ({\"clv\": ...}, for `strata report`)", false}
// clang-format on

static const cli_option fit_options[] = {
    INPUT_OPTIONS,
    CLI_COMMON_OPTIONS,
};
static const cli_command fit_command = {
    "clv fit",
    "strata clv fit (--cbs FILE | --elog FILE --calibration-end DATE) [--unit weeks|days]\n"
    "                      [--json]",
    "Fit BG/NBD (Fader, Hardie & Lee 2005) by maximum likelihood and print r, alpha, a, b and\n"
    "the log-likelihood; when spend is given (m, or amounts in the log) also fit Gamma-Gamma\n"
    "(p, q, gamma) on the persons with repeat purchases. Conventions as the literature:\n"
    "x = repeat purchase days, t_x = first to last purchase, T = first purchase to the end\n"
    "of calibration, m = mean value of the repeat purchases. With a holdout (x_star column\n"
    "and --holdout-length, or --elog with --holdout-end) the predicted and actual holdout\n"
    "purchases are compared per calibration frequency group 0..7+.",
    "  strata clv fit --cbs tests/data/cdnow/cdnow_sample_cbs.csv.gz --unit weeks \\\n"
    "      --holdout-length 39\n"
    "  strata clv fit --elog tests/data/cdnow/cdnow_sample_elog.csv.gz --id-column sampleid \\\n"
    "      --calibration-end 1997-09-30 --holdout-end 1998-06-30 --unit weeks --json\n",
    fit_options,
    sizeof fit_options / sizeof fit_options[0],
    0};

static const cli_option predict_options[] = {
    INPUT_OPTIONS,
    {"--out", "FILE", "write id,x,t_x,T,p_alive,exp_purchases,exp_aov,clv here (required)", false},
    {"--horizon", "H", "exp_purchases over the next H units (default 90 days / 13 weeks)", false},
    {"--months", "M", "CLV horizon in months (default 12)", false},
    {"--month-length", "L", "one month in units (default 30 days / 4.345 weeks)", false},
    {"--discount", "D", "monthly discount rate of the CLV (default 0.01)", false},
    CLI_COMMON_OPTIONS,
};
static const cli_command predict_command = {
    "clv predict",
    "strata clv predict (--cbs FILE | --elog FILE --calibration-end DATE) --out FILE\n"
    "                          [--horizon H] [--months M] [--discount D] [--unit weeks|days]",
    "Fit as `strata clv fit`, then write per person: p_alive (BG/NBD), exp_purchases in the\n"
    "next H units, exp_aov (Gamma-Gamma conditional mean order value) and\n"
    "  clv = sum over months k = 1..M of (E[X(k L)] - E[X((k-1) L)]) x exp_aov / (1 + D)^k\n"
    "(L = month length): the expected purchases in month k valued at the expected order\n"
    "value and discounted to today, as lifetimes' customer_lifetime_value.",
    "  strata clv predict --cbs tests/data/cdnow/cdnow_sample_cbs.csv.gz --unit weeks \\\n"
    "      --horizon 39 --out preds.csv\n"
    "  strata clv predict --elog orders.csv --id-column user_id --date-column order_ts \\\n"
    "      --amount-column amount --calibration-end 2024-12-31 --out clv.csv --summary clv.json\n",
    predict_options,
    sizeof predict_options / sizeof predict_options[0],
    0};

static void usage(FILE *f)
{
    fprintf(
        f, "Usage: strata clv <fit|predict> [options]\n\n"
           "Customer lifetime value: BG/NBD purchases and P(alive), Gamma-Gamma order value.\n\n"
           "  fit       fit the models and print parameters, log-likelihood, holdout check\n"
           "  predict   also write p_alive, exp_purchases, exp_aov and clv per person\n\n"
           "Run `strata clv <subcommand> --help` for its options.\n"
           "Example: strata clv fit --cbs tests/data/cdnow/cdnow_sample_cbs.csv.gz --unit weeks\n");
}

static bool parse_unit(const char *name, const cli_parsed *p, st_clv_unit *unit)
{
    const char *v = cli_get(p, "--unit");
    *unit = ST_CLV_DAYS;
    if (!v || !strcmp(v, "days") || !strcmp(v, "day")) return true;
    if (!strcmp(v, "weeks") || !strcmp(v, "week")) {
        *unit = ST_CLV_WEEKS;
        return true;
    }
    fprintf(stderr, "strata %s: --unit must be weeks or days, got '%s'\n", name, v);
    return false;
}

static bool parse_day(const char *name, const cli_parsed *p, const char *opt, int32_t *day)
{
    const char *v = cli_get(p, opt);
    *day = STRATA_DAY_NONE;
    if (!v) return true;
    if (strata_day_parse(v, day) == STRATA_OK) return true;
    fprintf(stderr, "strata %s: %s expects YYYY-MM-DD, got '%s'\n", name, opt, v);
    return false;
}

/* Read the input named by --cbs or --elog; returns 0 or an exit code. *duration is the
 * holdout length when one is known, else 0. */
static int read_input(const char *name, strata_ctx *ctx, const cli_parsed *p, st_clv_unit unit,
                      st_clv_data *data, double *duration)
{
    const char *cbs = cli_get(p, "--cbs"), *elog = cli_get(p, "--elog");
    *duration = 0;
    if (!!cbs == !!elog) {
        fprintf(stderr, "strata %s: give either --cbs FILE or --elog FILE (see --help)\n", name);
        return 64;
    }
    strata_status st;
    if (cbs) {
        const char *hl = cli_get(p, "--holdout-length");
        if (hl && (!cli_double("--holdout-length", hl, duration) || !(*duration > 0))) {
            fprintf(stderr, "strata %s: --holdout-length must be > 0\n", name);
            return 64;
        }
        st = st_clv_read_cbs(ctx, cbs, data);
        if (st == STRATA_OK && hl && !data->has_x_star) {
            fprintf(stderr, "strata %s: --holdout-length needs an x_star column in %s\n", name,
                    cbs);
            st_clv_data_clear(data);
            return 65;
        }
    } else {
        st_clv_elog_opts o = {cli_get(p, "--id-column"),
                              cli_get(p, "--date-column"),
                              cli_get(p, "--amount-column"),
                              STRATA_DAY_NONE,
                              STRATA_DAY_NONE,
                              unit};
        if (!parse_day(name, p, "--calibration-end", &o.cal_end_day) ||
            !parse_day(name, p, "--holdout-end", &o.holdout_end_day))
            return 64;
        if (o.cal_end_day == STRATA_DAY_NONE) {
            fprintf(stderr, "strata %s: --elog needs --calibration-end YYYY-MM-DD\n", name);
            return 64;
        }
        st = st_clv_read_elog(ctx, elog, &o, data);
        if (o.holdout_end_day != STRATA_DAY_NONE)
            *duration = (double)(o.holdout_end_day - o.cal_end_day) / (double)unit;
    }
    if (st != STRATA_OK) return cli_fail(name, ctx, st);
    if (data->skipped)
        fprintf(stderr, "strata %s: %zu rows with empty values skipped (first at line %llu)\n",
                name, data->skipped, (unsigned long long)data->first_skipped_line);
    if (data->cbs.n_late)
        fprintf(
            stderr,
            "strata %s: %zu persons whose first purchase is after the calibration end left out\n",
            name, data->cbs.n_late);
    return 0;
}

typedef struct fitted {
    st_bgnbd bg;
    st_gammagamma gg;
    bool has_gg;
    st_clv_holdout holdout;
    bool has_holdout;
} fitted;

static int fit_models(const char *name, strata_ctx *ctx, const st_clv_data *data, double duration,
                      fitted *f)
{
    memset(f, 0, sizeof *f);
    const st_clv_cbs *c = &data->cbs;
    strata_status st = st_bgnbd_fit(ctx, c->x, c->t_x, c->T, c->n, NULL, &f->bg);
    if (st != STRATA_OK) return cli_fail(name, ctx, st);
    if (data->has_m) {
        st = st_gammagamma_fit(ctx, c->x, c->m, c->n, NULL, &f->gg);
        if (st == STRATA_OK)
            f->has_gg = true;
        else /* a purchase model without a spend model is still useful: warn, go on */
            fprintf(stderr, "strata %s: no spend model, so no exp_aov or clv: %s\n", name,
                    strata_errmsg(ctx));
    }
    if (duration > 0 && data->has_x_star) {
        st = st_clv_holdout_table(ctx, &f->bg, c, duration, &f->holdout);
        if (st != STRATA_OK) return cli_fail(name, ctx, st);
        f->has_holdout = true;
    }
    return 0;
}

static void print_text(const st_clv_data *data, const fitted *f, st_clv_unit unit,
                       const st_clv_preds *preds)
{
    const char *u = unit == ST_CLV_WEEKS ? "weeks" : "days";
    printf("BG/NBD: %zu persons, time in %s\n", f->bg.n, u);
    printf("  r %.4f   alpha %.4f   a %.4f   b %.4f\n", f->bg.r, f->bg.alpha, f->bg.a, f->bg.b);
    printf("  log-likelihood %.4f  (%d iterations, %d of %d starts converged)\n", f->bg.ll,
           f->bg.iterations, f->bg.starts_converged, f->bg.starts);
    if (f->has_gg) {
        printf("Gamma-Gamma: %zu persons with repeat purchases", f->gg.n);
        if (f->gg.n_excluded) printf(" (%zu with spend <= 0 left out)", f->gg.n_excluded);
        printf("\n  p %.4f   q %.4f   gamma %.4f   log-likelihood %.4f\n", f->gg.p, f->gg.q,
               f->gg.gamma, f->gg.ll);
        printf("  population mean order value %.4f\n", f->gg.p * f->gg.gamma / (f->gg.q - 1));
    }
    if (f->has_holdout) {
        const st_clv_holdout *h = &f->holdout;
        printf("Holdout, %g %s: repeat purchases per person by calibration frequency\n",
               h->duration, u);
        printf("  %-4s %9s %9s %10s\n", "x", "persons", "actual", "predicted");
        for (int g = 0; g < ST_CLV_GROUPS; g++) {
            if (!h->persons[g]) continue;
            char label[8];
            snprintf(label, sizeof label, g == ST_CLV_GROUPS - 1 ? "%d+" : "%d", g);
            printf("  %-4s %9zu %9.3f %10.3f\n", label, h->persons[g], h->actual_mean[g],
                   h->predicted_mean[g]);
        }
        printf("  %-4s %9zu %9.1f %10.1f  (totals)\n", "all", data->cbs.n, h->actual_total,
               h->predicted_total);
    }
    if (preds) {
        double alive = 0, e = 0, clv = 0;
        for (size_t i = 0; i < preds->n; i++) {
            alive += preds->p_alive[i];
            e += preds->exp_purchases[i];
            if (preds->clv) clv += preds->clv[i];
        }
        printf("Predictions: %zu persons, mean P(alive) %.3f, expected purchases %.1f", preds->n,
               preds->n ? alive / (double)preds->n : 0, e);
        if (preds->clv) printf(", total CLV %.2f", clv);
        printf("\n");
    }
}

/* Build the summary, print it (--json) or the text, write --summary. */
static int finish(const char *name, const cli_parsed *p, const st_clv_data *data, const fitted *f,
                  st_clv_unit unit, const st_clv_preds *preds, const st_clv_predict_opts *po)
{
    cJSON *j = st_clv_summary_json(&f->bg, f->has_gg ? &f->gg : NULL, &data->cbs, preds, po,
                                   f->has_holdout ? &f->holdout : NULL, unit);
    cJSON *input = j ? cJSON_CreateObject() : NULL;
    if (input && cJSON_AddItemToObject(j, "input", input)) {
        cJSON_AddNumberToObject(input, "persons", (double)data->cbs.n);
        cJSON_AddNumberToObject(input, "rows_skipped", (double)data->skipped);
        cJSON_AddNumberToObject(input, "persons_after_calibration", (double)data->cbs.n_late);
        if (data->transactions)
            cJSON_AddNumberToObject(input, "transactions", (double)data->transactions);
    } else {
        cJSON_Delete(input);
    }
    /* shaped like summary.json ({"clv": ...}), so `strata report --summary` renders it */
    cJSON *root = j ? cJSON_CreateObject() : NULL;
    if (root && !cJSON_AddItemToObject(root, "clv", j)) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root) cJSON_Delete(j);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "strata %s: out of memory\n", name);
        return 71;
    }
    int code = 0;
    const char *path = cli_get(p, "--summary");
    if (path) {
        FILE *out = fopen(path, "w");
        if (!out || fputs(text, out) < 0 || fputc('\n', out) < 0 || fclose(out) != 0) {
            fprintf(stderr, "strata %s: cannot write %s\n", name, path);
            code = 74;
        }
    }
    if (cli_has(p, "--json"))
        printf("%s\n", text);
    else
        print_text(data, f, unit, preds);
    cJSON_free(text);
    return code;
}

static int run(const cli_command *cmd, bool predict, int argc, char **argv)
{
    const char *name = cmd->name;
    cli_parsed p;
    int code;
    if (!cli_parse(cmd, argc, argv, &p, &code)) return code;
    st_clv_unit unit;
    if (!parse_unit(name, &p, &unit)) return 64;
    st_clv_predict_opts po;
    st_clv_predict_defaults(&po, unit);
    const char *out = NULL;
    if (predict) {
        const char *v;
        out = cli_get(&p, "--out");
        if (!out) {
            fprintf(stderr, "strata %s: --out FILE is required (see --help)\n", name);
            return 64;
        }
        uint64_t months;
        if ((v = cli_get(&p, "--horizon")) &&
            (!cli_double("--horizon", v, &po.horizon) || !(po.horizon >= 0)))
            return 64;
        if ((v = cli_get(&p, "--months"))) {
            if (!cli_u64("--months", v, &months) || months > 1200) {
                fprintf(stderr, "strata %s: --months must be 0 to 1200\n", name);
                return 64;
            }
            po.months = (int)months;
        }
        if ((v = cli_get(&p, "--month-length")) &&
            (!cli_double("--month-length", v, &po.month_length) || !(po.month_length > 0))) {
            fprintf(stderr, "strata %s: --month-length must be > 0\n", name);
            return 64;
        }
        if ((v = cli_get(&p, "--discount")) &&
            (!cli_double("--discount", v, &po.discount) || !(po.discount > -1))) {
            fprintf(stderr, "strata %s: --discount must be > -1\n", name);
            return 64;
        }
    }
    strata_ctx *ctx;
    if ((code = cli_context(name, &p, &ctx)) != 0) return code;
    st_clv_data data;
    memset(&data, 0, sizeof data);
    double duration;
    fitted f;
    st_clv_preds preds;
    memset(&preds, 0, sizeof preds);
    if ((code = read_input(name, ctx, &p, unit, &data, &duration)) != 0) goto done;
    if ((code = fit_models(name, ctx, &data, duration, &f)) != 0) goto done;
    if (predict) {
        strata_status st =
            st_clv_predict(ctx, &f.bg, f.has_gg ? &f.gg : NULL, &data.cbs, &po, &preds);
        if (st == STRATA_OK) st = st_clv_write_predictions(ctx, out, &data, &preds);
        if (st != STRATA_OK) {
            code = cli_fail(name, ctx, st);
            goto done;
        }
    }
    code = finish(name, &p, &data, &f, unit, predict ? &preds : NULL, predict ? &po : NULL);
done:
    st_clv_preds_clear(&preds);
    st_clv_data_clear(&data);
    strata_ctx_free(ctx);
    return code;
}

int cmd_clv(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 64 : 0;
    }
    if (!strcmp(argv[1], "fit")) return run(&fit_command, false, argc - 1, argv + 1);
    if (!strcmp(argv[1], "predict")) return run(&predict_command, true, argc - 1, argv + 1);
    fprintf(stderr, "strata clv: unknown subcommand '%s'\n\n", argv[1]);
    usage(stderr);
    return 64;
}
