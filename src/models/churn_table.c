/*
 * churn_table.c — the generic table path of the churn models: any CSV (or JSON Lines; gzip
 * accepted) with a header becomes a feature matrix, and the strata_churn_*_table entry points
 * train, evaluate and score on it. Owns the encoding plan of one call and nothing after it.
 *
 * Encoding. A column is numeric when every non-blank value parses as a number; its value is
 * the feature (blank = missing). Any other column is text and is one-hot encoded, one
 * feature per distinct value in byte order ("Contract=Two year"), all of them missing when
 * the value is blank; a text column with more than ST_CHURN_MAX_LEVELS values (an id, a free
 * text) is left out and reported. The label column (churned = yes/1/true, stayed =
 * no/0/false) and the id column are never features. When scoring, the model's stored feature
 * list is the plan: a numeric feature must parse, a text value the model never saw sets the
 * column's one-hot features to 0 (like scikit-learn's handle_unknown="ignore").
 *
 * The file is read twice through the parallel reader (src/ingest/reader.h): pass 1 counts
 * the records of every block and types the columns, pass 2 fills the matrix — each block
 * knows its first row from pass 1, so workers write disjoint rows without locks. Workers
 * never write the context's error text; each keeps its earliest error and the caller
 * reports the earliest of all, so the message does not depend on thread timing.
 */
#include "models/churn.h"

#include "core/config.h"
#include "ingest/reader.h"
#include "models/metrics.h"
#include "models/modelfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WORTH_SAVING_SHOWN 20
#define MAX_WORKERS 64

typedef enum col_role {
    ROLE_SKIP = 0,
    ROLE_NUMERIC, /* feature `feature` */
    ROLE_ONEHOT,  /* features feature + level index, levels in `levels` */
    ROLE_LABEL,
    ROLE_ID,
} col_role;

typedef struct column {
    char *name;
    col_role role;
    bool is_value, is_tier; /* also copied out (score) */
    size_t feature;
    st_intern levels;   /* ONEHOT: the levels, in feature order */
    size_t *level_feat; /* ONEHOT from a model: feature of each level */
    /* pass 1 typing (train) */
    bool not_numeric, too_many;
    uint64_t nonblank;
} column;

/* Per worker, for one pass. */
typedef struct worker {
    /* pass 1 */
    bool *not_numeric;
    uint64_t *nonblank;
    st_intern *levels;
    bool *too_many;
    uint64_t *block_rows; /* pairs (block index, records) */
    size_t nblock_rows, cap_block_rows;
    /* pass 2 */
    st_buf strings; /* ids and tier values of this worker, NUL-separated */
    /* the earliest error */
    uint64_t err_line;
    strata_status err;
    char err_msg[256];
} worker;

typedef struct table {
    strata_ctx *ctx;
    const char *path;
    int pass;       /* 1 or 2 */
    bool typing;    /* pass 1 decides the column types (training) */
    bool need_label;
    bool id_optional; /* the id column came from the model, not the caller */
    const strata_churn_table_opts *opts;
    const strata_churn_model *model;
    column *cols;
    size_t ncols;
    bool have_header;
    unsigned nworkers;
    worker workers[MAX_WORKERS];
    /* after pass 1 */
    uint64_t *block_first; /* first row of each block */
    uint64_t *block_count;
    size_t nblocks;
    uint64_t rows;
    /* pass 2 output */
    st_churn_data *data;
    uint8_t *id_worker; /* which worker's strings hold row i's id / tier */
    uint64_t *id_off, *tier_off;
    uint8_t *tier_worker;
    long label_col, id_col, value_col, tier_col;
} table;

/* ---------------------------------------------------------------------------------------
 * errors recorded by workers
 * ------------------------------------------------------------------------------------- */

static strata_status worker_fail(table *t, worker *w, uint64_t line, strata_status st,
                                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static strata_status worker_fail(table *t, worker *w, uint64_t line, strata_status st,
                                 const char *fmt, ...)
{
    (void)t;
    if (w->err == STRATA_OK || line < w->err_line) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err_msg, sizeof w->err_msg, fmt, ap);
        va_end(ap);
        w->err = st;
        w->err_line = line;
    }
    return st;
}

/* The earliest worker error as the context's error; `st` when no worker recorded one. */
static strata_status report_failure(table *t, strata_status st)
{
    worker *best = NULL;
    for (unsigned i = 0; i < t->nworkers; i++)
        if (t->workers[i].err != STRATA_OK &&
            (!best || t->workers[i].err_line < best->err_line))
            best = &t->workers[i];
    if (!best) return st;
    return st_error(t->ctx, best->err, "%s:%llu: %s", t->path,
                    (unsigned long long)best->err_line, best->err_msg);
}

/* ---------------------------------------------------------------------------------------
 * header
 * ------------------------------------------------------------------------------------- */

static long find_column(const table *t, const char *name)
{
    for (size_t c = 0; name && c < t->ncols; c++)
        if (!strcmp(t->cols[c].name, name)) return (long)c;
    return -1;
}

static strata_status on_header(void *ud, const st_record *hdr)
{
    table *t = ud;
    if (t->pass == 2) return STRATA_OK; /* kept from pass 1 */
    if (hdr->error) return st_error(t->ctx, STRATA_EPARSE, "%s:1: header: %s", t->path, hdr->error);
    t->cols = st_calloc(hdr->nfields ? hdr->nfields : 1, sizeof *t->cols);
    if (!t->cols) return st_error(t->ctx, STRATA_ENOMEM, "%s: out of memory", t->path);
    t->ncols = hdr->nfields;
    for (size_t c = 0; c < t->ncols; c++) {
        st_sv name = st_sv_trim(hdr->fields[c]);
        if (name.len > ST_CHURN_MAX_NAME)
            return st_error(t->ctx, STRATA_ELIMIT, "%s:1: column %zu: name longer than %d bytes",
                            t->path, c + 1, ST_CHURN_MAX_NAME);
        t->cols[c].name = st_strndup(name.ptr, name.len);
        st_intern_init(&t->cols[c].levels);
        if (!t->cols[c].name) return st_error(t->ctx, STRATA_ENOMEM, "%s: out of memory", t->path);
        if (name.len == 0)
            return st_error(t->ctx, STRATA_EPARSE, "%s:1: column %zu has no name", t->path, c + 1);
        for (size_t k = 0; k < c; k++)
            if (!strcmp(t->cols[k].name, t->cols[c].name))
                return st_error(t->ctx, STRATA_EPARSE, "%s:1: column '%s' appears twice", t->path,
                                t->cols[c].name);
    }
    t->have_header = true;
    return STRATA_OK;
}

