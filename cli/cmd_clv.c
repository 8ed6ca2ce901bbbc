/*
 * cmd_clv.c — `strata clv fit|predict`: customer lifetime value with BG/NBD (purchases and
 * P(alive)) and Gamma-Gamma (order value) on a calibration summary table or a transaction
 * log. fit prints the population parameters, the log-likelihood and, when the input has a
 * holdout, predicted vs actual purchases per frequency group; predict also writes one row
 * of predictions per person. The work is strata_clv_run(); this file parses the options
 * and prints.
 */
#include "cli.h"

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

static bool parse_unit(const char *name, const cli_parsed *p, bool *weeks)
{
    const char *v = cli_get(p, "--unit");
    *weeks = false;
    if (!v || !strcmp(v, "days") || !strcmp(v, "day")) return true;
    if (!strcmp(v, "weeks") || !strcmp(v, "week")) {
        *weeks = true;
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

/* The input options into o; 0 or an exit code. */
static int input_options(const char *name, const cli_parsed *p, strata_clv_opts *o)
{
    o->cbs_path = cli_get(p, "--cbs");
    o->elog_path = cli_get(p, "--elog");
    if (!!o->cbs_path == !!o->elog_path) {
        fprintf(stderr, "strata %s: give either --cbs FILE or --elog FILE (see --help)\n", name);
        return 64;
    }
    const char *hl = cli_get(p, "--holdout-length");
    if (o->cbs_path && hl &&
        (!cli_double("--holdout-length", hl, &o->holdout_length) || !(o->holdout_length > 0))) {
        fprintf(stderr, "strata %s: --holdout-length must be > 0\n", name);
        return 64;
    }
    o->id_column = cli_get(p, "--id-column");
    o->date_column = cli_get(p, "--date-column");
    o->amount_column = cli_get(p, "--amount-column");
    if (!parse_day(name, p, "--calibration-end", &o->calibration_end) ||
        !parse_day(name, p, "--holdout-end", &o->holdout_end))
        return 64;
    if (o->elog_path && o->calibration_end == STRATA_DAY_NONE) {
        fprintf(stderr, "strata %s: --elog needs --calibration-end YYYY-MM-DD\n", name);
        return 64;
    }
    return 0;
}

/* The prediction options into o; 0 or an exit code. */
static int predict_options_of(const char *name, const cli_parsed *p, strata_clv_opts *o)
{
    const char *v;
    o->predictions_path = cli_get(p, "--out");
    if (!o->predictions_path) {
        fprintf(stderr, "strata %s: --out FILE is required (see --help)\n", name);
        return 64;
    }
    if ((v = cli_get(p, "--horizon")) &&
        (!cli_double("--horizon", v, &o->horizon) || !(o->horizon >= 0)))
        return 64;
    if ((v = cli_get(p, "--months"))) {
        uint64_t months;
        if (!cli_u64("--months", v, &months) || months > 1200) {
            fprintf(stderr, "strata %s: --months must be 0 to 1200\n", name);
            return 64;
        }
        o->months = (int)months;
    }
    if ((v = cli_get(p, "--month-length")) &&
        (!cli_double("--month-length", v, &o->month_length) || !(o->month_length > 0))) {
        fprintf(stderr, "strata %s: --month-length must be > 0\n", name);
        return 64;
    }
    if ((v = cli_get(p, "--discount")) &&
        (!cli_double("--discount", v, &o->discount) || !(o->discount > -1))) {
        fprintf(stderr, "strata %s: --discount must be > -1\n", name);
        return 64;
    }
    return 0;
}

static int run(const cli_command *cmd, bool predict, int argc, char **argv)
{
    const char *name = cmd->name;
    cli_parsed p;
    int code;
    if (!cli_parse(cmd, argc, argv, &p, &code)) return code;
    strata_clv_opts o = {.horizon = NAN, .month_length = NAN, .discount = NAN, .months = -1};
    if (!parse_unit(name, &p, &o.weeks)) return 64;
    if (predict && (code = predict_options_of(name, &p, &o)) != 0) return code;
    if ((code = input_options(name, &p, &o)) != 0) return code;
    o.summary_path = cli_get(&p, "--summary");
    strata_ctx *ctx;
    if ((code = cli_context(name, &p, &ctx)) != 0) return code;
    char *json, *text, *warnings;
    strata_status st = strata_clv_run(ctx, &o, &json, &text, &warnings);
    return cli_finish(name, ctx, st, json, text, warnings, cli_has(&p, "--json"));
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
