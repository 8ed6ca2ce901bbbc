/*
 * kmeans.h — K-means clusters of persons: k-means++ seeding (greedy, as scikit-learn),
 * Lloyd iterations with an early stop, n_init restarts, on standardized log1p features;
 * k given or chosen by the silhouette on a sample; clusters described (size, revenue share,
 * mean raw features) and named in en and zh from their centroid; centroids saved to a small
 * versioned JSON model file so new persons get a cluster.
 *
 * Place in the data flow: models. Array in, array out: the batch job passes the n x d
 * row-major matrix of per-person features (recency_days, frequency, monetary by default),
 * the CLI passes a table. The model object owns its arrays; the module keeps no state.
 *
 * The `strata cluster` command reaches these through strata_cluster_run()
 * (src/job/tool_cluster.c).
 */
#ifndef ST_MODELS_KMEANS_H
#define ST_MODELS_KMEANS_H

#include "strata.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_KMEANS_MAX_K 64            /* clusters */
#define ST_KMEANS_MAX_D 32            /* features */
#define ST_KMEANS_MAX_NAME 64         /* bytes of a feature name */
#define ST_KMEANS_LABEL_SIZE 128      /* bytes of a cluster name, NUL included */
#define ST_KMEANS_FILE_MAX (1u << 20) /* a model file larger than this is refused */

typedef struct st_kmeans_opts {
    int k;               /* clusters; 0 = choose by silhouette in [2, k_max] */
    int k_max;           /* default 8 */
    int n_init;          /* restarts, best inertia kept; default 4 */
    int max_iter;        /* Lloyd iterations per restart; default 300 */
    double tol;          /* stop when the squared centre shift <= tol x mean feature variance
                          * (scikit-learn's rule); default 1e-4 */
    uint64_t seed;       /* same seed, same clusters */
    bool log1p;          /* transform x -> sign(x) log(1 + |x|) before standardizing; default
                          * true */
    size_t sample;       /* rows in the silhouette sample; default 2000 */
    size_t select_rows;  /* rows the candidate fits use while choosing k; default 20000 */
    int revenue_feature; /* column summed for the revenue share; -1 = the first column whose
                          * name looks like money (monetary, revenue, spend, amount, sales) */
    unsigned threads;    /* 0 = the context's setting */
} st_kmeans_opts;

void st_kmeans_opts_default(st_kmeans_opts *opts);

typedef struct st_kmeans_cluster {
    size_t size;                  /* rows of the fit in the cluster */
    double share;                 /* size / n */
    double revenue_share;         /* share of the revenue feature's total; NaN without one */
    double mean[ST_KMEANS_MAX_D]; /* mean of each raw feature */
    char name_en[ST_KMEANS_LABEL_SIZE];
    char name_zh[ST_KMEANS_LABEL_SIZE];
} st_kmeans_cluster;

typedef struct st_kmeans {
    int k, d;
    char features[ST_KMEANS_MAX_D][ST_KMEANS_MAX_NAME];
    bool log1p;
    double mean[ST_KMEANS_MAX_D], sd[ST_KMEANS_MAX_D]; /* of the transformed features */
    double *centroids;           /* k x d, in standardized transformed space */
    st_kmeans_cluster *clusters; /* k */
    int revenue_feature;         /* -1 when none */
    /* fit statistics (0 for a loaded model) */
    size_t n;
    double inertia; /* sum of squared distances to the centre, standardized space */
    int iterations; /* Lloyd iterations of the best restart */
    int k_min_tried, k_max_tried;
    double silhouette[ST_KMEANS_MAX_K + 1]; /* by k; NaN where not tried */
} st_kmeans;

/* Fit on n rows of d raw features (row-major; every value finite). Clusters are numbered
 * by decreasing revenue share (by decreasing size without a revenue feature), and
 * labels[i] (when labels is not NULL; n entries) gets row i's cluster.
 * Fails with STRATA_EINVAL for bad options or a non-finite value (naming row and column),
 * STRATA_EDATA when n < k (or n < 3 when choosing k). Caller frees *out with
 * st_kmeans_free(). Cost: O(n_init x iterations x n x k x d), plus the k search on at most
 * select_rows rows; the assignment step uses threads on large n. Deterministic for a seed,
 * for any thread count. */
strata_status st_kmeans_fit(strata_ctx *ctx, const double *rows, size_t n, int d,
                            const char *const *feature_names, const st_kmeans_opts *opts,
                            st_kmeans **out, uint32_t *labels);