/* ---------------------------------------------------------------------------------------
 * pass 1: count records per block, type the columns
 * ------------------------------------------------------------------------------------- */

static strata_status check_record(table *t, worker *w, const st_record *rec)
{
    if (rec->error)
        return worker_fail(t, w, rec->line, STRATA_EPARSE, "field %u: %s", rec->error_field,
                           rec->error);
    if (rec->nfields != t->ncols)
        return worker_fail(t, w, rec->line, STRATA_EPARSE, "%u fields, the header has %zu",
                           rec->nfields, t->ncols);
    return STRATA_OK;
}

static strata_status parse_label(table *t, worker *w, const st_record *rec, uint8_t *out)
{
    st_sv v = st_sv_trim(rec->fields[t->label_col]);
    bool b;
    if (!st_sv_to_bool(v, &b))
        return worker_fail(t, w, rec->line, STRATA_EPARSE,
                           "label '%s' is '%.*s'; expected yes/no, 1/0 or true/false",
                           t->cols[t->label_col].name, (int)ST_MIN(v.len, 40), v.ptr);
    *out = b;
    return STRATA_OK;
}

static strata_status pass1_block(table *t, worker *w, const st_block *block)
{
    st_cursor cur;
    st_record rec;
    uint64_t records = 0;
    strata_status st = STRATA_OK;
    st_cursor_init(&cur, block);
    while (st == STRATA_OK && st_cursor_next(&cur, &rec)) {
        records++;
        if ((st = check_record(t, w, &rec)) != STRATA_OK) break;
        if (t->need_label) {
            uint8_t y;
            if ((st = parse_label(t, w, &rec, &y)) != STRATA_OK) break;
        }
        if (!t->typing) continue;
        for (size_t c = 0; c < t->ncols; c++) {
            if ((long)c == t->label_col || (long)c == t->id_col) continue;
            st_sv v = st_sv_trim(rec.fields[c]);
            if (v.len == 0) continue;
            w->nonblank[c]++;
            double num;
            if (!w->not_numeric[c] && !st_sv_to_double(v, &num)) w->not_numeric[c] = true;
            if (w->too_many[c]) continue;
            if (v.len > ST_CHURN_MAX_NAME) {
                w->too_many[c] = true; /* a free-text column, never a category */
                continue;
            }
            if (st_intern_find(&w->levels[c], v.ptr, v.len, st_hash64(v.ptr, v.len)) !=
                ST_INTERN_NONE)
                continue;
            if (w->levels[c].count >= ST_CHURN_MAX_LEVELS) {
                w->too_many[c] = true;
                continue;
            }
            if (st_intern_put(&w->levels[c], v.ptr, v.len, st_hash64(v.ptr, v.len), NULL) ==
                ST_INTERN_NONE) {
                st = worker_fail(t, w, rec.line, STRATA_ENOMEM, "out of memory");
                break;
            }
        }
    }
    st_cursor_clear(&cur);
    if (st == STRATA_OK) {
        if (w->nblock_rows + 2 > w->cap_block_rows &&
            !ST_GROW(w->block_rows, w->cap_block_rows, w->nblock_rows + 2))
            return worker_fail(t, w, block->first_line, STRATA_ENOMEM, "out of memory");
        w->block_rows[w->nblock_rows++] = block->index;
        w->block_rows[w->nblock_rows++] = records;
    }
    return st;
}

/* ---------------------------------------------------------------------------------------
 * pass 2: fill the matrix
 * ------------------------------------------------------------------------------------- */

static strata_status keep_string(table *t, worker *w, const st_record *rec, long col,
                                 uint64_t *off)
{
    st_sv v = st_sv_trim(rec->fields[col]);
    *off = w->strings.len;
    if (st_buf_append(&w->strings, v.ptr, v.len) != STRATA_OK ||
        st_buf_putc(&w->strings, '\0') != STRATA_OK)
        return worker_fail(t, w, rec->line, STRATA_ELIMIT, "ids and tiers exceed the memory limit");
    return STRATA_OK;
}

static strata_status pass2_block(table *t, unsigned wid, const st_block *block)
{
    worker *w = &t->workers[wid];
    st_churn_data *d = t->data;
    if (block->index >= t->nblocks)
        return worker_fail(t, w, block->first_line, STRATA_EINTERNAL, "the file changed while read");
    uint64_t row = t->block_first[block->index], end = row + t->block_count[block->index];
    st_cursor cur;
    st_record rec;
    strata_status st = STRATA_OK;
    st_cursor_init(&cur, block);
    while (st == STRATA_OK && st_cursor_next(&cur, &rec)) {
        if (row >= end) {
            st = worker_fail(t, w, rec.line, STRATA_EINTERNAL, "the file changed while read");
            break;
        }
        if ((st = check_record(t, w, &rec)) != STRATA_OK) break;
        float *x = d->x + row * d->cols;
        if (t->label_col >= 0 && d->label && (st = parse_label(t, w, &rec, &d->label[row])) != STRATA_OK)
            break;
        if (t->id_col >= 0) {
            if ((st = keep_string(t, w, &rec, t->id_col, &t->id_off[row])) != STRATA_OK) break;
            t->id_worker[row] = (uint8_t)wid;
        }
        if (t->tier_col >= 0) {
            if ((st = keep_string(t, w, &rec, t->tier_col, &t->tier_off[row])) != STRATA_OK) break;
            t->tier_worker[row] = (uint8_t)wid;
        }
        if (t->value_col >= 0) {
            double v;
            d->value[row] = st_sv_to_double(st_sv_trim(rec.fields[t->value_col]), &v) ? v : NAN;
        }
        for (size_t c = 0; c < t->ncols; c++) {
            const column *col = &t->cols[c];
            if (col->role != ROLE_NUMERIC && col->role != ROLE_ONEHOT) continue;
            st_sv v = st_sv_trim(rec.fields[c]);
            if (col->role == ROLE_NUMERIC) {
                double num;
                if (v.len == 0) continue; /* NaN already */
                if (!st_sv_to_double(v, &num)) {
                    st = worker_fail(t, w, rec.line, STRATA_EPARSE,
                                     "column '%s': '%.*s' is not a number", col->name,
                                     (int)ST_MIN(v.len, 40), v.ptr);
                    break;
                }
                x[col->feature] = (float)num;
                continue;
            }
            uint32_t nlev = (uint32_t)col->levels.count;
            if (v.len == 0) continue; /* every level feature stays missing */
            uint32_t id = st_intern_find(&col->levels, v.ptr, v.len, st_hash64(v.ptr, v.len));
            for (uint32_t k = 0; k < nlev; k++) x[col->level_feat[k]] = k == id ? 1.0f : 0.0f;
        }
        row++;
    }
    st_cursor_clear(&cur);
    if (st == STRATA_OK && row != end)
        st = worker_fail(t, w, block->first_line, STRATA_EINTERNAL, "the file changed while read");
    return st;
}

