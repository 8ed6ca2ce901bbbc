/*
 * cmd_churn.c — `strata churn train|eval|score`: churn models on any labelled table.
 * train fits gradient-boosted trees (XGBoost) and a logistic baseline, measures both on a
 * held-out split, keeps the better one and saves it; eval measures a saved model on a
 * labelled table; score writes id,churn_prob,churn_risk for every row and shows who is most
 * worth saving.
 */
#include "cli.h"

#include <string.h>

/* --orders and the inputs that go with it, the same for the three subcommands */
#define ORDERS_INPUT_OPTIONS                                                                       \
    {"--orders", "FILE", "instead of --table: orders (features and labels from the data)", false}, \
        {"--events", "FILE", "with --orders: behaviour events", false},                            \
        {"--users", "FILE", "with --orders: user attributes", false},                              \
        {"--identities", "FILE", "with --orders: identity links", false},                          \
    {                                                                                              \
        "--as-of", "YYYY-MM-DD",                                                                   \
            "with --orders: the as-of date (cutoff = as-of − churn.horizon_days)", false           \
    }

static const cli_option train_options[] = {
    {"--table", "FILE", "labelled table: CSV with a header, optionally .gz", false},
    ORDERS_INPUT_OPTIONS,
    {"--label", "COLUMN", "label column: churned = yes/1/true, stayed = no/0/false (required)",
     false},
    {"--id", "COLUMN", "person id column: never a feature, used again by `churn score`", false},
    {"--model", "FILE", "save the chosen model here", false},
    {"--summary", "FILE", "also write the summary JSON here", false},
    {"--test-share", "X", "share of rows held out to measure and choose (default 0.2)", false},
    CLI_COMMON_OPTIONS,
};
static const cli_command train_command = {
    "churn train",
    "strata churn train (--orders FILE [--events FILE] [--as-of DATE] | --table FILE --label "
    "COLUMN)\n"
    "                          [--model OUT] [--json]",
    "With --orders: a person is labelled churned when they had a valid order before the cutoff\n"
    "(as-of − churn.horizon_days, default 90) and none in the horizon after it; features come\n"
    "only from data before the cutoff. With --table: any labelled table.\n"
    "Train gradient-boosted trees (XGBoost, hist, early stopping) and a logistic-regression\n"
    "baseline on a labelled table; numeric columns are features as they are, text columns\n"
    "are one-hot encoded (blank = missing). Both are measured on a stratified held-out split\n"
    "(AUC, PR-AUC, log loss, Brier, confusion matrix at the F1-best threshold, calibration\n"
    "deciles, top features); the better one by AUC is kept. The seed is churn.seed.",
    "  strata churn train --orders orders.csv --events events.csv --model out/churn.model\n"
    "  strata churn train --table tests/data/telco/telco_customer_churn.csv.gz \\\n"
    "      --label Churn --id customerID --model out/churn.model\n"
    "  strata churn train --table persons.csv --label churned --json --set churn.seed=7\n",
    train_options,
    sizeof train_options / sizeof train_options[0],
    0};

static const cli_option eval_options[] = {
    {"--table", "FILE", "labelled table with the model's feature columns", false},
    ORDERS_INPUT_OPTIONS,
    {"--model", "FILE", "model saved by `strata churn train` (required)", false},
    {"--label", "COLUMN", "label column (default: the one the model was trained on)", false},
    {"--summary", "FILE", "also write the summary JSON here", false},
    CLI_COMMON_OPTIONS,
};
static const cli_command eval_command = {
    "churn eval",
    "strata churn eval (--orders FILE … | --table FILE) --model FILE [--json]",
    "Measure a saved churn model on a labelled table: AUC, PR-AUC, log loss, Brier, the\n"
    "confusion matrix at the model's threshold, calibration deciles and risk counts.",
    "  strata churn eval --orders orders_2025.csv --model out/churn.model\n"
    "  strata churn eval --table later.csv --model out/churn.model\n",
    eval_options,
    sizeof eval_options / sizeof eval_options[0],
    0};

