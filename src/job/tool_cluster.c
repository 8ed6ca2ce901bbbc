/*
 * tool_cluster.c — `strata cluster` as one library call: read the feature columns of a
 * table, fit k-means (or assign with a saved model), write the labels and the model, and
 * hand back the summary JSON, the readable table and the warnings. The CLI only parses
 * options and prints; the server can offer the same call.
 */
#include "job/job.h"
#include "models/kmeans.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_FEATURES "recency_days,frequency,monetary"

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
        if (!*p || n >= ST_KMEANS_MAX_D) return -1;
        names[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static void count_labels(const uint32_t *labels, size_t rows, size_t count[ST_KMEANS_MAX_K])
{
    memset(count, 0, ST_KMEANS_MAX_K * sizeof *count);
    for (size_t i = 0; i < rows; i++)
        count[labels[i]]++;
}

static strata_status text_of(st_buf *b, const st_kmeans *m, size_t rows, bool applied,
                             const uint32_t *labels)
{
    strata_status st = STRATA_OK;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (st == STRATA_OK) st = st_buf_printf(b, __VA_ARGS__);                                   \
    } while (0)
    if (applied) {
        size_t count[ST_KMEANS_MAX_K];
        count_labels(labels, rows, count);
        PUT("%zu rows assigned to %d clusters\n", rows, m->k);
        for (int c = 0; c < m->k; c++)
            PUT("  %2d  %-40s %9zu  %5.1f%%\n", c, m->clusters[c].name_en, count[c],
                rows ? 100.0 * (double)count[c] / (double)rows : 0);
        return st;
    }
    PUT("%d clusters over %zu rows (inertia %.4g, %d iterations)\n", m->k, m->n, m->inertia,
        m->iterations);
    if (m->k_max_tried) {
        PUT("  silhouette by k:");
        for (int k = m->k_min_tried; k <= m->k_max_tried; k++)
            PUT(" %d:%.3f%s", k, m->silhouette[k], k == m->k ? "*" : "");
        PUT("\n");
    }
    PUT("  %-3s %-36s %8s %7s %8s", "id", "name", "size", "share", "revenue");
    for (int j = 0; j < m->d; j++)
        PUT(" %14.14s", m->features[j]);
    PUT("\n");
    for (int c = 0; c < m->k; c++) {
        const st_kmeans_cluster *cl = &m->clusters[c];
        PUT("  %-3d %-36.36s %8zu %6.1f%% ", c, cl->name_en, cl->size, 100 * cl->share);
        if (isfinite(cl->revenue_share))
            PUT("%7.1f%%", 100 * cl->revenue_share);
        else
            PUT("%8s", "-");
        for (int j = 0; j < m->d; j++)
            PUT(" %14.4g", cl->mean[j]);
        PUT("   %s\n", cl->name_zh);
    }
#undef PUT
    return st;
}

/* {"clusters": ...}, shaped like summary.json so `strata report --summary` renders it. */
static cJSON *summary_of(const st_kmeans *m, size_t skipped, bool applied, const uint32_t *labels,
                         size_t rows)
{
    cJSON *j = st_kmeans_summary_json(m);
    if (j) {
        cJSON_AddNumberToObject(j, "rows_skipped", (double)skipped);
        cJSON_AddBoolToObject(j, "applied_model", applied);
        if (applied) {
            cJSON *counts = cJSON_AddArrayToObject(j, "assigned");
            size_t count[ST_KMEANS_MAX_K];
            count_labels(labels, rows, count);
            for (int c = 0; counts && c < m->k; c++)
                cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)count[c]));
        }
    }
    return st_json_wrap("clusters", j);
}