static strata_status on_block(void *ud, unsigned wid, const st_block *block)
{
    table *t = ud;
    if (wid >= t->nworkers) return STRATA_EINTERNAL;
    return t->pass == 1 ? pass1_block(t, &t->workers[wid], block) : pass2_block(t, wid, block);
}

/* ---------------------------------------------------------------------------------------
 * between the passes
 * ------------------------------------------------------------------------------------- */

static void table_clear(table *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        st_free(t->cols[c].name);
        st_intern_clear(&t->cols[c].levels);
        st_free(t->cols[c].level_feat);
    }
    st_free(t->cols);
    for (unsigned i = 0; i < t->nworkers; i++) {
        worker *w = &t->workers[i];
        if (w->levels)
            for (size_t c = 0; c < t->ncols; c++) st_intern_clear(&w->levels[c]);
        st_free(w->levels);
        st_free(w->not_numeric);
        st_free(w->nonblank);
        st_free(w->too_many);
        st_free(w->block_rows);
        st_buf_clear(&w->strings);
    }
    st_free(t->block_first);
    st_free(t->block_count);
    st_free(t->id_worker);
    st_free(t->id_off);
    st_free(t->tier_off);
    st_free(t->tier_worker);
}

static strata_status read_pass(table *t, int pass)
{
    t->pass = pass;
    st_reader_opts ro = {0};
    ro.format = st_format_of_path(t->path);
    ro.threads = t->nworkers;
    if (ro.format == ST_FMT_JSONL)
        return st_error(t->ctx, STRATA_EINVAL,
                        "%s: churn tables must be CSV (JSON Lines has no header to type)", t->path);
    strata_status st = st_reader_run(t->ctx, t->path, pass == 1 ? "churn: reading" : "churn: encoding",
                                     &ro, on_header, on_block, t, NULL);
    return st == STRATA_OK ? st : report_failure(t, st);
}

/* Worker state for pass 1 is allocated lazily here, once the header gave the width. */
static strata_status alloc_workers(table *t)
{
    for (unsigned i = 0; i < t->nworkers; i++) {
        worker *w = &t->workers[i];
        w->not_numeric = st_calloc(t->ncols + 1, sizeof *w->not_numeric);
        w->nonblank = st_calloc(t->ncols + 1, sizeof *w->nonblank);
        w->too_many = st_calloc(t->ncols + 1, sizeof *w->too_many);
        w->levels = st_calloc(t->ncols + 1, sizeof *w->levels);
        if (!w->not_numeric || !w->nonblank || !w->too_many || !w->levels) return STRATA_ENOMEM;
        for (size_t c = 0; c < t->ncols; c++) st_intern_init(&w->levels[c]);
    }
    return STRATA_OK;
}

/* A header-only pre-read so the worker state can be sized: the reader calls on_header
 * before any block, so allocation happens there on the first pass. */
static strata_status on_header_pass1(void *ud, const st_record *hdr)
{
    table *t = ud;
    strata_status st = on_header(ud, hdr);
    if (st != STRATA_OK) return st;
    t->label_col = find_column(t, t->opts->label_column);
    t->id_col = find_column(t, t->opts->id_column);
    t->value_col = find_column(t, t->opts->value_column);
    t->tier_col = find_column(t, t->opts->tier_column);
    if (t->need_label && t->label_col < 0)
        return st_error(t->ctx, STRATA_EDATA, "%s: no label column '%s' in the header", t->path,
                        t->opts->label_column ? t->opts->label_column : "(none)");
    const char *missing = t->opts->id_column && t->id_col < 0 && !t->id_optional
                              ? t->opts->id_column
                          : t->opts->value_column && t->value_col < 0 ? t->opts->value_column
                          : t->opts->tier_column && t->tier_col < 0   ? t->opts->tier_column
                                                                      : NULL;
    if (missing) return st_error(t->ctx, STRATA_EDATA, "%s: no column '%s' in the header", t->path, missing);
    if (alloc_workers(t) != STRATA_OK) return st_error(t->ctx, STRATA_ENOMEM, "%s: out of memory", t->path);
    return STRATA_OK;
}

/* Blocks in order, and the first row of each. */
static strata_status number_blocks(table *t)
{
    size_t nblocks = 0;
    for (unsigned i = 0; i < t->nworkers; i++)
        for (size_t k = 0; k < t->workers[i].nblock_rows; k += 2)
            nblocks = ST_MAX(nblocks, (size_t)t->workers[i].block_rows[k] + 1);
    t->nblocks = nblocks;
    t->block_first = st_calloc(nblocks + 1, sizeof *t->block_first);
    t->block_count = st_calloc(nblocks + 1, sizeof *t->block_count);
    if (!t->block_first || !t->block_count) return STRATA_ENOMEM;
    for (unsigned i = 0; i < t->nworkers; i++)
        for (size_t k = 0; k < t->workers[i].nblock_rows; k += 2)
            t->block_count[t->workers[i].block_rows[k]] = t->workers[i].block_rows[k + 1];
    uint64_t row = 0;
    for (size_t b = 0; b < nblocks; b++) {
        t->block_first[b] = row;
        row += t->block_count[b];
    }
    t->rows = row;
    return STRATA_OK;
}

