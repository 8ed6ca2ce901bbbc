/*
 * cmd_run.c — `strata run`: the batch job on the user's files. Ingest, clean, resolve
 * identities, build profiles with RFM scores and tiers, then write profiles.csv,
 * summary.json, quality.json, rejects.csv and report.html into --out, and the SQLite store.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cli_option options[] = {
    {"--orders", "FILE", "orders: CSV or JSON Lines, optionally .gz (required)", false},
    {"--events", "FILE", "behaviour events", false},
    {"--users", "FILE", "user attributes (sign-up, consent, acquisition channel, CAC)", false},
    {"--identities", "FILE", "identity links: user_id,id_type,id_value", false},
    {"--as-of", "YYYY-MM-DD", "as-of date, exclusive (default: day after the last order)", false},
    {"--out", "DIR", "output directory (default: out)", false},
    {"--db", "FILE", "SQLite store to save the run and snapshot into", false},
    {"--lang", "zh|en", "language of the summary and report (default: config lang)", false},
    {"--map", "FIELD=COLUMN", "map a field to a column, e.g. orders.user_id=CustomerID", true},
    {"--no-report", NULL, "skip report.html (faster)", false},
    {"--no-models", NULL, "skip CLV, churn and clusters (models.* = false)", false},
    CLI_COMMON_OPTIONS,
};

static const cli_command command = {
    "run",
    "strata run --orders FILE [--events FILE] [--users FILE] [--identities FILE]\n"
    "                  [--config FILE] [--as-of YYYY-MM-DD] [--out DIR] [--db FILE] [--lang zh|en]",
    "Run the whole batch job. Every rejected row is written with its line and reason to\n"
    "DIR/rejects.csv and counted in DIR/quality.json; profiles go to DIR/profiles.csv, the\n"
    "summary to DIR/summary.json and DIR/report.html. Exit codes: 0 ok, 64 usage,\n"
    "65 bad data, 66 input missing, 74 I/O or store error, 78 bad configuration.",
    "  strata run --orders orders.csv --out out --db out/strata.db\n"
    "  strata run --config examples/online_retail.yaml \\\n"
    "      --orders ../shared/datasets/online-retail/online_retail.csv.gz --out out/retail\n"
    "  strata run --orders o.csv --map orders.user_id=CustomerID --as-of 2024-01-01 --json\n",
    options, sizeof options / sizeof options[0], 0};

static int make_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(path, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

/* --map orders.user_id=CustomerID sets orders.columns.user_id. */
static int apply_maps(strata_ctx *ctx, const cli_parsed *p)
{
    for (int i = 0; i < cli_count(p, "--map"); i++) {
        const char *m = cli_get_at(p, "--map", i);
        const char *eq = strchr(m, '=');
        const char *dot = strchr(m, '.');
        if (!eq || !dot || dot > eq) {
            fprintf(stderr, "strata run: --map expects SOURCE.FIELD=COLUMN "
                            "(e.g. orders.user_id=CustomerID), got '%s'\n", m);
            return 64;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s.columns.%.*s", (int)(dot - m), m, (int)(eq - dot - 1),
                 dot + 1);
        strata_status st = strata_config_set(ctx, key, eq + 1);
        if (st != STRATA_OK) return cli_fail("run", ctx, st);
    }
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

int cmd_run(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    strata_inputs in = {cli_get(&p, "--orders"), cli_get(&p, "--events"), cli_get(&p, "--users"),
                        cli_get(&p, "--identities")};
    if (!in.orders) {
        fprintf(stderr, "strata run: --orders FILE is required (see --help)\n");
        return 64;
    }
    int32_t as_of = STRATA_DAY_NONE;
    const char *as_of_text = cli_get(&p, "--as-of");
    if (as_of_text && strata_day_parse(as_of_text, &as_of) != STRATA_OK) {
        fprintf(stderr, "strata run: --as-of expects YYYY-MM-DD, got '%s'\n", as_of_text);
        return 64;
    }
    strata_ctx *ctx;
    if ((code = cli_context("run", &p, &ctx)) != 0) return code;
    if ((code = apply_maps(ctx, &p)) != 0) {
        strata_ctx_free(ctx);
        return code;
    }
    const char *lang = cli_get(&p, "--lang");
    if (lang && strata_config_set(ctx, "lang", lang) != STRATA_OK) {
        code = cli_fail("run", ctx, STRATA_EUSAGE);
        strata_ctx_free(ctx);
        return code;
    }
    lang = strata_config_get(ctx, "lang");
    if (cli_has(&p, "--no-models")) {
        strata_config_set(ctx, "models.clv", "false");
        strata_config_set(ctx, "models.churn", "false");
        strata_config_set(ctx, "models.clusters", "false");
    }
    const char *out = cli_get(&p, "--out");
    if (!out) out = "out";
    if (make_dir(out) != 0) {
        fprintf(stderr, "strata run: cannot create output directory %s: %s\n", out,
                strerror(errno));
        strata_ctx_free(ctx);
        return 73;
    }
    char *rejects = join(out, "rejects.csv"), *profiles = join(out, "profiles.csv");
    char *summary = join(out, "summary.json"), *quality = join(out, "quality.json");
    char *report = join(out, "report.html");
    strata_job *job = NULL;
    char *text = NULL;
    strata_status st = strata_job_create(ctx, &job);
    if (st == STRATA_OK) st = strata_job_run(job, &in, as_of, rejects);
    if (st == STRATA_OK) st = strata_job_write_profiles(job, profiles);
    if (st == STRATA_OK) st = strata_job_write_quality(job, quality);
    if (st == STRATA_OK) st = strata_job_write_summary(job, summary);
    if (st == STRATA_OK) st = strata_job_save_models(job, out);
    if (st == STRATA_OK && !cli_has(&p, "--no-report"))
        st = strata_job_write_report(job, report, lang);
    if (st == STRATA_OK && cli_get(&p, "--db")) st = strata_job_store(job, cli_get(&p, "--db"));
    if (st == STRATA_OK) {
        if (cli_has(&p, "--json")) st = strata_job_summary_json(job, &text);
        else st = strata_job_summary_text(job, lang, &text);
    }
    if (st == STRATA_OK) {
        fputs(text, stdout);
        if (!cli_has(&p, "--json")) {
            printf("\nWrote %s, %s, %s, %s", profiles, summary, quality, rejects);
            if (!cli_has(&p, "--no-report")) printf(", %s", report);
            if (cli_get(&p, "--db")) printf(", %s", cli_get(&p, "--db"));
            printf("\n");
        } else {
            putchar('\n');
        }
        code = 0;
    } else {
        code = cli_fail("run", ctx, st);
    }
    strata_free(text);
    strata_job_free(job);
    strata_ctx_free(ctx);
    free(rejects), free(profiles), free(summary), free(quality), free(report);
    return code;
}