strata_status strata_cluster_run(strata_ctx *ctx, const strata_cluster_opts *o, char **out_json,
                                 char **out_text, char **out_warnings)
{
    *out_json = *out_text = *out_warnings = NULL;
    st_kmeans_opts ko;
    st_kmeans_opts_default(&ko);
    if (o->k) ko.k = o->k;
    if (o->k_max) ko.k_max = o->k_max;
    if (o->n_init) ko.n_init = o->n_init;
    if (o->max_iter) ko.max_iter = o->max_iter;
    if (o->has_seed) ko.seed = o->seed;
    ko.log1p = !o->raw;

    st_kmeans *model = NULL;
    st_table table;
    memset(&table, 0, sizeof table);
    uint32_t *labels = NULL;
    double *rows = NULL;
    st_buf warn, text;
    st_buf_init(&warn, 0);
    st_buf_init(&text, 0);
    strata_status st = STRATA_OK;
    const char *names[ST_KMEANS_MAX_D];
    char list[ST_KMEANS_MAX_D * ST_KMEANS_MAX_NAME];
    int d;
    if (o->apply_path) {
        if ((st = st_kmeans_load(ctx, o->apply_path, &model)) != STRATA_OK) goto done;
        d = model->d;
        for (int j = 0; j < d; j++)
            names[j] = model->features[j];
    } else {
        d = split_features(o->features ? o->features : DEFAULT_FEATURES, list, sizeof list, names);
        if (d < 1) {
            st = st_error(ctx, STRATA_EINVAL, "features: expected 1 to %d comma-separated names",
                          ST_KMEANS_MAX_D);
            goto done;
        }
        if (o->revenue) {
            ko.revenue_feature = -2;
            for (int j = 0; j < d; j++)
                if (!strcmp(names[j], o->revenue)) ko.revenue_feature = j;
            if (ko.revenue_feature == -2) {
                st = st_error(ctx, STRATA_EINVAL, "revenue: '%s' is not one of the features",
                              o->revenue);
                goto done;
            }
        }
    }
    st_table_col cols[ST_KMEANS_MAX_D + 1];
    for (int j = 0; j < d; j++)
        cols[j] = (st_table_col){names[j], ST_TABLE_NUMBER, true};
    if (o->id_column) cols[d] = (st_table_col){o->id_column, ST_TABLE_TEXT, true};
    size_t ncols = (size_t)d + (o->id_column ? 1 : 0);
    if ((st = st_table_read(ctx, o->table, cols, ncols, &table)) != STRATA_OK) goto done;
    if (table.skipped &&
        (st = st_buf_printf(&warn, "%zu rows with empty values skipped (first at line %llu)\n",
                            table.skipped, (unsigned long long)table.first_skipped_line)) !=
            STRATA_OK)
        goto done;
    /* the features as an n x d matrix */
    rows = st_malloc((table.rows ? table.rows : 1) * (size_t)d * sizeof *rows);
    labels = st_malloc((table.rows ? table.rows : 1) * sizeof *labels);
    if (!rows || !labels) {
        st = STRATA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < table.rows; i++)
        memcpy(rows + i * (size_t)d, table.values + i * ncols, (size_t)d * sizeof *rows);
    if (o->apply_path)
        st = st_kmeans_assign(ctx, model, rows, table.rows, labels, NULL);
    else
        st = st_kmeans_fit(ctx, rows, table.rows, d, names, &ko, &model, labels);
    if (st != STRATA_OK) goto done;
    if (o->labels_path && (st = st_kmeans_write_labels(ctx, o->labels_path, &table, model, labels,
                                                       table.rows)) != STRATA_OK)
        goto done;
    if (o->model_path && (st = st_kmeans_save(ctx, model, o->model_path)) != STRATA_OK) goto done;
    bool applied = o->apply_path != NULL;
    cJSON *summary = summary_of(model, table.skipped, applied, labels, table.rows);
    *out_json = st_json_text(summary);
    cJSON_Delete(summary);
    if (!*out_json) {
        st = STRATA_ENOMEM;
        goto done;
    }
    if (o->summary_path && (st = st_write_text(ctx, *out_json, o->summary_path)) != STRATA_OK)
        goto done;
    st = text_of(&text, model, table.rows, applied, labels);
done:
    if (st == STRATA_OK) {
        *out_text = st_buf_take(&text);
        if (!*out_text) st = STRATA_ENOMEM;
    }
    if (st != STRATA_OK) {
        strata_free(*out_json);
        *out_json = NULL;
    }
    /* warnings even on failure: they say what was read before it */
    *out_warnings = warn.len ? st_buf_take(&warn) : NULL;
    st_buf_clear(&warn);
    st_buf_clear(&text);
    st_free(rows);
    st_free(labels);
    st_table_clear(&table);
    st_kmeans_free(model);
    return st;
}