static int sv_cmp(const void *a, const void *b)
{
    const st_sv *x = a, *y = b;
    int c = memcmp(x->ptr, y->ptr, ST_MIN(x->len, y->len));
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Training: decide each column's role from the merged pass-1 statistics; skipped columns
 * go to `skipped` (a JSON array). Returns the number of features via *nfeat. */
static strata_status plan_from_types(table *t, cJSON *skipped, size_t *nfeat)
{
    size_t f = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        column *col = &t->cols[c];
        if ((long)c == t->label_col) {
            col->role = ROLE_LABEL;
            continue;
        }
        if ((long)c == t->id_col) {
            col->role = ROLE_ID;
            continue;
        }
        /* merge the workers' views */
        st_intern merged;
        st_intern_init(&merged);
        bool too_many = false;
        for (unsigned i = 0; i < t->nworkers; i++) {
            worker *w = &t->workers[i];
            col->not_numeric |= w->not_numeric[c];
            col->nonblank += w->nonblank[c];
            too_many |= w->too_many[c];
            for (size_t k = 0; !too_many && k < w->levels[c].count; k++) {
                st_sv v = st_intern_str(&w->levels[c], (uint32_t)k);
                if (st_intern_put(&merged, v.ptr, v.len, w->levels[c].hashes[k], NULL) ==
                    ST_INTERN_NONE) {
                    st_intern_clear(&merged);
                    return STRATA_ENOMEM;
                }
                if (merged.count > ST_CHURN_MAX_LEVELS) too_many = true;
            }
        }
        const char *why = NULL;
        if (col->nonblank == 0) why = "no values";
        else if (!col->not_numeric) col->role = ROLE_NUMERIC;
        else if (too_many) why = "text with more than 64 distinct values";
        else col->role = ROLE_ONEHOT;
        if (why) {
            cJSON *o = skipped ? cJSON_CreateObject() : NULL;
            if (o) {
                cJSON_AddStringToObject(o, "column", col->name);
                cJSON_AddStringToObject(o, "reason", why);
                cJSON_AddItemToArray(skipped, o);
            }
            st_intern_clear(&merged);
            continue;
        }
        col->feature = f;
        if (col->role == ROLE_NUMERIC) {
            f++;
            st_intern_clear(&merged);
            continue;
        }
        /* levels in byte order, so the encoding does not depend on thread timing */
        size_t nlev = merged.count;
        st_sv *sorted = st_malloc(nlev * sizeof *sorted);
        col->level_feat = st_malloc(nlev * sizeof *col->level_feat);
        if (!sorted || !col->level_feat) {
            st_free(sorted);
            st_intern_clear(&merged);
            return STRATA_ENOMEM;
        }
        for (size_t k = 0; k < nlev; k++) sorted[k] = st_intern_str(&merged, (uint32_t)k);
        qsort(sorted, nlev, sizeof *sorted, sv_cmp);
        strata_status st = STRATA_OK;
        for (size_t k = 0; k < nlev; k++) {
            if (st_intern_put(&col->levels, sorted[k].ptr, sorted[k].len,
                              st_hash64(sorted[k].ptr, sorted[k].len), NULL) == ST_INTERN_NONE)
                st = STRATA_ENOMEM;
            col->level_feat[k] = f + k;
        }
        f += nlev;
        st_free(sorted);
        st_intern_clear(&merged);
        if (st != STRATA_OK) return st;
    }
    *nfeat = f;
    if (f > ST_CHURN_MAX_FEATURES)
        return st_error(t->ctx, STRATA_ELIMIT, "%s: %zu features after one-hot encoding (at most %d)",
                        t->path, f, ST_CHURN_MAX_FEATURES);
    return STRATA_OK;
}

/* Scoring and evaluation: the model's feature list is the plan. */
static strata_status plan_from_model(table *t)
{
    const strata_churn_model *m = t->model;
    if (t->label_col >= 0) t->cols[t->label_col].role = ROLE_LABEL;
    if (t->id_col >= 0) t->cols[t->id_col].role = ROLE_ID;
    for (size_t j = 0; j < m->nfeatures; j++) {
        const st_churn_feature *f = &m->features[j];
        long c = find_column(t, f->column);
        if (c < 0)
            return st_error(t->ctx, STRATA_EDATA, "%s: the model needs column '%s', which is missing",
                            t->path, f->column);
        column *col = &t->cols[c];
        if (col->role == ROLE_LABEL || col->role == ROLE_ID)
            return st_error(t->ctx, STRATA_EINVAL, "%s: column '%s' is a model feature and cannot be "
                            "the label or id", t->path, f->column);
        if (f->kind == ST_CHURN_NUMERIC) {
            if (col->role != ROLE_SKIP)
                return st_error(t->ctx, STRATA_EMODEL, "model uses column '%s' twice", f->column);
            col->role = ROLE_NUMERIC;
            col->feature = j;
            continue;
        }
        if (col->role == ROLE_NUMERIC)
            return st_error(t->ctx, STRATA_EMODEL, "model uses column '%s' twice", f->column);
        col->role = ROLE_ONEHOT;
        size_t k = col->levels.count;
        size_t *lf = st_realloc(col->level_feat, (k + 1) * sizeof *lf);
        if (!lf) return st_error(t->ctx, STRATA_ENOMEM, "out of memory");
        col->level_feat = lf;
        size_t len = strlen(f->level);
        bool added = false;
        if (st_intern_put(&col->levels, f->level, len, st_hash64(f->level, len), &added) ==
            ST_INTERN_NONE)
            return st_error(t->ctx, STRATA_ENOMEM, "out of memory");
        if (!added) return st_error(t->ctx, STRATA_EMODEL, "model repeats feature %s", f->name);
        lf[k] = j;
    }
    return STRATA_OK;
}

/* Read the table into *d. Training decides the encoding (skipped columns into `skipped`);
 * otherwise the model's. */
