/*
 * strata.h — the only public header of libstrata, the customer value tiering engine.
 *
 * The library turns orders, behaviour events, user attributes and identity links into one
 * profile per person, scores and tiers every person, and writes profiles, summaries, a
 * data-quality report, an HTML report and an SQLite store. The `strata` CLI and the
 * `strata serve` server are thin users of this header and nothing else.
 *
 * Conventions
 * - Every fallible function returns a strata_status; results go through trailing
 *   out-parameters, which are left NULL / zero on failure. Detail text for the last failure
 *   is in strata_errmsg(ctx).
 * - Objects made by *_create() are released by the matching *_free(); *_free(NULL) is a no-op.
 * - Days are counted as int32_t days since 1970-01-01 in the configured time zone
 *   (STRATA_DAY_NONE when absent). Money is int64_t micro-units (1e-6 of the currency unit),
 *   so sums are exact.
 * - The library has no hidden globals except the allocator hooks, which, like
 *   sqlite3_config(), must be set before any context is created.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_VERSION "0.1.0"

/* ---------------------------------------------------------------------------------------
 * Status codes. One table gives each code its number, name, message, CLI exit code (from
 * sysexits.h) and HTTP status, so they cannot drift apart. Numbers are never reused.
 * ------------------------------------------------------------------------------------- */
#define STRATA_STATUS_MAP(X)                                                               \
    X(OK, 0, "ok", 0, 200)                                                                 \
    X(EUSAGE, 1, "invalid command-line usage", 64, 400)                                    \
    X(EINVAL, 2, "invalid argument", 64, 400)                                              \
    X(ENOMEM, 3, "out of memory", 71, 503)                                                 \
    X(EIO, 4, "input/output error", 74, 500)                                               \
    X(ENOINPUT, 5, "input file cannot be opened", 66, 404)                                 \
    X(EPARSE, 6, "malformed input", 65, 400)                                               \
    X(ECONFIG, 7, "invalid configuration", 78, 400)                                        \
    X(ENOTFOUND, 8, "not found", 1, 404)                                                   \
    X(EDB, 9, "store error", 74, 500)                                                      \
    X(ELIMIT, 10, "limit exceeded", 65, 413)                                               \
    X(EDATA, 11, "no usable data", 65, 422)                                                \
    X(EINTERNAL, 12, "internal error", 70, 500)                                            \
    X(EAUTH, 13, "not authorized", 77, 401)                                                \
    X(EFORBIDDEN, 14, "forbidden", 77, 403)                                                \
    X(EMODEL, 15, "model error", 70, 500)

typedef enum strata_status {
#define STRATA__STATUS_ENUM(name, num, msg, exit_code, http) STRATA_##name = num,
    STRATA_STATUS_MAP(STRATA__STATUS_ENUM)
#undef STRATA__STATUS_ENUM
} strata_status;

/* Short upper-case name ("EPARSE"), message, exit code and HTTP status of a status code.
 * Unknown codes give "EUNKNOWN", "unknown error", 70 and 500. */
const char *strata_status_name(strata_status status);
const char *strata_status_message(strata_status status);
int strata_status_exit_code(strata_status status);
int strata_status_http(strata_status status);

/* ---------------------------------------------------------------------------------------
 * Memory. All library allocation goes through these hooks, which count live bytes and
 * support fault injection in tests. Set them before the first strata_ctx_create().
 * ------------------------------------------------------------------------------------- */
typedef struct strata_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} strata_allocator;

/* Replace the underlying allocator (NULL restores libc). Not thread-safe; call first. */
void strata_set_allocator(const strata_allocator *allocator);
/* Bytes currently allocated through the library, and the peak since start. */
size_t strata_memory_used(void);
size_t strata_memory_peak(void);
/* Test hook: make the nth allocation from now fail (1 = the next one); 0 disables. */
void strata_memory_fail_after(uint64_t nth);

/* ---------------------------------------------------------------------------------------
 * Context: configuration, last error, progress callback. One per thread of use.
 * ------------------------------------------------------------------------------------- */
typedef struct strata_ctx strata_ctx;