static const cli_option score_options[] = {
    {"--table", "FILE", "table with the model's feature columns", false},
    ORDERS_INPUT_OPTIONS,
    {"--model", "FILE", "model saved by `strata churn train` (required)", false},
    {"--out", "FILE", "write id,churn_prob,churn_risk here (required)", false},
    {"--id", "COLUMN", "id column (default: the model's id column when present)", false},
    {"--value", "COLUMN", "numeric value column: ranks the high-risk persons worth saving", false},
    {"--tier", "COLUMN", "tier column: adds the risk distribution by tier", false},
    {"--summary", "FILE", "also write the summary JSON here", false},
    CLI_COMMON_OPTIONS,
};
static const cli_command score_command = {
    "churn score",
    "strata churn score (--orders FILE … | --table FILE) --model FILE --out FILE",
    "Score every row with a saved model. churn_risk is low, medium or high by the\n"
    "configuration keys churn.medium and churn.high; the report shows the risk distribution\n"
    "(by tier with --tier) and the high-risk persons with the highest --value.",
    "  strata churn score --orders orders.csv --model out/churn.model --out out/churn.csv\n"
    "  strata churn score --table customers.csv --model out/churn.model --out out/churn.csv \\\n"
    "      --id customerID --value TotalCharges\n"
    "  strata churn score --table p.csv --model m.model --out s.csv --set churn.high=0.7\n",
    score_options,
    sizeof score_options / sizeof score_options[0],
    0};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: strata churn <train|eval|score> [options]\n\n"
            "Churn prediction on your orders (--orders) or on any table with one row per\n"
            "person (--table).\n\n"
            "  train   fit XGBoost and logistic models, measure, keep and save the better one\n"
            "  eval    measure a saved model on a labelled table\n"
            "  score   write id,churn_prob,churn_risk and show who is most worth saving\n\n"
            "Run `strata churn <subcommand> --help` for its options.\n"
            "Example: strata churn train --table telco.csv.gz --label Churn --model churn.model\n");
}

/* Print the summary (JSON or text) and write --summary. */
static int finish(const char *name, strata_ctx *ctx, const cli_parsed *p, char *json)
{
    const char *path = cli_get(p, "--summary");
    if (path) {
        FILE *f = fopen(path, "w");
        if (!f || fputs(json, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "strata %s: cannot write %s\n", name, path);
            strata_free(json);
            return 74;
        }
    }
    if (cli_has(p, "--json")) {
        printf("%s\n", json);
    } else {
        char *text = NULL;
        strata_status st = strata_churn_summary_text(ctx, json, &text);
        if (st != STRATA_OK) {
            strata_free(json);
            return cli_fail(name, ctx, st);
        }
        fputs(text, stdout);
        strata_free(text);
    }
    strata_free(json);
    return 0;
}

/* --orders mode: run the batch job (with only the churn model when training) and hand it over.
 * Returns 0 or an exit code after printing the error. */
static int run_job(const char *name, const cli_parsed *p, strata_ctx *ctx, bool train,
                   strata_job **out)
{
    *out = NULL;
    strata_inputs in = {cli_get(p, "--orders"), cli_get(p, "--events"), cli_get(p, "--users"),
                        cli_get(p, "--identities")};
    int32_t as_of = STRATA_DAY_NONE;
    const char *as_of_text = cli_get(p, "--as-of");
    if (as_of_text && strata_day_parse(as_of_text, &as_of) != STRATA_OK) {
        fprintf(stderr, "strata %s: --as-of expects YYYY-MM-DD, got '%s'\n", name, as_of_text);
        return 64;
    }
    strata_config_set(ctx, "models.clv", "false");
    strata_config_set(ctx, "models.clusters", "false");
    strata_config_set(ctx, "models.churn", train ? "true" : "false");
    strata_job *job = NULL;
    strata_status st = strata_job_create(ctx, &job);
    if (st == STRATA_OK) st = strata_job_run(job, &in, as_of, NULL);
    if (st != STRATA_OK) {
        strata_job_free(job);
        return cli_fail(name, ctx, st);
    }
    *out = job;
    return 0;
}

static bool one_source(const char *name, const cli_parsed *p)
{
    if (cli_has(p, "--orders") != cli_has(p, "--table")) return true;
    fprintf(stderr, "strata %s: give either --orders FILE or --table FILE (see --help)\n", name);
    return false;
}

static bool require(const char *name, const cli_parsed *p, const char *opt)
{
    if (cli_get(p, opt) && *cli_get(p, opt)) return true;
    fprintf(stderr, "strata %s: %s is required (see --help)\n", name, opt);
    return false;
}