static strata_status load_table(strata_ctx *ctx, const strata_churn_table_opts *opts,
                                const strata_churn_model *model, bool need_label,
                                bool id_optional, st_churn_data *d, cJSON *skipped)
{
    memset(d, 0, sizeof *d);
    table *t = st_calloc(1, sizeof *t);
    if (!t) return st_error(ctx, STRATA_ENOMEM, "out of memory");
    t->ctx = ctx;
    t->path = opts->table;
    t->opts = opts;
    t->model = model;
    t->typing = model == NULL;
    t->need_label = need_label;
    t->id_optional = id_optional;
    t->nworkers = ST_MIN(st_threads(ctx), (unsigned)MAX_WORKERS);
    if (t->nworkers == 0) t->nworkers = 1;
    t->label_col = t->id_col = t->value_col = t->tier_col = -1;
    for (unsigned i = 0; i < t->nworkers; i++) st_buf_init(&t->workers[i].strings, (size_t)1 << 32);

    /* pass 1 */
    t->pass = 1;
    st_reader_opts ro = {0};
    ro.format = st_format_of_path(t->path);
    ro.threads = t->nworkers;
    strata_status st = STRATA_OK;
    if (ro.format == ST_FMT_JSONL)
        st = st_error(ctx, STRATA_EINVAL, "%s: churn tables must be CSV with a header", t->path);
    if (st == STRATA_OK) {
        st = st_reader_run(ctx, t->path, "churn: reading", &ro, on_header_pass1, on_block, t, NULL);
        if (st != STRATA_OK) st = report_failure(t, st);
    }
    if (st == STRATA_OK && (st = number_blocks(t)) != STRATA_OK) st_error(ctx, st, "out of memory");
    if (st == STRATA_OK && t->rows == 0)
        st = st_error(ctx, STRATA_EDATA, "%s: no data rows", t->path);
    size_t nfeat = model ? model->nfeatures : 0;
    if (st == STRATA_OK) st = model ? plan_from_model(t) : plan_from_types(t, skipped, &nfeat);
    if (st == STRATA_OK && nfeat == 0)
        st = st_error(ctx, STRATA_EDATA, "%s: no usable feature column", t->path);
    if (st == STRATA_OK) {
        st = st_churn_data_init(d, (size_t)t->rows, nfeat, need_label);
        if (st != STRATA_OK) st_error(ctx, st, "%s: cannot hold %llu rows x %zu features", t->path,
                                      (unsigned long long)t->rows, nfeat);
    }
    for (size_t c = 0; st == STRATA_OK && c < t->ncols; c++) {
        const column *col = &t->cols[c];
        if (model) break;
        if (col->role == ROLE_NUMERIC)
            st = st_churn_data_set_feature(d, col->feature, ST_CHURN_NUMERIC, col->name, NULL);
        for (size_t k = 0; col->role == ROLE_ONEHOT && st == STRATA_OK && k < col->levels.count; k++)
            st = st_churn_data_set_feature(d, col->level_feat[k], ST_CHURN_ONEHOT, col->name,
                                           col->levels.strs[k]);
    }
    for (size_t j = 0; model && st == STRATA_OK && j < nfeat; j++)
        st = st_churn_data_set_feature(d, j, model->features[j].kind, model->features[j].column,
                                       model->features[j].level);
    size_t rows = (size_t)t->rows;
    if (st == STRATA_OK && t->id_col >= 0) {
        t->id_worker = st_malloc(rows);
        t->id_off = st_malloc(rows * sizeof *t->id_off);
        d->ids = st_calloc(rows, sizeof *d->ids);
        if (!t->id_worker || !t->id_off || !d->ids) st = STRATA_ENOMEM;
    }
    if (st == STRATA_OK && t->tier_col >= 0) {
        t->tier_worker = st_malloc(rows);
        t->tier_off = st_malloc(rows * sizeof *t->tier_off);
        d->tier = st_calloc(rows, sizeof *d->tier);
        if (!t->tier_worker || !t->tier_off || !d->tier) st = STRATA_ENOMEM;
    }
    if (st == STRATA_OK && t->value_col >= 0) {
        d->value = st_malloc(rows * sizeof *d->value);
        if (!d->value) st = STRATA_ENOMEM;
    }
    if (st == STRATA_ENOMEM) st_error(ctx, st, "%s: out of memory", t->path);

    /* pass 2 */
    if (st == STRATA_OK) {
        t->data = d;
        st = read_pass(t, 2);
    }
    /* ids and tiers into the dataset's own storage, in row order */
    st_intern tiers;
    st_intern_init(&tiers);
    for (size_t r = 0; st == STRATA_OK && t->id_col >= 0 && r < rows; r++) {
        const char *s = t->workers[t->id_worker[r]].strings.data + t->id_off[r];
        if (!(d->ids[r] = st_churn_data_strdup(d, s, strlen(s)))) st = STRATA_ENOMEM;
    }
    for (size_t r = 0; st == STRATA_OK && t->tier_col >= 0 && r < rows; r++) {
        const char *s = t->workers[t->tier_worker[r]].strings.data + t->tier_off[r];
        size_t len = strlen(s);
        uint32_t id = st_intern_put(&tiers, s, len, st_hash64(s, len), NULL);
        if (id == ST_INTERN_NONE) st = STRATA_ENOMEM;
        d->tier[r] = id;
    }
    if (st == STRATA_OK && t->tier_col >= 0) {
        d->ntiers = tiers.count;
        d->tier_names = st_calloc(tiers.count + 1, sizeof *d->tier_names);
        if (!d->tier_names) st = STRATA_ENOMEM;
        for (size_t k = 0; st == STRATA_OK && k < tiers.count; k++)
            if (!(d->tier_names[k] = st_churn_data_strdup(d, tiers.strs[k], tiers.lens[k])))
                st = STRATA_ENOMEM;
    }
    st_intern_clear(&tiers);
    if (st == STRATA_ENOMEM) st_error(ctx, st, "%s: out of memory", t->path);
    table_clear(t);
    st_free(t);
    if (st != STRATA_OK) st_churn_data_clear(d);
    return st;
}

strata_status st_churn_table_load(strata_ctx *ctx, const strata_churn_table_opts *opts,
                                  const strata_churn_model *model, st_churn_data *out,
                                  cJSON *skipped)
{
    return load_table(ctx, opts, model, opts->label_column != NULL, false, out, skipped);
}

/* ---------------------------------------------------------------------------------------
 * the public entry points
 * ------------------------------------------------------------------------------------- */

static strata_status take_json(strata_ctx *ctx, cJSON *o, char **out)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) return st_error(ctx, STRATA_ENOMEM, "churn: out of memory for the summary");
    /* cJSON allocates with malloc; results are freed with strata_free (our allocator) */
    *out = st_strdup(text);
    cJSON_free(text);
    return *out ? STRATA_OK : st_error(ctx, STRATA_ENOMEM, "churn: out of memory");
}