/* Create a context with the default configuration. Caller frees with strata_ctx_free(). */
strata_status strata_ctx_create(strata_ctx **out);
void strata_ctx_free(strata_ctx *ctx);

/* Detail text of the last failure on ctx ("orders.csv:12:3: bad date '2011-13-01'").
 * Borrowed from ctx; valid until the next call on ctx. Never NULL. */
const char *strata_errmsg(const strata_ctx *ctx);

/* Load a YAML configuration file over the current settings. Unknown keys and bad values
 * fail with STRATA_ECONFIG and name the file, line and column. */
strata_status strata_config_load(strata_ctx *ctx, const char *path);

/* Set one configuration key, e.g. ("orders.columns.user_id", "CustomerID"). Fails with
 * STRATA_ECONFIG for an unknown key or a value of the wrong type. */
strata_status strata_config_set(strata_ctx *ctx, const char *key, const char *value);

/* Current value of a key as text. Borrowed from ctx; valid until the key is set again.
 * NULL for an unknown key. */
const char *strata_config_get(const strata_ctx *ctx, const char *key);

/* Write every configuration key with its current value and a one-line description as YAML
 * comments and values to `out` (a FILE *), for `strata config --dump`. */
strata_status strata_config_dump(const strata_ctx *ctx, void *out_file);

/* Progress reporting for long steps: stage is a short English label, done/total in units of
 * the stage (bytes, persons). total is 0 when unknown. Called from the calling thread only. */
typedef void (*strata_progress_fn)(void *user_data, const char *stage, uint64_t done,
                                   uint64_t total);
void strata_set_progress(strata_ctx *ctx, strata_progress_fn fn, void *user_data);

/* Number of worker threads for parsing and aggregation; 0 (the default) = online cores. */
void strata_set_threads(strata_ctx *ctx, unsigned threads);

/* ---------------------------------------------------------------------------------------
 * Dates.
 * ------------------------------------------------------------------------------------- */
#define STRATA_DAY_NONE INT32_MIN

/* Parse "YYYY-MM-DD" into days since 1970-01-01. STRATA_EINVAL on anything else. */
strata_status strata_day_parse(const char *text, int32_t *out_day);
/* Format a day as "YYYY-MM-DD" into buf (at least 11 bytes). */
void strata_day_format(int32_t day, char buf[11]);

/* ---------------------------------------------------------------------------------------
 * The batch job: ingest → clean → identity → profile → RFM/tiers → outputs.
 * ------------------------------------------------------------------------------------- */
typedef struct strata_job strata_job;

typedef struct strata_inputs {
    const char *orders;     /* required: CSV, JSON Lines, optionally .gz */
    const char *events;     /* optional */
    const char *users;      /* optional */
    const char *identities; /* optional */
} strata_inputs;

/* Create an empty job bound to ctx (ctx must outlive it). Caller frees with
 * strata_job_free(). */
strata_status strata_job_create(strata_ctx *ctx, strata_job **out);
void strata_job_free(strata_job *job);

/* Read and clean all inputs, resolve identities and build every profile as of as_of_day
 * (exclusive; STRATA_DAY_NONE = the day after the last order). Rejected rows go to
 * rejects_path when not NULL (CSV: source, line, column, reason, raw text).
 * Cost: linear in input size; uses strata_set_threads() threads. */
strata_status strata_job_run(strata_job *job, const strata_inputs *inputs, int32_t as_of_day,
                             const char *rejects_path);

/* The as-of day the job used, and counts after the run. */
int32_t strata_job_as_of(const strata_job *job);
size_t strata_job_person_count(const strata_job *job);

/* Output writers. Each fails with STRATA_EIO naming the path. */
strata_status strata_job_write_profiles(strata_job *job, const char *path);
strata_status strata_job_write_summary(strata_job *job, const char *path);
strata_status strata_job_write_quality(strata_job *job, const char *path);
/* Self-contained HTML report (ECharts inlined), lang "en" or "zh". */
strata_status strata_job_write_report(strata_job *job, const char *path, const char *lang);
/* Save run, persons, profiles and the snapshot of this as-of date into an SQLite file,
 * replacing an earlier snapshot of the same as-of date. */