static int run_train_orders(const cli_parsed *p)
{
    const char *name = train_command.name;
    strata_ctx *ctx;
    int code;
    if ((code = cli_context(name, p, &ctx)) != 0) return code;
    strata_job *job = NULL;
    if ((code = run_job(name, p, ctx, true, &job)) != 0) {
        strata_ctx_free(ctx);
        return code;
    }
    char *json = NULL;
    strata_status st = strata_job_section_json(job, "churn", &json);
    const strata_churn_model *model = strata_job_churn_model(job);
    const char *out = cli_get(p, "--model");
    if (st == STRATA_OK && !model) {
        fprintf(stderr, "strata %s: no model could be trained on this data: %s\n", name, json);
        code = 65;
    } else if (st == STRATA_OK && out &&
               (st = strata_churn_model_save(ctx, model, out)) != STRATA_OK) {
        code = cli_fail(name, ctx, st);
    } else if (st != STRATA_OK) {
        code = cli_fail(name, ctx, st);
    } else {
        code = finish(name, ctx, p, json);
        json = NULL;
        if (code == 0 && out && !cli_has(p, "--json")) printf("\nmodel saved to %s\n", out);
    }
    strata_free(json);
    strata_job_free(job);
    strata_ctx_free(ctx);
    return code;
}

static int run_train(int argc, char **argv)
{
    const char *name = train_command.name;
    cli_parsed p;
    int code;
    if (!cli_parse(&train_command, argc, argv, &p, &code)) return code;
    if (!one_source(name, &p)) return 64;
    if (cli_has(&p, "--orders")) return run_train_orders(&p);
    if (!require(name, &p, "--table") || !require(name, &p, "--label")) return 64;
    strata_churn_table_opts o = {0};
    o.table = cli_get(&p, "--table");
    o.label_column = cli_get(&p, "--label");
    o.id_column = cli_get(&p, "--id");
    const char *v = cli_get(&p, "--test-share");
    if (v && (!cli_double("--test-share", v, &o.test_share) || o.test_share < 0.05 ||
              o.test_share > 0.5)) {
        fprintf(stderr, "strata %s: --test-share must be between 0.05 and 0.5\n", name);
        return 64;
    }
    strata_ctx *ctx;
    if ((code = cli_context(name, &p, &ctx)) != 0) return code;
    strata_churn_model *model = NULL;
    char *json = NULL;
    strata_status st = strata_churn_train_table(ctx, &o, &model, &json);
    const char *out = cli_get(&p, "--model");
    if (st == STRATA_OK && out) st = strata_churn_model_save(ctx, model, out);
    if (st != STRATA_OK) {
        code = cli_fail(name, ctx, st);
        strata_free(json);
    } else {
        code = finish(name, ctx, &p, json);
        if (code == 0 && out && !cli_has(&p, "--json")) printf("\nmodel saved to %s\n", out);
    }
    strata_churn_model_free(model);
    strata_ctx_free(ctx);
    return code;
}

static int run_eval_or_score(const cli_command *cmd, int argc, char **argv)
{
    cli_parsed p;
    int code;
    bool score = !strcmp(cmd->name, "churn score");
    if (!cli_parse(cmd, argc, argv, &p, &code)) return code;
    if (!one_source(cmd->name, &p) || !require(cmd->name, &p, "--model") ||
        (score && !require(cmd->name, &p, "--out")))
        return 64;
    strata_churn_table_opts o = {0};
    o.table = cli_get(&p, "--table");
    if (score) {
        o.out_path = cli_get(&p, "--out");
        o.id_column = cli_get(&p, "--id");
        o.value_column = cli_get(&p, "--value");
        o.tier_column = cli_get(&p, "--tier");
    } else {
        o.label_column = cli_get(&p, "--label");
    }
    strata_ctx *ctx;
    if ((code = cli_context(cmd->name, &p, &ctx)) != 0) return code;
    strata_churn_model *model = NULL;
    char *json = NULL;
    strata_job *job = NULL;
    strata_status st = strata_churn_model_load(ctx, cli_get(&p, "--model"), &model);
    if (st == STRATA_OK && cli_has(&p, "--orders")) {
        if ((code = run_job(cmd->name, &p, ctx, false, &job)) != 0) {
            strata_churn_model_free(model);
            strata_ctx_free(ctx);
            return code;
        }
        st = score ? strata_job_churn_score(job, model, o.out_path, &json)
                   : strata_job_churn_eval(job, model, &json);
    } else if (st == STRATA_OK) {
        st = score ? strata_churn_score_table(ctx, model, &o, &json)
                   : strata_churn_eval_table(ctx, model, &o, &json);
    }
    code = st == STRATA_OK ? finish(cmd->name, ctx, &p, json) : cli_fail(cmd->name, ctx, st);
    strata_job_free(job);
    strata_churn_model_free(model);
    strata_ctx_free(ctx);
    return code;
}

int cmd_churn(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "train")) return run_train(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return run_eval_or_score(&eval_command, argc - 1, argv + 1);
    if (!strcmp(sub, "score")) return run_eval_or_score(&score_command, argc - 1, argv + 1);
    fprintf(stderr, "strata churn: unknown subcommand '%s'\n\n", sub);
    usage(stderr);
    return 64;
}