strata_status strata_churn_train_table(strata_ctx *ctx, const strata_churn_table_opts *opts,
                                       strata_churn_model **out_model, char **out_summary_json)
{
    *out_model = NULL;
    if (out_summary_json) *out_summary_json = NULL;
    if (!opts || !opts->table || !opts->label_column)
        return st_error(ctx, STRATA_EUSAGE, "churn train: a table and a label column are required");
    double medium, high;
    strata_status st = st_churn_risk_thresholds(ctx, &medium, &high);
    if (st != STRATA_OK) return st;
    st_churn_params p;
    st_churn_params_default(ctx, &p);
    if (opts->test_share > 0) {
        if (!(opts->test_share < 0.8))
            return st_error(ctx, STRATA_EINVAL, "churn train: test share %g is not below 0.8",
                            opts->test_share);
        p.test_share = opts->test_share;
        p.valid_share = 0.2 * (1.0 - opts->test_share); /* 20 % of what is left */
    }
    cJSON *skipped = cJSON_CreateArray();
    if (!skipped) return st_error(ctx, STRATA_ENOMEM, "out of memory");
    st_churn_data d;
    st = load_table(ctx, opts, NULL, true, false, &d, skipped);
    if (st != STRATA_OK) {
        cJSON_Delete(skipped);
        return st;
    }
    st_churn_fit_result r;
    st = st_churn_fit(ctx, &d, &p, &r);
    cJSON *sum = NULL;
    if (st == STRATA_OK) {
        sum = st_churn_fit_summary_json(ctx, &d, &r);
        strata_churn_model *m = st_churn_fit_take_chosen(&r);
        m->label_column = st_churn_model_strdup(m, opts->label_column);
        m->id_column = st_churn_model_strdup(m, opts->id_column ? opts->id_column : "");
        if (!sum || !m->label_column || !m->id_column) {
            strata_churn_model_free(m);
            st = st_error(ctx, STRATA_ENOMEM, "out of memory");
        } else {
            *out_model = m;
        }
        st_churn_fit_result_clear(&r);
    }
    if (st == STRATA_OK) {
        cJSON_AddStringToObject(sum, "command", "train");
        cJSON_AddStringToObject(sum, "table", opts->table);
        cJSON_AddStringToObject(sum, "label", opts->label_column);
        cJSON_AddNumberToObject(sum, "seed", (double)p.seed);
        cJSON_AddItemToObject(sum, "skipped_columns", skipped);
        skipped = NULL;
        if (out_summary_json) st = take_json(ctx, sum, out_summary_json);
        else cJSON_Delete(sum);
        sum = NULL;
        if (st != STRATA_OK) {
            strata_churn_model_free(*out_model);
            *out_model = NULL;
        }
    }
    cJSON_Delete(sum);
    cJSON_Delete(skipped);
    st_churn_data_clear(&d);
    return st;
}

static cJSON *model_json(const strata_churn_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "kind", st_churn_kind_name(m->kind));
    cJSON_AddNumberToObject(o, "features", (double)m->nfeatures);
    cJSON_AddNumberToObject(o, "threshold", m->threshold);
    cJSON_AddStringToObject(o, "label", m->label_column);
    if (m->kind == ST_CHURN_XGBOOST) cJSON_AddNumberToObject(o, "rounds", m->rounds);
    else cJSON_AddNumberToObject(o, "iterations", m->iterations);
    return o;
}

strata_status strata_churn_eval_table(strata_ctx *ctx, const strata_churn_model *model,
                                      const strata_churn_table_opts *opts, char **out_summary_json)
{
    *out_summary_json = NULL;
    if (!model || !opts || !opts->table)
        return st_error(ctx, STRATA_EUSAGE, "churn eval: a model and a table are required");
    strata_churn_table_opts o = *opts;
    if (!o.label_column || !*o.label_column) o.label_column = model->label_column;
    if (!o.label_column || !*o.label_column)
        return st_error(ctx, STRATA_EUSAGE, "churn eval: name the label column (--label)");
    o.id_column = o.value_column = o.tier_column = NULL;
    double medium, high;
    strata_status st = st_churn_risk_thresholds(ctx, &medium, &high);
    if (st != STRATA_OK) return st;
    st_churn_data d;
    st = load_table(ctx, &o, model, true, false, &d, NULL);
    if (st != STRATA_OK) return st;
    double *prob = st_malloc(d.rows * sizeof *prob);
    if (!prob) st = st_error(ctx, STRATA_ENOMEM, "out of memory");
    else st = st_churn_predict(ctx, model, d.x, d.rows, d.cols, prob);
    cJSON *metrics = NULL;
    if (st == STRATA_OK) {
        st = st_churn_metrics_json(prob, d.label, d.rows, model->threshold, &metrics);
        if (st == STRATA_EDATA)
            st_error(ctx, st, "%s: the label '%s' has one class only; AUC needs both", o.table,
                     o.label_column);
        else if (st != STRATA_OK)
            st_error(ctx, st, "churn eval: cannot measure");
    }
    cJSON *sum = st == STRATA_OK ? cJSON_CreateObject() : NULL;
    if (st == STRATA_OK && !sum) st = st_error(ctx, STRATA_ENOMEM, "out of memory");
    if (st == STRATA_OK) {
        cJSON_AddStringToObject(sum, "command", "eval");
        cJSON_AddStringToObject(sum, "table", o.table);
        cJSON_AddStringToObject(sum, "label", o.label_column);
        cJSON_AddItemToObject(sum, "model", model_json(model));
        cJSON_AddStringToObject(metrics, "model", st_churn_kind_name(model->kind));
        cJSON_AddItemToObject(sum, "metrics", metrics);
        metrics = NULL;
        cJSON_AddItemToObject(sum, "risk", st_churn_risk_json(prob, d.rows, medium, high, NULL, NULL, 0));
        st = take_json(ctx, sum, out_summary_json);
    }
    cJSON_Delete(metrics);
    st_free(prob);
    st_churn_data_clear(&d);
    return st;
}