strata_status strata_job_store(strata_job *job, const char *db_path);

/* Save the fitted models next to the outputs: DIR/churn_model.bin (versioned, loadable by
 * `strata churn score --model`) and DIR/clusters.json (centroids for new persons). Models
 * that were skipped or disabled are not written. */
strata_status strata_job_save_models(strata_job *job, const char *dir);

/* The summary as JSON text (what summary.json holds). Caller frees with strata_free(). */
strata_status strata_job_summary_json(strata_job *job, char **out_json);
/* A human summary (persons, orders, revenue, tier table, top segments, data quality) in
 * lang "en" or "zh". Caller frees with strata_free(). */
strata_status strata_job_summary_text(strata_job *job, const char *lang, char **out_text);

/* One person's profile from a store, as JSON text; STRATA_ENOTFOUND if absent. The latest
 * snapshot is used unless as_of_day is given. Caller frees with strata_free(). */
strata_status strata_store_profile_json(strata_ctx *ctx, const char *db_path,
                                        const char *user_id, int32_t as_of_day,
                                        char **out_json);

/* Free memory the library handed out (JSON and text results). */
void strata_free(void *ptr);

/* ---------------------------------------------------------------------------------------
 * The HTML report: one self-contained file (ECharts, styles, script and data inlined; no
 * network reference) rendered from a summary.json, so a report can be made again, or in
 * the other language, without re-running the job.
 * ------------------------------------------------------------------------------------- */

/* Read the summary JSON at summary_json_path (as written by strata_job_write_summary) and
 * write the report to html_path in lang "en" or "zh"; NULL takes the summary's "lang",
 * then the configuration key `lang`. Sections (tier pyramid, R×F heatmap, Pareto curve,
 * segment and class tables, distributions, data quality, …) appear when their key is in
 * the summary.
 * Fails with STRATA_ENOINPUT (summary cannot be opened), STRATA_EPARSE (not a JSON object;
 * names the line and column), STRATA_ELIMIT (summary over 256 MiB), STRATA_EINVAL (other
 * lang), STRATA_EIO naming html_path (no partial file is left). Cost: linear in the
 * summary size; the page is about 1.1 MB plus the summary. */
strata_status strata_report_render(strata_ctx *ctx, const char *summary_json_path,
                                   const char *html_path, const char *lang);

/* ---------------------------------------------------------------------------------------
 * Churn: who will have no valid order in the H days after a cutoff. `strata run` trains and
 * scores on its own data (models.churn); these functions also work on any labelled table.
 * ------------------------------------------------------------------------------------- */

/* A trained churn model: the chosen learner, its feature encoding and threshold. */
typedef struct strata_churn_model strata_churn_model;

/* A table (CSV with a header, optionally gzip) for the generic path. Unused fields NULL. */
typedef struct strata_churn_table_opts {
    const char *table;        /* the file */
    const char *label_column; /* train, eval: churned = yes/1/true, stayed = no/0/false;
                                 eval defaults to the column the model was trained on */
    const char *id_column;    /* optional person id: copied to scores, never a feature */
    const char *value_column; /* score: optional numeric value ranking who is worth saving */
    const char *tier_column;  /* score: optional tier label for the risk-by-tier table */
    const char *out_path;     /* score: CSV id,churn_prob,churn_risk (required) */
    double test_share;        /* train: held-out share (0 = default 0.2) */
} strata_churn_table_opts;

/* Train both models on a labelled table, pick the better one on the held-out test split and
 * return it with the summary JSON (metrics of both models, choice, risk counts).
 * Numeric columns are features as they are; text columns are one-hot encoded (blank =
 * missing; columns with more than 64 distinct values are left out and
 * listed in the summary); the id column is never a feature.
 * Caller frees the model with strata_churn_model_free() and the JSON with strata_free().
 * Fails with STRATA_ENOINPUT, STRATA_EPARSE (names file and line: ragged row, bad label),
 * STRATA_EDATA (no usable feature, one class only, too few rows), STRATA_ELIMIT, STRATA_EMODEL
 * (XGBoost failed), STRATA_ENOMEM. Cost: reads the file into memory once; training is
 * about linear in rows x features x rounds, on strata_set_threads() threads. */
