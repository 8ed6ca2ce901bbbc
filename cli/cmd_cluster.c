/*
 * cmd_cluster.c — `strata cluster`: K-means clusters on the numeric columns of any CSV
 * (the profiles.csv of `strata run` has recency_days, frequency, monetary). Fits (k given
 * or chosen by silhouette), names and describes the clusters, writes one cluster per row
 * and saves the centroids so that new persons can be assigned with --apply.
 *
 * The st_kmeans_* entry points are declared in src/models/kmeans.h, which depends only on
 * strata.h and cJSON, until the lead moves them into include/strata.h; then the include
 * below goes away.
 */
#include "cli.h"

#include "../src/models/kmeans.h"

#include <math.h>
#include <stdlib.h>
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

#define MAX_FEATURES ST_KMEANS_MAX_D

/* Split "a,b,c" into names (pointers into buf). Returns the count, -1 on a bad list. */
static int split_features(const char *list, char *buf, size_t cap, const char **names)
{
    if (strlen(list) >= cap) return -1;
    memcpy(buf, list, strlen(list) + 1);
    int n = 0;
    char *p = buf;
    while (*p) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (*p == ' ')
            p++;
        char *end = p + strlen(p);
        while (end > p && end[-1] == ' ')
            *--end = '\0';
        if (!*p || n >= MAX_FEATURES) return -1;
        names[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

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

static void print_text(const st_kmeans *m, size_t rows, bool applied, const uint32_t *labels)
{
    if (applied) {
        size_t count[ST_KMEANS_MAX_K] = {0};
        for (size_t i = 0; i < rows; i++)
            count[labels[i]]++;
        printf("%zu rows assigned to %d clusters\n", rows, m->k);
        for (int c = 0; c < m->k; c++)
            printf("  %2d  %-40s %9zu  %5.1f%%\n", c, m->clusters[c].name_en, count[c],
                   rows ? 100.0 * (double)count[c] / (double)rows : 0);
        return;
    }
    printf("%d clusters over %zu rows (inertia %.4g, %d iterations)\n", m->k, m->n, m->inertia,
           m->iterations);
    if (m->k_max_tried) {
        printf("  silhouette by k:");
        for (int k = m->k_min_tried; k <= m->k_max_tried; k++)
            printf(" %d:%.3f%s", k, m->silhouette[k], k == m->k ? "*" : "");
        printf("\n");
    }
    printf("  %-3s %-36s %8s %7s %8s", "id", "name", "size", "share", "revenue");
    for (int j = 0; j < m->d; j++)
        printf(" %14.14s", m->features[j]);
    printf("\n");
    for (int c = 0; c < m->k; c++) {
        const st_kmeans_cluster *cl = &m->clusters[c];
        printf("  %-3d %-36.36s %8zu %6.1f%% ", c, cl->name_en, cl->size, 100 * cl->share);
        if (isfinite(cl->revenue_share))
            printf("%7.1f%%", 100 * cl->revenue_share);
        else
            printf("%8s", "-");
        for (int j = 0; j < m->d; j++)
            printf(" %14.4g", cl->mean[j]);
        printf("   %s\n", cl->name_zh);
    }
}

static int write_summary(const cli_parsed *p, const st_kmeans *m, size_t skipped, bool applied,
                         const uint32_t *labels, size_t rows)
{
    cJSON *j = st_kmeans_summary_json(m);
    if (j) {
        cJSON_AddNumberToObject(j, "rows_skipped", (double)skipped);
        cJSON_AddBoolToObject(j, "applied_model", applied);
        if (applied) {
            cJSON *counts = cJSON_AddArrayToObject(j, "assigned");
            size_t count[ST_KMEANS_MAX_K] = {0};
            for (size_t i = 0; i < rows; i++)
                count[labels[i]]++;
            for (int c = 0; counts && c < m->k; c++)
                cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)count[c]));
        }
    }
    /* shaped like summary.json ({"clusters": ...}), so `strata report --summary` renders it */
    cJSON *root = j ? cJSON_CreateObject() : NULL;
    if (root && !cJSON_AddItemToObject(root, "clusters", j)) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root) cJSON_Delete(j);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "strata cluster: out of memory\n");
        return 71;
    }
    int code = 0;
    const char *path = cli_get(p, "--summary");
    if (path) {
        FILE *f = fopen(path, "w");
        if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "strata cluster: cannot write %s\n", path);
            code = 74;
        }
    }
    if (cli_has(p, "--json"))
        printf("%s\n", text);
    else
        print_text(m, rows, applied, labels);
    cJSON_free(text);
    return code;
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
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    if (!int_option(&p, "--k", 2, ST_KMEANS_MAX_K, &o.k) ||
        !int_option(&p, "--k-max", 2, ST_KMEANS_MAX_K, &o.k_max) ||
        !int_option(&p, "--n-init", 1, 1000, &o.n_init) ||
        !int_option(&p, "--max-iter", 1, 100000, &o.max_iter))
        return 64;
    const char *v;
    if ((v = cli_get(&p, "--seed")) && !cli_u64("--seed", v, &o.seed)) return 64;
    o.log1p = !cli_has(&p, "--no-log");

    strata_ctx *ctx;
    if ((code = cli_context("cluster", &p, &ctx)) != 0) return code;
    st_kmeans *model = NULL;
    st_table table;
    memset(&table, 0, sizeof table);
    uint32_t *labels = NULL;
    double *rows = NULL;
    strata_status st = STRATA_OK;
    const char *names[MAX_FEATURES];
    char list[MAX_FEATURES * ST_KMEANS_MAX_NAME];
    int d;
    if (apply) {
        if ((st = st_kmeans_load(ctx, apply, &model)) != STRATA_OK) goto fail;
        d = model->d;
        for (int j = 0; j < d; j++)
            names[j] = model->features[j];
    } else {
        d = split_features(cli_get(&p, "--features") ? cli_get(&p, "--features")
                                                     : "recency_days,frequency,monetary",
                           list, sizeof list, names);
        if (d < 1) {
            fprintf(stderr, "strata cluster: --features expects 1 to %d comma-separated names\n",
                    MAX_FEATURES);
            code = 64;
            goto done;
        }
        if ((v = cli_get(&p, "--revenue"))) {
            o.revenue_feature = -2;
            for (int j = 0; j < d; j++)
                if (!strcmp(names[j], v)) o.revenue_feature = j;
            if (o.revenue_feature == -2) {
                fprintf(stderr, "strata cluster: --revenue must be one of the features\n");
                code = 64;
                goto done;
            }
        }
    }
    st_table_col cols[MAX_FEATURES + 1];
    for (int j = 0; j < d; j++)
        cols[j] = (st_table_col){names[j], ST_TABLE_NUMBER, true};
    const char *id = cli_get(&p, "--id");
    if (id) cols[d] = (st_table_col){id, ST_TABLE_TEXT, true};
    size_t ncols = (size_t)d + (id ? 1 : 0);
    if ((st = st_table_read(ctx, table_path, cols, ncols, &table)) != STRATA_OK) goto fail;
    if (table.skipped)
        fprintf(stderr, "strata cluster: %zu rows with empty values skipped (first at line %llu)\n",
                table.skipped, (unsigned long long)table.first_skipped_line);
    /* the features as an n x d matrix */
    rows = malloc((table.rows ? table.rows : 1) * (size_t)d * sizeof *rows);
    labels = malloc((table.rows ? table.rows : 1) * sizeof *labels);
    if (!rows || !labels) {
        fprintf(stderr, "strata cluster: out of memory\n");
        code = 71;
        goto done;
    }
    for (size_t i = 0; i < table.rows; i++)
        memcpy(rows + i * (size_t)d, table.values + i * ncols, (size_t)d * sizeof *rows);
    if (apply)
        st = st_kmeans_assign(ctx, model, rows, table.rows, labels, NULL);
    else
        st = st_kmeans_fit(ctx, rows, table.rows, d, names, &o, &model, labels);
    if (st != STRATA_OK) goto fail;
    const char *out = cli_get(&p, "--out");
    if (out &&
        (st = st_kmeans_write_labels(ctx, out, &table, model, labels, table.rows)) != STRATA_OK)
        goto fail;
    const char *model_path = cli_get(&p, "--model");
    if (model_path && (st = st_kmeans_save(ctx, model, model_path)) != STRATA_OK) goto fail;
    code = write_summary(&p, model, table.skipped, apply != NULL, labels, table.rows);
    goto done;
fail:
    code = cli_fail("cluster", ctx, st);
done:
    free(rows);
    free(labels);
    st_table_clear(&table);
    st_kmeans_free(model);
    strata_ctx_free(ctx);
    return code;
}
