/*
 * cmd_cluster.c — `strata cluster`: K-means clusters on the numeric columns of any CSV
 * (the profiles.csv of `strata run` has recency_days, frequency, monetary). Fits (k given
 * or chosen by silhouette), names and describes the clusters, writes one cluster per row
 * and saves the centroids so that new persons can be assigned with --apply. The work is
 * strata_cluster_run(); this file parses the options and prints.
 */
#include "cli.h"

#include <string.h>

static const cli_option options[] = {
    {"--table", "FILE", "CSV with a header, optionally .gz (required)", false},
    {"--features", "A,B,C", "numeric feature columns (default recency_days,frequency,monetary)",
     false},
    {"--id", "COLUMN", "id column copied to --out (default: row numbers)", false},
    {"--k", "K", "number of clusters, 2-64 (default: chosen by silhouette)", false},
    {"--k-max", "K", "largest k tried when choosing (default 8)", false},
    {"--n-init", "N", "restarts, the lowest inertia is kept (default 4)", false},
    {"--max-iter", "N", "Lloyd iterations per restart (default 300)", false},
    {"--seed", "S", "random seed; the same seed gives the same clusters (default 1)", false},
    {"--no-log", NULL, "standardize the raw values (default: log1p first)", false},
    {"--revenue", "COLUMN", "feature whose shares are reported (default: the money column)", false},
    {"--out", "FILE", "write id,cluster,cluster_en,cluster_zh per row", false},
    {"--model", "FILE", "save the centroids and names here (JSON)", false},
    {"--apply", "FILE", "assign with a saved model instead of fitting", false},
    {"--summary", "FILE",
     "also write the summary JSON here ({\"clusters\": ...}, for `strata report`)", false},
    CLI_COMMON_OPTIONS,
};
static const cli_command command = {
    "cluster",
    "strata cluster --table FILE [--features A,B,C] [--k K] [--seed S] [--out FILE]\n"
    "                      [--model FILE | --apply FILE] [--json]",
    "K-means with k-means++ seeding and Lloyd iterations on standardized log1p features;\n"
    "k given or chosen by the silhouette on a sample (k = 2..k-max). Each cluster is described\n"
    "(size, share, revenue share, mean of every feature) and named from its centroid, e.g.\n"
    "\"recent frequent big spenders\" / 近期活跃高频高消费客户. Rows with an empty feature value\n"
    "are skipped and counted. --apply assigns the rows of a table to the clusters of a model\n"
    "saved with --model.",
    "  strata cluster --table out/profiles.csv --id user_id --out clusters.csv \\\n"
    "      --model clusters.json\n"
    "  strata cluster --table new_profiles.csv --id user_id --apply clusters.json --out new.csv\n"
    "  strata cluster --table customers.csv --features visits,spend --k 4 --seed 7 --json\n",
    options,
    sizeof options / sizeof options[0],
    0};

static bool int_option(const cli_parsed *p, const char *opt, int lo, int hi, int *out)
{
    const char *v = cli_get(p, opt);
    if (!v) return true;
    uint64_t n;
    if (!cli_u64(opt, v, &n) || n < (uint64_t)lo || n > (uint64_t)hi) {
        fprintf(stderr, "strata cluster: %s must be %d to %d\n", opt, lo, hi);
        return false;
    }
    *out = (int)n;
    return true;
}

int cmd_cluster(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    const char *table_path = cli_get(&p, "--table");
    if (!table_path) {
        fprintf(stderr, "strata cluster: --table FILE is required (see --help)\n");
        return 64;
    }
    const char *apply = cli_get(&p, "--apply");
    if (apply && (cli_has(&p, "--model") || cli_has(&p, "--k"))) {
        fprintf(stderr, "strata cluster: --apply uses a saved model; --model and --k fit one\n");
        return 64;
    }
    strata_cluster_opts o = {0};
    o.table = table_path;
    if (!int_option(&p, "--k", 2, 64, &o.k) || !int_option(&p, "--k-max", 2, 64, &o.k_max) ||
        !int_option(&p, "--n-init", 1, 1000, &o.n_init) ||
        !int_option(&p, "--max-iter", 1, 100000, &o.max_iter))
        return 64;
    const char *v;
    if ((v = cli_get(&p, "--seed"))) {
        if (!cli_u64("--seed", v, &o.seed)) return 64;
        o.has_seed = true;
    }
    o.raw = cli_has(&p, "--no-log");
    o.features = cli_get(&p, "--features");
    o.id_column = cli_get(&p, "--id");
    o.revenue = cli_get(&p, "--revenue");
    o.labels_path = cli_get(&p, "--out");
    o.model_path = cli_get(&p, "--model");
    o.apply_path = apply;
    o.summary_path = cli_get(&p, "--summary");

    strata_ctx *ctx;
    if ((code = cli_context("cluster", &p, &ctx)) != 0) return code;
    char *json, *text, *warnings;
    strata_status st = strata_cluster_run(ctx, &o, &json, &text, &warnings);
    return cli_finish("cluster", ctx, st, json, text, warnings, cli_has(&p, "--json"));
}