strata_status strata_churn_train_table(strata_ctx *ctx, const strata_churn_table_opts *opts,
                                       strata_churn_model **out_model,
                                       char **out_summary_json);

/* Measure a saved model on a labelled table: every metric at the model's threshold, the
 * calibration table and the risk counts. Caller frees the JSON with strata_free(). */
strata_status strata_churn_eval_table(strata_ctx *ctx, const strata_churn_model *model,
                                      const strata_churn_table_opts *opts,
                                      char **out_summary_json);

/* Score every row of a table and write opts->out_path (CSV: id,churn_prob,churn_risk; id is
 * the row number from 1 when there is no id column). The summary JSON holds the risk
 * distribution (overall and by tier when opts->tier_column is set) and the persons most
 * worth saving (high risk, ranked by opts->value_column, else by probability).
 * Caller frees the JSON with strata_free(). Fails like train, plus STRATA_EIO naming the
 * output path (no partial file is left). */
strata_status strata_churn_score_table(strata_ctx *ctx, const strata_churn_model *model,
                                       const strata_churn_table_opts *opts,
                                       char **out_summary_json);

/* Save a model as one versioned file (format in modelfile.c), written to a temporary name
 * and renamed, so a failed save leaves no partial file. STRATA_EIO names the path. */
strata_status strata_churn_model_save(strata_ctx *ctx, const strata_churn_model *model,
                                      const char *path);

/* Load a model file: bounded (ST_MODEL_MAX_BYTES), checksummed and validated before any byte
 * reaches XGBoost. STRATA_ENOINPUT, STRATA_ELIMIT, STRATA_EPARSE (not a strata model, bad
 * checksum, truncated) or STRATA_EMODEL (valid envelope, unusable model). Caller frees with
 * strata_churn_model_free(). */
strata_status strata_churn_model_load(strata_ctx *ctx, const char *path,
                                      strata_churn_model **out_model);
void strata_churn_model_free(strata_churn_model *model);

/* A human report (tables of metrics, confusion, calibration, top features, risk) of a
 * summary made by the functions above. Caller frees with strata_free(). */
strata_status strata_churn_summary_text(strata_ctx *ctx, const char *summary_json,
                                        char **out_text);


/* The job's churn model (NULL when skipped or disabled). Borrowed from job. */
const strata_churn_model *strata_job_churn_model(const strata_job *job);

/* Measure a saved model on the job's data: features at the cutoff (as-of − churn.horizon_days),
 * labels from the horizon after it — the same definition training used. Caller frees the JSON
 * with strata_free(). STRATA_EDATA when no person had an order before the cutoff. */
strata_status strata_job_churn_eval(strata_job *job, const strata_churn_model *model,
                                    char **out_summary_json);

/* Score every buyer of the job with a saved model and write out_csv
 * (user_id,churn_prob,churn_risk); the JSON holds the risk distribution by tier and the
 * persons most worth saving. Caller frees the JSON with strata_free(). */
strata_status strata_job_churn_score(strata_job *job, const strata_churn_model *model,
                                     const char *out_csv, char **out_summary_json);

/* One section of the summary ("churn", "clv", "clusters", "tiers", …) as JSON text, or
 * STRATA_ENOTFOUND. Caller frees with strata_free(). */
strata_status strata_job_section_json(strata_job *job, const char *name, char **out_json);

/* ---------------------------------------------------------------------------------------
 * Lifetime value and clusters on any table (`strata clv`, `strata cluster`). Each call reads
 * its input, fits, writes the files asked for and hands back three texts the caller frees
 * with strata_free(): the summary JSON (shaped like summary.json: {"clv": ...} or
 * {"clusters": ...}, so the report renders it), a readable report, and warnings (NULL when
 * none; one per line, e.g. rows skipped for empty values — set even when the call fails).
 * A failed call leaves the summary and the report NULL. The input table is held in memory.
 * ------------------------------------------------------------------------------------- */