/* Write id,churn_prob,churn_risk to a temporary file renamed over the target. */
static strata_status write_scores(strata_ctx *ctx, const char *path, const st_churn_data *d,
                                  const double *prob, double medium, double high)
{
    st_buf name, b;
    st_buf_init(&name, 8192);
    st_buf_init(&b, (size_t)1 << 20);
    strata_status st = st_buf_printf(&name, "%s.tmp%ld", path, (long)getpid());
    FILE *f = st == STRATA_OK ? fopen(name.data, "wb") : NULL;
    int err = errno;
    bool ok = f != NULL;
    if (ok) ok = st_buf_puts(&b, "id,churn_prob,churn_risk\n") == STRATA_OK;
    for (size_t r = 0; ok && r < d->rows; r++) {
        if (d->ids) ok = st_buf_csv_field(&b, d->ids[r], strlen(d->ids[r])) == STRATA_OK;
        else ok = st_buf_printf(&b, "%zu", r + 1) == STRATA_OK;
        ok = ok && st_buf_printf(&b, ",%.6f,%s\n", prob[r],
                                 st_churn_risk_name(st_churn_risk_of(prob[r], medium, high))) ==
                       STRATA_OK;
        if (ok && (b.len > (b.max >> 1) || r + 1 == d->rows)) {
            ok = fwrite(b.data, 1, b.len, f) == b.len;
            st_buf_reset(&b);
        }
        if (!ok) err = errno;
    }
    if (f && fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (ok && rename(name.data, path) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        if (f) remove(name.data);
        st = st_error(ctx, STRATA_EIO, "%s: cannot write scores: %s", path, strerror(err));
    }
    st_buf_clear(&name);
    st_buf_clear(&b);
    return st;
}

strata_status strata_churn_score_table(strata_ctx *ctx, const strata_churn_model *model,
                                       const strata_churn_table_opts *opts, char **out_summary_json)
{
    *out_summary_json = NULL;
    if (!model || !opts || !opts->table || !opts->out_path)
        return st_error(ctx, STRATA_EUSAGE, "churn score: a model, a table and an output are required");
    strata_churn_table_opts o = *opts;
    o.label_column = NULL;
    if (!o.id_column && model->id_column[0]) o.id_column = model->id_column;
    double medium, high;
    strata_status st = st_churn_risk_thresholds(ctx, &medium, &high);
    if (st != STRATA_OK) return st;
    st_churn_data d;
    /* the training table's id column is used when the scored table has it too */
    st = load_table(ctx, &o, model, false, !opts->id_column, &d, NULL);
    if (st != STRATA_OK) return st;
    double *prob = st_malloc(d.rows * sizeof *prob);
    size_t *save = st_malloc(WORTH_SAVING_SHOWN * sizeof *save);
    if (!prob || !save) st = st_error(ctx, STRATA_ENOMEM, "out of memory");
    else st = st_churn_predict(ctx, model, d.x, d.rows, d.cols, prob);
    if (st == STRATA_OK) st = write_scores(ctx, opts->out_path, &d, prob, medium, high);
    cJSON *sum = st == STRATA_OK ? cJSON_CreateObject() : NULL;
    if (st == STRATA_OK && !sum) st = st_error(ctx, STRATA_ENOMEM, "out of memory");
    if (st == STRATA_OK) {
        cJSON_AddStringToObject(sum, "command", "score");
        cJSON_AddStringToObject(sum, "table", o.table);
        cJSON_AddStringToObject(sum, "out", opts->out_path);
        cJSON_AddNumberToObject(sum, "rows", (double)d.rows);
        cJSON_AddItemToObject(sum, "model", model_json(model));
        double mean = 0;
        for (size_t r = 0; r < d.rows; r++) mean += prob[r];
        cJSON_AddNumberToObject(sum, "mean_churn_prob", d.rows ? mean / (double)d.rows : 0);
        cJSON_AddItemToObject(sum, "risk", st_churn_risk_json(prob, d.rows, medium, high, d.tier,
                                                              d.tier_names, d.ntiers));
        size_t n = st_churn_worth_saving(prob, d.value, d.rows, high, WORTH_SAVING_SHOWN, save);
        cJSON *arr = cJSON_AddArrayToObject(sum, "worth_saving");
        if (o.value_column) cJSON_AddStringToObject(sum, "value_column", o.value_column);
        for (size_t i = 0; arr && i < n; i++) {
            size_t r = save[i];
            cJSON *row = cJSON_CreateObject();
            if (!row) break;
            if (d.ids) cJSON_AddStringToObject(row, "id", d.ids[r]);
            else cJSON_AddNumberToObject(row, "row", (double)(r + 1));
            cJSON_AddNumberToObject(row, "churn_prob", prob[r]);
            if (d.value && !isnan(d.value[r])) cJSON_AddNumberToObject(row, "value", d.value[r]);
            if (d.tier) cJSON_AddStringToObject(row, "tier", d.tier_names[d.tier[r]]);
            cJSON_AddItemToArray(arr, row);
        }
        st = take_json(ctx, sum, out_summary_json);
    }
    st_free(save);
    st_free(prob);
    st_churn_data_clear(&d);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * the human report of a summary
 * ------------------------------------------------------------------------------------- */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static void text_metrics_row(st_buf *b, const cJSON *m)
{
    double size = num(m, "rounds");
    const char *unit = "rounds";
    if (isnan(size)) {
        size = num(m, "iterations");
        unit = "iterations";
    }
    st_buf_printf(b, "  %-9s %7.4f  %7.4f  %8.4f  %7.4f  %9.4f", str(m, "model"),
                  num(m, "auc"), num(m, "pr_auc"), num(m, "log_loss"), num(m, "brier"),
                  num(m, "threshold"));
    if (!isnan(size)) st_buf_printf(b, "  %.0f %s", size, unit);
    st_buf_putc(b, '\n');
}

static void text_confusion(st_buf *b, const cJSON *m, const char *rows)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "confusion");
    if (!c) return;
    st_buf_printf(b,
                  "\nconfusion matrix at threshold %.4f (%s, %s):\n"
                  "                  predicted churn  predicted stay\n"
                  "  churned         %15.0f  %14.0f\n"
                  "  stayed          %15.0f  %14.0f\n"
                  "  precision %.4f  recall %.4f  F1 %.4f  accuracy %.4f\n",
                  num(m, "threshold"), str(m, "model"), rows, num(c, "tp"), num(c, "fn"),
                  num(c, "fp"), num(c, "tn"), num(c, "precision"), num(c, "recall"),
                  num(c, "f1"), num(c, "accuracy"));
}

static void text_calibration(st_buf *b, const cJSON *m)
{
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(m, "calibration");
    if (!cJSON_GetArraySize(cal)) return;
    st_buf_puts(b, "\ncalibration by deciles of the prediction:\n"
                   "  decile       n  mean predicted  observed rate  range\n");
    int k = 1;
    for (const cJSON *row = cal->child; row; row = row->next, k++)
        st_buf_printf(b, "  %6d  %6.0f  %14.4f  %13.4f  %.3f-%.3f\n", k, num(row, "n"),
                      num(row, "mean_predicted"), num(row, "observed"), num(row, "min"),
                      num(row, "max"));
}