void st_kmeans_free(st_kmeans *model);

/* Cluster of each raw row (n x model->d) and, when dist2 is not NULL, the squared distance
 * to its centre in standardized space. STRATA_EINVAL names the first non-finite value. */
strata_status st_kmeans_assign(strata_ctx *ctx, const st_kmeans *model, const double *rows,
                               size_t n, uint32_t *labels, double *dist2);

/* Mean silhouette of n points (n x d, already in the space the clusters were made in) with
 * labels in [0, k): s(i) = (b - a) / max(a, b), 0 for a point alone in its cluster, as
 * scikit-learn. O(n^2 d); NaN when fewer than 2 clusters are present. */
double st_kmeans_silhouette(const double *points, size_t n, int d, const uint32_t *labels, int k);

/* Model file: a small JSON document, versioned (see kmeans.c for the field table).
 * Save fails with STRATA_EIO naming the path. Load reads at most ST_KMEANS_FILE_MAX bytes
 * (STRATA_ELIMIT beyond): STRATA_ENOINPUT when the file cannot be opened, STRATA_EPARSE for
 * bad JSON, STRATA_EMODEL
 * for a document that is not a valid model (wrong format or version, bad sizes, non-finite
 * numbers, sd <= 0). Caller frees *out with st_kmeans_free(). */
strata_status st_kmeans_save(strata_ctx *ctx, const st_kmeans *model, const char *path);
strata_status st_kmeans_load(strata_ctx *ctx, const char *path, st_kmeans **out);
/* The same from bytes in memory (name is used in messages); for tests and the fuzzer. */
strata_status st_kmeans_load_buffer(strata_ctx *ctx, const char *name, const char *data, size_t len,
                                    st_kmeans **out);

/* The "clusters" section of summary.json: {k, persons, inertia, iterations, features,
 * transform, silhouette:[{k, score}], clusters:[{id, name_en, name_zh, size, share,
 * revenue_share, mean:{feature: value}}]}. NULL on allocation failure.
 * Caller frees with cJSON_Delete(). */
cJSON *st_kmeans_summary_json(const st_kmeans *model);

/* ---------------------------------------------------------------------------------------
 * Tables for the model commands: selected columns of a CSV file with a header (gzip
 * accepted), read through the ingest reader. Used by `strata cluster` and `strata clv`.
 * ------------------------------------------------------------------------------------- */
#define ST_TABLE_MAX_COLS 40
#define ST_TABLE_MAX_ROWS 500000000u /* more rows are refused with STRATA_ELIMIT */

typedef enum st_table_kind {
    ST_TABLE_NUMBER, /* a finite decimal number */
    ST_TABLE_DAY,    /* a date: YYYYMMDD, ISO 8601 date or date-time; stored as the day number */
    ST_TABLE_TEXT    /* kept as text (an id); at most one per table */
} st_table_kind;

typedef struct st_table_col {
    const char *names; /* accepted header names, '|'-separated, case-insensitive: "t_x|t.x" */
    st_table_kind kind;
    bool required; /* absent from the header = STRATA_EPARSE naming the column */
} st_table_col;

typedef struct st_table {
    size_t rows, ncols;
    double *values; /* rows x ncols, row-major; NaN for TEXT and absent columns */
    bool present[ST_TABLE_MAX_COLS];
    char *text;       /* the TEXT column: row i's value is text + text_off[i], NUL-terminated */
    size_t *text_off; /* NULL when there is no TEXT column in the header */
    size_t skipped;   /* rows left out because a requested value was empty */
    uint64_t first_skipped_line; /* physical line of the first of those (0 = none) */
} st_table;

/* Read the requested columns of every row. A row with an empty value in any present
 * requested column is skipped and counted; anything else that does not parse fails with
 * STRATA_EPARSE naming file, line and column. Caller frees with st_table_clear().
 * Cost: one sequential pass over the file. */
strata_status st_table_read(strata_ctx *ctx, const char *path, const st_table_col *cols,
                            size_t ncols, st_table *out);
void st_table_clear(st_table *t);

/* Write one line per row: id (the table's TEXT column, else the 1-based row number),
 * cluster, cluster_en, cluster_zh. Fails with STRATA_EIO naming the path. */
strata_status st_kmeans_write_labels(strata_ctx *ctx, const char *path, const st_table *table,
                                     const st_kmeans *model, const uint32_t *labels, size_t n);

#endif /* ST_MODELS_KMEANS_H */