typedef struct strata_clv_opts {
    const char *cbs_path;  /* calibration summary CSV: x,t_x,T[,m][,x_star] (BTYD names too) */
    const char *elog_path; /* or a transaction log CSV: customer id, date, amount */
    const char *id_column, *date_column, *amount_column; /* log columns; NULL = usual names */
    int32_t calibration_end, holdout_end; /* log: last days, inclusive; STRATA_DAY_NONE = none */
    bool weeks;                           /* time unit of t_x, T and horizons: weeks, else days */
    double holdout_length;        /* summary: > 0 compares predictions with its x_star column */
    const char *predictions_path; /* write id,x,t_x,T,p_alive,exp_purchases[,exp_aov,clv];
                                     NULL = fit only */
    double horizon, month_length, discount; /* predictions; NAN = default (90 days / 13
                                               weeks, 30 days / 4.345 weeks, 0.01) */
    int months;                             /* CLV months; -1 = default 12 */
    const char *summary_path;               /* also write the summary JSON here */
} strata_clv_opts;

/* Fit BG/NBD and Gamma-Gamma by maximum likelihood (see docs/models.md), check a holdout
 * when the input has one, and with predictions_path write every person's values. Fails with
 * STRATA_EINVAL (bad options), STRATA_ENOINPUT, STRATA_EPARSE (names file, line, column),
 * STRATA_EDATA (nothing to fit), STRATA_EIO, STRATA_ENOMEM. Cost: one pass over the input,
 * O(persons) per likelihood evaluation (tens to hundreds of evaluations), uses threads. */
strata_status strata_clv_run(strata_ctx *ctx, const strata_clv_opts *opts, char **out_json,
                             char **out_text, char **out_warnings);

typedef struct strata_cluster_opts {
    const char *table;     /* CSV (optionally .gz) with a header; required */
    const char *features;  /* numeric columns, "a,b,c"; NULL = recency_days,frequency,monetary */
    const char *id_column; /* copied to the labels file; NULL = row numbers */
    const char *revenue;   /* the feature whose shares are reported; NULL = the money column */
    int k;                 /* clusters 2..64; 0 = chosen by silhouette */
    int k_max, n_init, max_iter; /* 0 = defaults 8, 4, 300 */
    uint64_t seed;               /* used when has_seed; the same seed gives the same clusters */
    bool has_seed;
    bool raw;                 /* standardize raw values instead of log1p */
    const char *labels_path;  /* write id,cluster,cluster_en,cluster_zh per row */
    const char *model_path;   /* save centroids and names (versioned JSON) */
    const char *apply_path;   /* assign rows with this saved model instead of fitting */
    const char *summary_path; /* also write the summary JSON here */
} strata_cluster_opts;

/* K-means (k-means++ seeding, Lloyd iterations, restarts) on standardized features, or the
 * assignment of rows to a saved model's clusters. Fails with STRATA_EINVAL, STRATA_ENOINPUT,
 * STRATA_EPARSE, STRATA_EMODEL (unusable model file), STRATA_EDATA, STRATA_EIO,
 * STRATA_ENOMEM. Cost: O(restarts x iterations x rows x k x d) plus the silhouette search for
 * k on a sample of rows; an assignment is one pass. Deterministic for a seed and any thread
 * count. */
strata_status strata_cluster_run(strata_ctx *ctx, const strata_cluster_opts *opts, char **out_json,
                                 char **out_text, char **out_warnings);

/* ---------------------------------------------------------------------------------------
 * Synthetic data for tests, demos and benchmarks.
 * ------------------------------------------------------------------------------------- */
typedef struct strata_gen_opts {
    uint64_t users;      /* persons to simulate */
    uint64_t orders;     /* approximate number of orders in total */
    uint64_t events;     /* approximate number of behaviour events (0 = none) */
    uint64_t seed;       /* same seed, same files */
    double dirt;         /* share of rows with injected problems, 0 = clean */
    int32_t start_day;   /* first day of the simulated period (STRATA_DAY_NONE = default) */
    int32_t days;        /* length of the period in days (0 = default 730) */
    const char *out_dir; /* writes orders.csv, events.csv, users.csv, identities.csv */
} strata_gen_opts;

strata_status strata_gen(strata_ctx *ctx, const strata_gen_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