static void text_features(st_buf *b, const cJSON *m)
{
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(m, "top_features");
    if (!cJSON_GetArraySize(top)) return;
    bool trees = !strcmp(str(m, "model"), "xgboost");
    st_buf_printf(b, "\ntop features of %s (%s):\n", str(m, "model"),
                  trees ? "share of total gain" : "|coefficient| per standard deviation");
    int k = 0;
    for (const cJSON *row = top->child; row && k < 10; row = row->next, k++) {
        if (trees)
            st_buf_printf(b, "  %-40.40s %6.1f %%\n", str(row, "feature"), 100 * num(row, "share"));
        else
            st_buf_printf(b, "  %-40.40s %+8.4f\n", str(row, "feature"), num(row, "coefficient"));
    }
}

static void text_risk(st_buf *b, const cJSON *risk, const char *rows)
{
    if (!risk) return;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(risk, "counts");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(risk, "shares");
    st_buf_printf(b, "\nchurn risk (%s; medium >= %.2f, high >= %.2f):\n", rows,
                  num(risk, "medium_threshold"), num(risk, "high_threshold"));
    static const char *const bands[] = {"low", "medium", "high"};
    for (int r = 0; r < 3; r++)
        st_buf_printf(b, "  %-7s %10.0f  %5.1f %%\n", bands[r], num(c, bands[r]),
                      100 * num(s, bands[r]));
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(risk, "by_tier");
    if (!cJSON_GetArraySize(bt)) return;
    st_buf_puts(b, "\nrisk by tier:\n  tier                     n        low     medium       high\n");
    for (const cJSON *row = bt->child; row; row = row->next)
        st_buf_printf(b, "  %-16.16s %9.0f  %9.0f  %9.0f  %9.0f\n", str(row, "tier"),
                      num(row, "n"), num(row, "low"), num(row, "medium"), num(row, "high"));
}

strata_status strata_churn_summary_text(strata_ctx *ctx, const char *summary_json, char **out_text)
{
    *out_text = NULL;
    cJSON *o = summary_json ? cJSON_Parse(summary_json) : NULL;
    if (!o) return st_error(ctx, STRATA_EPARSE, "churn summary: not JSON");
    st_buf b;
    st_buf_init(&b, (size_t)1 << 24);
    const char *cmd = str(o, "command");
    if (!strcmp(cmd, "train")) {
        st_buf_printf(&b, "churn train: %s, label %s\n", str(o, "table"), str(o, "label"));
        st_buf_printf(&b, "rows %.0f, churned %.0f (%.1f %%), features %.0f\n", num(o, "rows"),
                      num(o, "positives"), 100 * num(o, "positive_rate"), num(o, "features"));
        const cJSON *sk = cJSON_GetObjectItemCaseSensitive(o, "skipped_columns");
        for (const cJSON *row = sk ? sk->child : NULL; row; row = row->next)
            st_buf_printf(&b, "left out: %s (%s)\n", str(row, "column"), str(row, "reason"));
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "split");
        st_buf_printf(&b, "split (stratified, seed %.0f): train %.0f, validation %.0f, test %.0f\n",
                      num(o, "seed"), num(sp, "train"), num(sp, "valid"), num(sp, "test"));
        st_buf_puts(&b, "\nmeasured on the test split:\n"
                        "  model         AUC   PR-AUC  log loss    Brier  threshold  size\n");
        const cJSON *models = cJSON_GetObjectItemCaseSensitive(o, "models");
        const cJSON *chosen = NULL;
        for (const cJSON *m = models ? models->child : NULL; m; m = m->next) {
            text_metrics_row(&b, m);
            if (!strcmp(str(m, "model"), str(o, "chosen"))) chosen = m;
        }
        st_buf_printf(&b, "chosen: %s (by %s)\n", str(o, "chosen"), str(o, "chosen_by"));
        if (chosen) {
            text_confusion(&b, chosen, "test split");
            text_calibration(&b, chosen);
        }
        for (const cJSON *m = models ? models->child : NULL; m; m = m->next) text_features(&b, m);
        text_risk(&b, cJSON_GetObjectItemCaseSensitive(o, "risk"), "test split, chosen model");
    } else if (!strcmp(cmd, "eval")) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metrics");
        st_buf_printf(&b, "churn eval: %s, label %s, %.0f rows (%.0f churned)\n\n", str(o, "table"),
                      str(o, "label"), num(m, "rows"), num(m, "positives"));
        st_buf_puts(&b, "  model         AUC   PR-AUC  log loss    Brier  threshold  size\n");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (copy) {
            bool trees = !strcmp(str(model, "kind"), "xgboost");
            const char *size = trees ? "rounds" : "iterations";
            cJSON_AddNumberToObject(copy, size, num(model, size));
            text_metrics_row(&b, copy);
            cJSON_Delete(copy);
        }
        text_confusion(&b, m, "all rows");
        text_calibration(&b, m);
        text_risk(&b, cJSON_GetObjectItemCaseSensitive(o, "risk"), "all rows");
    } else if (!strcmp(cmd, "score")) {
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
        st_buf_printf(&b, "churn score: %s -> %s, %.0f persons, %s model, mean churn_prob %.4f\n",
                      str(o, "table"), str(o, "out"), num(o, "rows"), str(model, "kind"),
                      num(o, "mean_churn_prob"));
        text_risk(&b, cJSON_GetObjectItemCaseSensitive(o, "risk"), "all persons");
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(o, "worth_saving");
        if (cJSON_GetArraySize(ws)) {
            const char *vc = str(o, "value_column");
            st_buf_printf(&b, "\nmost worth saving (high risk, by %s):\n", *vc ? vc : "probability");
            for (const cJSON *row = ws->child; row; row = row->next) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
                if (id) st_buf_printf(&b, "  %-24.24s", str(row, "id"));
                else st_buf_printf(&b, "  row %-20.0f", num(row, "row"));
                st_buf_printf(&b, "  churn_prob %.4f", num(row, "churn_prob"));
                if (!isnan(num(row, "value"))) st_buf_printf(&b, "  value %.2f", num(row, "value"));
                if (*str(row, "tier")) st_buf_printf(&b, "  tier %s", str(row, "tier"));
                st_buf_putc(&b, '\n');
            }
        }
    } else {
        st_buf_puts(&b, "churn: unknown summary\n");
    }
    cJSON_Delete(o);
    if (b.len == 0 || !(*out_text = st_buf_take(&b))) {
        st_buf_clear(&b);
        return st_error(ctx, STRATA_ENOMEM, "out of memory");
    }
    return STRATA_OK;
}
