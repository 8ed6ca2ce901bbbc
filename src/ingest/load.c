/*
 * load.c — the loading framework: header mapping, per-worker state, chunk merging in file
 * order, reject records and the rejects file. Input-specific parsing lives in orders.c,
 * events.c, users.c and links.c.
 */
#include "ingest/load.h"
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---- reasons ---- */

typedef struct reason_row {
    const char *key;
    st_reason_kind kind;
    const char *message;
} reason_row;

static const reason_row reason_rows[ST_REASON__COUNT] = {
#define X(id, key, kind, msg) [ST_REASON_##id] = {key, ST_KIND_##kind, msg},
    ST_REASON_MAP(X)
#undef X
};

const char *st_reason_key(st_reason r)
{
    return r < ST_REASON__COUNT ? reason_rows[r].key : "unknown";
}

const char *st_reason_message(st_reason r)
{
    return r < ST_REASON__COUNT ? reason_rows[r].message : "unknown";
}

st_reason_kind st_reason_kind_of(st_reason r)
{
    return r < ST_REASON__COUNT ? reason_rows[r].kind : ST_KIND_REJECT;
}

const char *st_input_name(st_input_kind k)
{
    static const char *const names[] = {"orders", "events", "users", "identities"};
    return k < ST_IN__COUNT ? names[k] : "?";
}

const char *st_event_type_name(st_event_type t)
{
    static const char *const names[] = {
#define X(id, name) name,
        ST_EVENT_TYPES(X)
#undef X
    };
    return t < ST_EV__COUNT ? names[t] : "other";
}

/* ---- dictionaries ---- */

void st_dict_init(st_dict *d)
{
    st_intern_init(&d->names);
    st_intern_put(&d->names, "", 0, st_hash64("", 0), NULL); /* id 0 = none */
}

void st_dict_clear(st_dict *d)
{
    st_intern_clear(&d->names);
}

uint16_t st_dict_put(st_dict *d, st_sv name)
{
    name = st_sv_trim(name);
    if (name.len == 0) return ST_DICT_NONE;
    uint32_t id = st_intern_put_limit(&d->names, name.ptr, name.len, st_hash64(name.ptr, name.len),
                                      NULL, UINT16_MAX);
    return id == ST_INTERN_NONE ? UINT16_MAX : (uint16_t)id;
}

st_sv st_dict_name(const st_dict *d, uint16_t id)
{
    if (id >= d->names.count) return st_sv_make("", 0);
    return st_intern_str(&d->names, id);
}

/* ---- ids ---- */

st_sv st_normalize_id(st_sv raw, bool normalize_numeric, bool *changed)
{
    st_sv v = st_sv_trim(raw);
    if (changed) *changed = false;
    if (!normalize_numeric || v.len < 3) return v;
    /* digits, optional leading '-', then '.' and only zeros: drop the fraction */
    size_t i = (v.ptr[0] == '-') ? 1 : 0, start = i;
    while (i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9')
        i++;
    if (i == start || i >= v.len || v.ptr[i] != '.' || i + 1 >= v.len) return v;
    for (size_t j = i + 1; j < v.len; j++)
        if (v.ptr[j] != '0') return v;
    if (changed) *changed = true;
    return st_sv_make(v.ptr, i);
}

/* ---- dataset ---- */

void st_dataset_init(st_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    st_intern_init(&ds->keys);
    st_intern_init(&ds->identifiers);
    st_dict_init(&ds->categories);
    st_dict_init(&ds->brands);
    st_dict_init(&ds->regions);
    st_dict_init(&ds->channels);
    st_dict_init(&ds->genders);
    st_arena_init(&ds->text, 256 * 1024);
}

void st_dataset_clear(st_dataset *ds)
{
    st_intern_clear(&ds->keys);
    st_free(ds->key_first);
    st_intern_clear(&ds->identifiers);
    st_dict_clear(&ds->categories);
    st_dict_clear(&ds->brands);
    st_dict_clear(&ds->regions);
    st_dict_clear(&ds->channels);
    st_dict_clear(&ds->genders);
    st_vmrows_clear(&ds->orders.vm);
    st_vmrows_clear(&ds->events.vm);
    st_free(ds->users.key), st_free(ds->users.line), st_free(ds->users.attrs),
        st_free(ds->users.fp);
    st_free(ds->links.key), st_free(ds->links.ident), st_free(ds->links.line),
        st_free(ds->links.fp);
    st_free(ds->rejects);
    st_arena_clear(&ds->text);
    memset(ds, 0, sizeof *ds);
}

strata_status st_dataset_add_reject(st_dataset *ds, st_input_kind input, uint64_t line,
                                    uint32_t field, st_reason reason, const char *detail)
{
    if (!ST_GROW(ds->rejects, ds->cap_rejects, ds->nrejects + 1)) return STRATA_ENOMEM;
    st_reject *r = &ds->rejects[ds->nrejects++];
    memset(r, 0, sizeof *r);
    r->line = line;
    r->field = field;
    r->reason = (uint16_t)reason;
    r->input = (uint8_t)input;
    if (detail) r->detail = st_arena_strndup(&ds->text, detail, strlen(detail));
    ds->quality[input].reasons[reason]++;
    return STRATA_OK;
}

static int reject_cmp(const void *a, const void *b)
{
    const st_reject *x = a, *y = b;
    if (x->input != y->input) return x->input < y->input ? -1 : 1;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->reason != y->reason) return x->reason < y->reason ? -1 : 1;
    return (x->field > y->field) - (x->field < y->field);
}

strata_status st_dataset_write_rejects(strata_ctx *ctx, const st_dataset *ds, const char *path)
{
    FILE *f = st_fopen_new(path);
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot write: %s", path, strerror(errno));
    /* sorting a copy keeps the dataset const */
    st_reject *sorted = NULL;
    if (ds->nrejects) {
        sorted = st_malloc(ds->nrejects * sizeof *sorted);
        if (!sorted) {
            st_fclose_new(f, path, false);
            return STRATA_ENOMEM;
        }
        memcpy(sorted, ds->rejects, ds->nrejects * sizeof *sorted);
        qsort(sorted, ds->nrejects, sizeof *sorted, reject_cmp);
    }
    st_buf b;
    st_buf_init(&b, 0);
    strata_status st = st_buf_puts(&b, "source,line,column,reason,detail,raw\n");
    for (size_t i = 0; i < ds->nrejects && st == STRATA_OK; i++) {
        const st_reject *r = &sorted[i];
        const st_quality *q = &ds->quality[r->input];
        const char *src = q->path ? q->path : st_input_name(r->input);
        st = st_buf_csv_field(&b, src, strlen(src));
        if (st == STRATA_OK) st = st_buf_printf(&b, ",%llu,", (unsigned long long)r->line);
        if (st == STRATA_OK && r->field) st = st_buf_printf(&b, "%u", r->field);
        if (st == STRATA_OK) st = st_buf_printf(&b, ",%s,", st_reason_key((st_reason)r->reason));
        const char *detail = r->detail ? r->detail : st_reason_message((st_reason)r->reason);
        if (st == STRATA_OK) st = st_buf_csv_field(&b, detail, strlen(detail));
        if (st == STRATA_OK) st = st_buf_putc(&b, ',');
        if (st == STRATA_OK && r->raw) st = st_buf_csv_field(&b, r->raw, strlen(r->raw));
        if (st == STRATA_OK) st = st_buf_putc(&b, '\n');
        if (st == STRATA_OK && b.len > (1u << 20)) {
            if (fwrite(b.data, 1, b.len, f) != b.len) st = STRATA_EIO;
            st_buf_reset(&b);
        }
    }
    if (st == STRATA_OK && b.len && fwrite(b.data, 1, b.len, f) != b.len) st = STRATA_EIO;
    st_buf_clear(&b);
    st_free(sorted);
    if (st_fclose_new(f, path, st == STRATA_OK) != 0 && st == STRATA_OK) st = STRATA_EIO;
    if (st == STRATA_EIO) return st_error(ctx, st, "%s: write failed: %s", path, strerror(errno));
    return st;
}

/* ---- worker helpers ---- */

#define RAW_KEEP 512 /* bytes of a rejected record kept for the rejects file */

bool st_load_reject(st_worker *w, const st_record *rec, uint32_t field, st_reason reason,
                    const char *detail_fmt, ...)
{
    w->reasons[reason]++;
    if (!ST_GROW(w->rejects, w->cap_rejects, w->nrejects + 1)) return false;
    st_reject *r = &w->rejects[w->nrejects++];
    memset(r, 0, sizeof *r);
    r->line = rec->line;
    r->field = field;
    r->reason = (uint16_t)reason;
    r->input = (uint8_t)w->load->spec->kind;
    if (detail_fmt) {
        char tmp[300];
        va_list ap;
        va_start(ap, detail_fmt);
        int n = vsnprintf(tmp, sizeof tmp, detail_fmt, ap);
        va_end(ap);
        if (n > 0) r->detail = st_arena_strndup(&w->text, tmp, strnlen(tmp, sizeof tmp));
    }
    size_t keep = ST_MIN(rec->raw.len, (size_t)RAW_KEEP);
    r->raw = st_arena_strndup(&w->text, rec->raw.ptr, keep);
    return r->raw != NULL;
}

void st_load_repair(st_worker *w, st_reason reason)
{
    w->reasons[reason]++;
}

void st_load_key_begin(st_worker *w, st_sv raw, st_key_lookup *k)
{
    const st_key_lookup *ready = w->ready_key;
    if (ready && ready->raw.ptr == raw.ptr && ready->raw.len == raw.len) {
        w->ready_key = NULL;
        *k = *ready;
        return;
    }
    /* written field by field into the caller's lookup: a lookup returned by value went out
     * through a temporary, copied in 16-byte loads of just-made 8-byte stores — three
     * store-forwarding stalls a row, 4 % of the 10M-row run */
    k->raw = raw;
    k->id = st_normalize_id(raw, w->load->normalize_ids, &k->normalized);
    k->hash = st_hash64(k->id.ptr, k->id.len);
    st_intern_prefetch(&w->keys, k->hash);
}

uint32_t st_load_key_end(st_worker *w, const st_key_lookup *k, uint64_t line)
{
    if (k->normalized) st_load_repair(w, ST_REASON_ID_NORMALIZED);
    /* Always the table, whose slot key_begin fetched: a check for "the same id as the last
     * row" (lines of one order) skipped it on ~40 % of rows, but that branch mispredicted as
     * often as not and cost more than the probe (-0.06 s CPU on the 10M-row benchmark). */
    bool added;
    uint32_t id = st_intern_put(&w->keys, k->id.ptr, k->id.len, k->hash, &added);
    if (id == ST_INTERN_NONE) return id;
    if (added) {
        if (!ST_GROW(w->key_first_line, w->key_first_cap, (size_t)id + 1)) return ST_INTERN_NONE;
        w->key_first_line[id] = line;
    }
    return id;
}

uint32_t st_load_key(st_worker *w, st_sv raw, uint64_t line)
{
    st_key_lookup k;
    st_load_key_begin(w, raw, &k);
    return st_load_key_end(w, &k, line);
}

uint16_t st_load_dict(st_worker *w, int which, st_sv name)
{
    if (name.len == 0) return ST_DICT_NONE;
    if (name.len > 16) return st_dict_put(&w->dicts[which], name);
    uint64_t words[2];
    st_short_words(name.ptr, name.len, words);
    uint64_t h = (words[0] * 0x9e3779b97f4a7c15ULL) ^ (words[1] * 0xff51afd7ed558ccdULL) ^ name.len;
    st_name_entry *e = &w->dict_cache[which][(h ^ h >> 29) % ST_NAME_CACHE];
    if (e->len == name.len && e->words[0] == words[0] && e->words[1] == words[1]) return e->id;
    uint16_t id = st_dict_put(&w->dicts[which], name);
    if (id != UINT16_MAX) *e = (st_name_entry){{words[0], words[1]}, (uint32_t)name.len, id};
    return id;
}

void *st_load_record(st_worker *w)
{
    const st_load *ld = w->load;
    size_t rs = ld->spec->rec_size;
    unsigned char *rec;
    if (ld->table) {
        if (w->range_at == w->range_end) {
            size_t first = st_vmrows_claim(ld->table, ST_LOAD_CLAIM_ROWS);
            if (first == SIZE_MAX) {
                w->table_full = true;
                return NULL;
            }
            /* the rows hold this worker's local ids until finish_table remaps them */
            ld->range_owner[first / ST_LOAD_CLAIM_ROWS] = (uint8_t)w->index;
            w->range_at = first;
            w->range_end = first + ST_LOAD_CLAIM_ROWS;
        }
        rec = ld->table->base + rs * w->range_at++;
    } else {
        st_chunk *c = w->current;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 4096;
            unsigned char *p = st_realloc(c->recs, cap * rs);
            if (!p) return NULL;
            c->recs = p;
            c->cap = cap;
        }
        rec = c->recs + rs * c->n++;
    }
    w->records++;
    return rec;
}

bool st_load_ts(st_worker *w, const st_record *rec, int canon, bool required, int64_t *out,
                bool *present)
{
    st_sv v = st_load_field(w, rec, canon);
    *present = v.len > 0;
    if (v.len == 0) {
        if (!required) return true;
        st_load_reject(w, rec, (uint32_t)w->load->col[canon] + 1, ST_REASON_MISSING_TS, NULL);
        return false;
    }
    if (!st_ts_parse_memo(v, w->load->ts_format, w->load->ds->tz, &w->ts_memo, out)) {
        st_load_reject(w, rec, (uint32_t)w->load->col[canon] + 1, ST_REASON_BAD_TS,
                       "%s '%.*s' is in no accepted format", w->load->spec->fields[canon].name,
                       (int)ST_MIN(v.len, 64), v.ptr);
        return false;
    }
    return true;
}

/* ---- the read ---- */

/* The fingerprint multiplier of header column `col`: odd, and different for every column. */
static uint64_t fp_column_seed(int col)
{
    return st_fp_mum((uint64_t)(col + 1) ^ ST_FP_TEXT, ST_FP_STEP) | 1;
}

static strata_status on_header(void *ud, const st_record *hdr)
{
    st_load *ld = ud;
    const st_input_spec *spec = ld->spec;
    const st_config *cfg = ld->ctx->config;
    ld->header_nfields = hdr->nfields;
    for (size_t f = 0; f < ST_READER_MAX_FIELDS; f++)
        ld->canon_of[f] = -1;
    if (hdr->error_field)
        return st_error(ld->ctx, STRATA_EPARSE, "%s:1: malformed header: %s", ld->path,
                        hdr->error ? hdr->error : "syntax error");
    for (int i = 0; i < spec->nfields; i++) {
        const char *want = st_cfg_str(cfg, spec->fields[i].column);
        ld->col[i] = -1;
        for (uint32_t f = 0; f < hdr->nfields; f++) {
            if (st_sv_eq(st_sv_trim(hdr->fields[f]), st_sv_cstr(want))) {
                ld->col[i] = (int)f;
                break;
            }
        }
        /* a column named explicitly in the config must exist; defaults are optional */
        bool named = st_cfg_is_set(cfg, spec->fields[i].column) && *want;
        if (ld->col[i] >= 0) ld->canon_of[ld->col[i]] = i;
        if (ld->col[i] < 0 && (spec->fields[i].required || named)) {
            st_buf cols;
            st_buf_init(&cols, 4096);
            for (uint32_t f = 0; f < hdr->nfields && f < 40; f++) {
                if (f) st_buf_puts(&cols, ", ");
                st_buf_append(&cols, hdr->fields[f].ptr, ST_MIN(hdr->fields[f].len, 64));
            }
            strata_status st = st_error(
                ld->ctx, STRATA_ECONFIG,
                "%s:1: no column '%s' for %s %s (set %s in the config or --map %s.%s=COLUMN); "
                "the columns are: %s",
                ld->path, want, st_input_name(spec->kind), spec->fields[i].name,
                st_cfg_name(spec->fields[i].column), st_input_name(spec->kind),
                spec->fields[i].name, cols.data ? cols.data : "(none)");
            st_buf_clear(&cols);
            return st;
        }
    }
    for (int i = 0; i < spec->nfields; i++) /* absent fields share one: their terms are constant */
        ld->fp_seed[i] = fp_column_seed(ld->col[i]);
    ld->fp_ncols = 0;
    for (uint32_t f = 0; f < hdr->nfields && f < ST_READER_MAX_FIELDS; f++) {
        int canon = ld->canon_of[f];
        /* the person id's hash enters at the end; the row function adds its own fields */
        if (canon == 0 || (canon > 0 && (spec->fp_own >> canon & 1))) continue;
        ld->fp_col[ld->fp_ncols] = (uint16_t)f;
        ld->fp_canon[ld->fp_ncols] = (int16_t)canon;
        ld->fp_col_seed[ld->fp_ncols++] = fp_column_seed((int)f);
    }
    return STRATA_OK;
}

/* One record: field-count and syntax checks, then the input's row parser. */
static bool load_row(st_worker *w, const st_record *rec)
{
    const st_load *ld = w->load;
    if (rec->error_field)
        return st_load_reject(w, rec, rec->error_field, ST_REASON_CSV_SYNTAX, "%s",
                              rec->error ? rec->error : "syntax error");
    if (ld->format == ST_FMT_CSV && rec->nfields != ld->header_nfields)
        return st_load_reject(w, rec, 0, ST_REASON_FIELD_COUNT, "expected %u fields, found %u",
                              ld->header_nfields, rec->nfields);
    uint64_t before = w->records;
    bool ok = ld->spec->row(w, rec);
    if (w->records > before) w->rows_loaded++;
    return ok;
}

static bool flush_batch(st_worker *w, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        w->ready_key = &w->batch_keys[i];
        ok = load_row(w, &w->batch[i]);
    }
    w->ready_key = NULL;
    return ok;
}

static strata_status on_block(void *ud, unsigned worker, const st_block *block)
{
    st_load *ld = ud;
    st_worker *w = &ld->workers[worker];
    if (!ld->table) {
        if (!ST_GROW(w->chunks, w->cap_chunks, w->nchunks + 1)) return STRATA_ENOMEM;
        w->current = &w->chunks[w->nchunks++];
        memset(w->current, 0, sizeof *w->current);
        w->current->block = block->index;
        w->current->worker = worker;
    }
    st_cursor cur;
    st_cursor_init(&cur, block);
    st_record single;
    bool ok = true;
    size_t nbatch = 0, nf = ld->header_nfields;
    if (!w->batch_fields && ld->format == ST_FMT_CSV && nf)
        w->batch_fields = st_malloc(ST_LOAD_BATCH * ST_READER_MAX_FIELDS * sizeof *w->batch_fields);
    for (;;) {
        /* The cursor writes each record and its fields straight into the batch slot it may
         * take (the slot past the batch's rows: flush_batch leaves it alone). Copying a record
         * in afterwards read its just-written fields back in 16-byte loads, stalling store
         * forwarding on every row. */
        st_record *rec = w->batch_fields ? &w->batch[nbatch] : &single;
        if (w->batch_fields) cur.out = w->batch_fields + nbatch * ST_READER_MAX_FIELDS;
        if (!ok || !st_cursor_next(&cur, rec)) break;
        w->rows_read++;
        /* A plain well-formed row waits in the batch while its person-id slot is fetched:
         * the lookup was the largest cache miss of the load. Anything else goes after the
         * batch, so rows are still handled in file order. */
        bool plain =
            !rec->error_field && cur.scratch.len == 0 && w->batch_fields && rec->nfields == nf;
        if (plain) {
            /* canonical field 0 is the person id in every input */
            st_load_key_begin(w, st_load_field(w, rec, 0), &w->batch_keys[nbatch]);
            if (++nbatch < ST_LOAD_BATCH) continue;
        }
        ok = flush_batch(w, nbatch);
        nbatch = 0;
        if (!ok || plain) continue;
        ok = load_row(w, rec);
    }
    if (ok) ok = flush_batch(w, nbatch);
    w->blank_lines += cur.blank_lines;
    st_cursor_clear(&cur);
    if (w->table_full) return STRATA_ELIMIT;
    return ok ? STRATA_OK : STRATA_ENOMEM;
}

static void worker_init(st_worker *w, st_load *ld, unsigned index)
{
    memset(w, 0, sizeof *w);
    w->load = ld;
    w->index = index;
    st_intern_init(&w->keys);
    st_intern_init(&w->identifiers);
    for (int i = 0; i < 5; i++)
        st_dict_init(&w->dicts[i]);
    st_arena_init(&w->text, 64 * 1024);
    st_buf_init(&w->tmp, 1 << 16);
    st_dict_init(&w->evtypes);
}

static void worker_clear(st_worker *w)
{
    st_intern_clear(&w->keys);
    st_free(w->key_first_line);
    st_intern_clear(&w->identifiers);
    for (int i = 0; i < 5; i++)
        st_dict_clear(&w->dicts[i]);
    for (size_t i = 0; i < w->nchunks; i++)
        st_free(w->chunks[i].recs);
    st_free(w->chunks);
    st_free(w->rejects);
    st_arena_clear(&w->text);
    st_buf_clear(&w->tmp);
    st_dict_clear(&w->evtypes);
    st_free(w->evtype_of);
    st_free(w->batch_fields);
}

static st_dict *dataset_dict(st_dataset *ds, int which)
{
    switch (which) {
    case ST_DICT_CATEGORY:
        return &ds->categories;
    case ST_DICT_BRAND:
        return &ds->brands;
    case ST_DICT_REGION:
        return &ds->regions;
    case ST_DICT_CHANNEL:
        return &ds->channels;
    default:
        return &ds->genders;
    }
}

static int chunk_order(const void *a, const void *b)
{
    const st_chunk *const *x = a, *const *y = b;
    return ((*x)->block > (*y)->block) - ((*x)->block < (*y)->block);
}

static size_t *row_count(st_dataset *ds, st_input_kind kind)
{
    switch (kind) {
    case ST_IN_ORDERS:
        return &ds->orders.n;
    case ST_IN_EVENTS:
        return &ds->events.n;
    case ST_IN_USERS:
        return &ds->users.n;
    default:
        return &ds->links.n;
    }
}

typedef struct copy_job {
    st_load *ld;
    st_dataset *ds;
    st_chunk **order;
    size_t *at;
    uint32_t **key_map;
    uint16_t *(*dict_map)[5];
    uint32_t **ident_map;
} copy_job;

static strata_status copy_chunks(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    copy_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        st_chunk *c = j->order[i];
        j->ld->spec->merge(j->ds, c, j->at[i], j->key_map[c->worker], j->dict_map[c->worker],
                           j->ident_map[c->worker]);
        st_free(c->recs); /* keep peak memory near the dataset's size */
        c->recs = NULL;
    }
    return STRATA_OK;
}

typedef struct remap_job {
    st_load *ld;
    uint32_t **key_map;
    uint16_t *(*dict_map)[5];
    size_t total;   /* rows claimed */
    bool as_is[64]; /* the worker's local ids are already the dataset's */
    /* the last worker's keys new to the dataset, numbered but not yet inserted (merge_keys):
     * inserted by whichever thread takes item 0 while the others remap rows */
    const st_worker *pending;
    const uint32_t *pending_map;
    size_t pending_known;
} remap_job;

/* Whether every map of worker wi sends an id to itself: so for the first worker of an empty
 * dataset (its key table and dictionaries become the dataset's), whose rows — about half of
 * them on two threads — then need no rewriting. */
static bool maps_identity(const st_load *ld, unsigned wi, uint32_t *const *key_map,
                          uint16_t *const (*dict_map)[5])
{
    const st_worker *w = &ld->workers[wi];
    for (size_t k = 0; k < w->keys.count; k++)
        if (key_map[wi][k] != k) return false;
    for (int d = 0; d < 5; d++)
        for (size_t k = 0; k < w->dicts[d].names.count; k++)
            if (dict_map[wi][d][k] != k) return false;
    return true;
}

/* The keys of worker w that map to ids from `known` on, into the dataset's table in local id
 * order, which gives them exactly those ids. */
static strata_status insert_new_keys(st_dataset *ds, const st_worker *w, const uint32_t *map,
                                     size_t known)
{
    size_t n = w->keys.count;
    for (size_t k = 0; k < n; k++) {
        if (k + 16 < n && map[k + 16] >= known) /* as in lookup_range */
            st_intern_prefetch(&ds->keys, w->keys.hashes[k + 16]);
        if (map[k] < known) continue;
        st_sv s = st_intern_str(&w->keys, (uint32_t)k);
        uint32_t id = st_intern_put(&ds->keys, s.ptr, s.len, w->keys.hashes[k], NULL);
        if (id != map[k]) return id == ST_INTERN_NONE ? STRATA_ENOMEM : STRATA_EINTERNAL;
    }
    return STRATA_OK;
}

/* Item 0: the pending keys (if any); item r + 1: range r of the claimed rows, from its
 * owner's local ids (a worker's last range is filled only up to where it stopped). */
static strata_status remap_ranges(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    remap_job *j = arg;
    if (begin == 0) {
        if (j->pending) {
            strata_status st =
                insert_new_keys(j->ld->ds, j->pending, j->pending_map, j->pending_known);
            if (st != STRATA_OK) return st;
        }
        begin = 1;
    }
    for (size_t item = begin; item < end; item++) {
        size_t r = item - 1;
        unsigned wi = j->ld->range_owner[r];
        if (j->as_is[wi]) continue;
        const st_worker *w = &j->ld->workers[wi];
        size_t lo = r * ST_LOAD_CLAIM_ROWS, hi = ST_MIN(lo + ST_LOAD_CLAIM_ROWS, j->total);
        if (w->range_end == lo + ST_LOAD_CLAIM_ROWS) hi = ST_MIN(hi, w->range_at);
        if (lo < hi)
            j->ld->spec->remap(j->ld->table->base, lo, hi, j->key_map[wi], j->dict_map[wi]);
    }
    return STRATA_OK;
}

/* The shared table holds claimed rows with a hole at the end of each worker's last range:
 * rewrite local ids range by range on all threads, then move rows from the tail into the
 * holes. */
static strata_status finish_table(st_load *ld, uint32_t **key_map, uint16_t *(*dict_map)[5],
                                  const st_worker *pending, size_t pending_known)
{
    st_vmrows *t = ld->table;
    size_t rs = ld->spec->rec_size, total = atomic_load(&t->claimed), holes = 0;
    if (total > t->max_rows) total = t->max_rows;
    remap_job j = {ld, key_map, dict_map, total, {false}, pending, NULL, pending_known};
    for (unsigned wi = 0; wi < ld->nworkers; wi++) {
        j.as_is[wi] = maps_identity(ld, wi, key_map, dict_map);
        if (&ld->workers[wi] == pending) j.pending_map = key_map[wi];
    }
    /* ranges one at a time, so the threads not inserting keys take more of them */
    strata_status st =
        st_parallel_chunks(ld->nworkers, 1 + (total + ST_LOAD_CLAIM_ROWS - 1) / ST_LOAD_CLAIM_ROWS,
                           1, remap_ranges, &j);
    if (st != STRATA_OK) return st;
    uint32_t dead = UINT32_MAX;
    size_t hole_at[64], hole_end[64], nholes = 0;
    for (unsigned wi = 0; wi < ld->nworkers; wi++) {
        st_worker *w = &ld->workers[wi];
        size_t end = ST_MIN(w->range_end, total);
        if (w->range_at >= end) continue;
        for (size_t i = w->range_at; i < end; i++)
            memcpy(t->base + i * rs + ld->spec->key_offset, &dead, sizeof dead);
        /* in increasing order: ranges are claimed in order, so by their start */
        size_t h = nholes++;
        for (; h > 0 && hole_at[h - 1] > w->range_at; h--)
            hole_at[h] = hole_at[h - 1], hole_end[h] = hole_end[h - 1];
        hole_at[h] = w->range_at, hole_end[h] = end;
        holes += end - w->range_at;
    }
    /* fill the holes below `valid` with the last live rows (only the holes are visited: a
     * scan of every row's key was a serial pass over the whole table) */
    size_t valid = total - holes, tail = total;
    for (size_t h = 0; h < nholes; h++)
        for (size_t i = hole_at[h]; i < hole_end[h] && i < valid; i++) {
            uint32_t key;
            do { /* the last live row; there is one, since valid rows remain past i */
                tail--;
                memcpy(&key, t->base + tail * rs + ld->spec->key_offset, sizeof key);
            } while (key == dead);
            memcpy(t->base + i * rs, t->base + tail * rs, rs);
        }
    st_vmrows_account(t, valid);
    *row_count(ld->ds, ld->spec->kind) = valid;
    return STRATA_OK;
}

typedef struct lookup_job {
    const st_intern *global, *local;
    uint32_t *map;
    uint64_t *first;             /* the dataset's first appearances (ds->key_first) */
    const uint64_t *local_first; /* the worker's first lines */
    st_input_kind kind;          /* the input */
} lookup_job;

/* Dataset ids of keys [begin, end) of a worker, and their first appearances lowered to this
 * input's where earlier: distinct local keys have distinct dataset ids, so no two threads
 * write one entry (done on one thread after the lookups, this was a random access per key
 * with the other core idle). */
static strata_status lookup_range(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    lookup_job *j = arg;
    for (size_t k = begin; k < end; k++) {
        /* the slots of keys a few ahead are fetched while this one is looked up: one cache
         * miss after another was most of the merge */
        if (k + 16 < end) st_intern_prefetch(j->global, j->local->hashes[k + 16]);
        st_sv s = st_intern_str(j->local, (uint32_t)k);
        uint32_t id = st_intern_find(j->global, s.ptr, s.len, j->local->hashes[k]);
        j->map[k] = id;
        if (id == ST_INTERN_NONE) continue;
        uint64_t first = st_first_make(j->kind, j->local_first[k]);
        if (first < j->first[id]) j->first[id] = first;
    }
    return STRATA_OK;
}

/* Dataset ids of one worker's keys, in the order a serial insertion of every worker's keys
 * in local id order would give them. The first worker of an empty dataset hands over its
 * table and first lines as they are; later workers look their keys up on all threads and only
 * the keys not yet known are inserted, on one thread (a serial insertion of every key took
 * 0.3 s at 1M persons). With `defer` (the last worker, when rows are remapped next) the new
 * keys are only numbered here, and finish_table inserts them while other threads remap. */
static strata_status merge_keys(st_load *ld, st_worker *w, uint32_t *map, bool defer)
{
    st_dataset *ds = ld->ds;
    size_t n = w->keys.count, known = ds->keys.count;
    st_input_kind kind = ld->spec->kind;
    if (known == 0) {
        st_intern empty = ds->keys;
        ds->keys = w->keys;
        w->keys = empty;
        for (size_t k = 0; k < n; k++) {
            map[k] = (uint32_t)k;
            w->key_first_line[k] = st_first_make(kind, w->key_first_line[k]);
        }
        /* tagged in place rather than copied into fresh memory (8 MB at 1M persons) */
        st_free(ds->key_first);
        ds->key_first = w->key_first_line, ds->cap_key_first = w->key_first_cap;
        w->key_first_line = NULL, w->key_first_cap = 0;
        if (!ST_GROW(ds->key_first, ds->cap_key_first, n + 1)) return STRATA_ENOMEM;
        return STRATA_OK;
    }
    lookup_job j = {&ds->keys, &w->keys, map, ds->key_first, w->key_first_line, kind};
    /* chunks taken in turn: with fixed halves one thread looked keys up alone at the end */
    strata_status st = st_parallel_chunks(ld->nworkers, n, 1 << 15, lookup_range, &j);
    if (st != STRATA_OK) return st;
    size_t next = known; /* the next new id */
    for (size_t k = 0; k < n; k++)
        if (map[k] == ST_INTERN_NONE) {
            if (next >= UINT32_MAX - 1) return STRATA_ENOMEM; /* as st_intern_put would */
            map[k] = (uint32_t)next++;
        }
    if (!defer && (st = insert_new_keys(ds, w, map, known)) != STRATA_OK) return st;
    if (!ST_GROW(ds->key_first, ds->cap_key_first, next + 1)) return STRATA_ENOMEM;
    for (size_t k = 0; k < n; k++) /* a new id comes from one local key only */
        if (map[k] >= known) ds->key_first[map[k]] = st_first_make(kind, w->key_first_line[k]);
    return STRATA_OK;
}

/* Merge workers into the dataset: keys, dictionaries and identifiers get dataset ids, rows are
 * appended in block order, counters summed, rejects copied. */
static strata_status merge_workers(st_load *ld)
{
    st_dataset *ds = ld->ds;
    st_input_kind kind = ld->spec->kind;
    strata_status st = STRATA_OK;
    uint32_t *key_map[64] = {0}, *ident_map[64] = {0};
    uint16_t *dict_map[64][5] = {{0}};
    size_t total_chunks = 0, pending_known = 0;
    const st_worker *pending = NULL; /* keys numbered, inserted by finish_table */
    for (unsigned wi = 0; wi < ld->nworkers && st == STRATA_OK; wi++) {
        st_worker *w = &ld->workers[wi];
        total_chunks += w->nchunks;
        key_map[wi] = st_malloc((w->keys.count + 1) * sizeof(uint32_t));
        ident_map[wi] = st_malloc((w->identifiers.count + 1) * sizeof(uint32_t));
        if (!key_map[wi] || !ident_map[wi]) {
            st = STRATA_ENOMEM;
            break;
        }
        size_t known = ds->keys.count;
        bool defer = ld->table && wi + 1 == ld->nworkers && known;
        st = merge_keys(ld, w, key_map[wi], defer);
        if (defer && st == STRATA_OK) pending = w, pending_known = known;
        for (uint32_t k = 0; k < w->identifiers.count && st == STRATA_OK; k++) {
            st_sv s = st_intern_str(&w->identifiers, k);
            uint32_t g =
                st_intern_put(&ds->identifiers, s.ptr, s.len, w->identifiers.hashes[k], NULL);
            if (g == ST_INTERN_NONE) st = STRATA_ENOMEM;
            ident_map[wi][k] = g;
        }
        for (int d = 0; d < 5 && st == STRATA_OK; d++) {
            st_dict *local = &w->dicts[d];
            dict_map[wi][d] = st_malloc(local->names.count * sizeof(uint16_t));
            if (!dict_map[wi][d]) {
                st = STRATA_ENOMEM;
                break;
            }
            for (uint32_t k = 0; k < local->names.count; k++)
                dict_map[wi][d][k] =
                    st_dict_put(dataset_dict(ds, d), st_intern_str(&local->names, k));
        }
    }
    if (ld->table && st == STRATA_OK)
        st = finish_table(ld, key_map, dict_map, pending, pending_known);
    /* chunks in file order, each written at its offset, several at a time */
    st_chunk **order = st_malloc((total_chunks + 1) * sizeof *order);
    if (!order && st == STRATA_OK) st = STRATA_ENOMEM;
    if (st == STRATA_OK && !ld->table) {
        size_t n = 0, rows = 0;
        for (unsigned wi = 0; wi < ld->nworkers; wi++)
            for (size_t c = 0; c < ld->workers[wi].nchunks; c++) {
                order[n++] = &ld->workers[wi].chunks[c];
                rows += ld->workers[wi].chunks[c].n;
            }
        qsort(order, n, sizeof *order, chunk_order);
        st = ld->spec->reserve(ds, rows);
        if (st == STRATA_OK) {
            copy_job job = {ld, ds, order, NULL, key_map, dict_map, ident_map};
            job.at = st_malloc((n + 1) * sizeof *job.at);
            if (!job.at)
                st = STRATA_ENOMEM;
            else {
                size_t at = *row_count(ds, kind);
                for (size_t i = 0; i < n; i++)
                    job.at[i] = at, at += order[i]->n;
                st = st_parallel_for(ld->nworkers, n, copy_chunks, &job);
                *row_count(ds, kind) = at;
                st_free(job.at);
            }
        }
    }
    st_free(order);
    st_quality *q = &ds->quality[kind];
    for (unsigned wi = 0; wi < ld->nworkers && st == STRATA_OK; wi++) {
        st_worker *w = &ld->workers[wi];
        q->rows_read += w->rows_read;
        q->rows_loaded += w->rows_loaded;
        q->blank_lines += w->blank_lines;
        for (int r = 0; r < ST_REASON__COUNT; r++)
            q->reasons[r] += w->reasons[r];
        if (!ST_GROW(ds->rejects, ds->cap_rejects, ds->nrejects + w->nrejects)) {
            st = STRATA_ENOMEM;
            break;
        }
        for (size_t i = 0; i < w->nrejects; i++) {
            st_reject r = w->rejects[i];
            if (r.detail) r.detail = st_arena_strndup(&ds->text, r.detail, strlen(r.detail));
            if (r.raw) r.raw = st_arena_strndup(&ds->text, r.raw, strlen(r.raw));
            ds->rejects[ds->nrejects++] = r;
        }
    }
    for (unsigned wi = 0; wi < ld->nworkers; wi++) {
        st_free(key_map[wi]);
        st_free(ident_map[wi]);
        for (int d = 0; d < 5; d++)
            st_free(dict_map[wi][d]);
    }
    return st;
}

static const st_input_spec *spec_of(st_input_kind kind)
{
    switch (kind) {
    case ST_IN_ORDERS:
        return &st_orders_spec;
    case ST_IN_EVENTS:
        return &st_events_spec;
    case ST_IN_USERS:
        return &st_users_spec;
    default:
        return &st_links_spec;
    }
}

/* An upper bound on the rows an input can hold: a record takes at least 4 bytes ("a,b\n"
 * is the shortest with a key and a value), and gzip expands at most ~1032 times. Reserving
 * by this bound costs address space only. */
static size_t max_rows_of(const char *path, const char *data, size_t len)
{
    uint64_t bytes = len;
    bool gz = data && len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b;
    if (!data) {
        struct stat sb;
        unsigned char magic[2] = {0, 0};
        FILE *f = fopen(path, "rb");
        if (f) {
            gz = fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            fclose(f);
        }
        bytes = stat(path, &sb) == 0 && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    }
    uint64_t rows = (gz ? bytes * 1032 : bytes) / 4 + 4 * ST_LOAD_CLAIM_ROWS * 64;
    if (rows > UINT32_MAX) rows = UINT32_MAX;
    return (size_t)rows;
}

static strata_status ensure_tz(strata_ctx *ctx, st_dataset *ds)
{
    if (ds->tz) return STRATA_OK;
    return st_tz_load(ctx, st_cfg_str(ctx->config, ST_CFG_TIMEZONE), &ds->tz);
}

static char delimiter_of(const char *text)
{
    if (!strcmp(text, "\\t") || !strcmp(text, "tab")) return '\t';
    return text[0] ? text[0] : ',';
}

static strata_status load_common(strata_ctx *ctx, st_dataset *ds, st_input_kind kind,
                                 const char *path, const char *data, size_t len)
{
    strata_status st = ensure_tz(ctx, ds);
    if (st != STRATA_OK) return st;
    const st_config *cfg = ctx->config;
    st_load ld;
    memset(&ld, 0, sizeof ld);
    ld.ctx = ctx;
    ld.ds = ds;
    ld.spec = spec_of(kind);
    ld.path = path;
    const char *fmt = st_cfg_str(cfg, ld.spec->format_key);
    ld.format = !strcmp(fmt, "csv")     ? ST_FMT_CSV
                : !strcmp(fmt, "jsonl") ? ST_FMT_JSONL
                                        : st_format_of_path(path);
    ld.ts_format = st_ts_format_from_name(st_cfg_str(cfg, ld.spec->ts_format_key));
    ld.normalize_ids = st_cfg_bool(cfg, ST_CFG_IDS_NORMALIZE_NUMERIC);
    ld.cancel_prefix = st_sv_cstr(st_cfg_str(cfg, ST_CFG_ORDERS_CANCEL_PREFIX));
    ld.hash_identifiers = st_cfg_bool(cfg, ST_CFG_IDENT_HASH);
    ld.salt = st_cfg_str(cfg, ST_CFG_IDENT_SALT);
    for (const char *p = st_cfg_str(cfg, ST_CFG_ORDERS_REFUND_STATUS);
         *p && ld.nrefund_status < 32;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        st_sv item = st_sv_trim(st_sv_make(p, n));
        if (item.len) ld.refund_status[ld.nrefund_status++] = item;
        ld.refund_lengths |= UINT64_C(1) << ST_MIN(item.len, (size_t)63);
        p += n + (comma ? 1 : 0);
    }
    for (int i = 0; i < ST_MAX_CANON; i++)
        ld.col[i] = -1;

    const char *keys[ST_MAX_CANON];
    for (int i = 0; i < ld.spec->nfields; i++)
        keys[i] = st_cfg_str(cfg, ld.spec->fields[i].column);
    st_reader_opts ro = {.format = ld.format,
                         .delimiter = delimiter_of(st_cfg_str(cfg, ld.spec->delimiter_key)),
                         .threads = st_threads(ctx),
                         .jsonl_keys = keys,
                         .jsonl_nkeys = (size_t)ld.spec->nfields};
    ld.nworkers = ST_MIN(ro.threads, 64u);
    if (ld.spec->table) {
        st_vmrows *t = ld.spec->table(ds);
        if (t->base)
            return st_error(ctx, STRATA_EINVAL, "%s: only one %s input per run", path,
                            st_input_name(kind));
        size_t max_rows = max_rows_of(path, data, len);
        if (st_vmrows_init(t, ld.spec->rec_size, max_rows) != STRATA_OK)
            return st_error(ctx, STRATA_ENOMEM, "%s: cannot reserve address space for %zu rows",
                            path, max_rows);
        ld.table = t;
        ld.range_owner = st_calloc(max_rows / ST_LOAD_CLAIM_ROWS + 1, 1);
        if (!ld.range_owner) return STRATA_ENOMEM;
        if (kind == ST_IN_ORDERS)
            ds->orders.rows = (st_order_row *)(void *)t->base;
        else
            ds->events.rows = (st_event_row *)(void *)t->base;
    }
    ro.threads = ld.nworkers;
    ld.workers = st_calloc(ld.nworkers, sizeof *ld.workers);
    if (!ld.workers) return STRATA_ENOMEM;
    for (unsigned i = 0; i < ld.nworkers; i++)
        worker_init(&ld.workers[i], &ld, i);

    st_reader_stats stats;
    memset(&stats, 0, sizeof stats);
    char stage[64];
    snprintf(stage, sizeof stage, "reading %s", st_input_name(kind));
    if (data)
        st = st_reader_run_buffer(ctx, path, data, len, &ro, on_header, on_block, &ld, &stats);
    else
        st = st_reader_run(ctx, path, stage, &ro, on_header, on_block, &ld, &stats);
    if (st == STRATA_ENOMEM) st = st_error(ctx, st, "%s: out of memory while loading", path);
    if (st == STRATA_ELIMIT)
        st = st_error(ctx, st, "%s: more rows than the reserved row table holds", path);
    if (st == STRATA_OK) {
        st_quality *q = &ds->quality[kind];
        q->present = true;
        q->path = path;
        q->bytes += stats.bytes;
        q->file_bytes += stats.file_bytes;
        memcpy(q->checksum, stats.checksum, sizeof q->checksum);
        st = merge_workers(&ld);
        if (st == STRATA_ENOMEM) st = st_error(ctx, st, "%s: out of memory while merging", path);
    }
    for (unsigned i = 0; i < ld.nworkers; i++)
        worker_clear(&ld.workers[i]);
    st_free(ld.workers);
    st_free(ld.range_owner);
    return st;
}

strata_status st_dataset_load(strata_ctx *ctx, st_dataset *ds, st_input_kind kind, const char *path)
{
    return load_common(ctx, ds, kind, path, NULL, 0);
}

strata_status st_dataset_load_buffer(strata_ctx *ctx, st_dataset *ds, st_input_kind kind,
                                     const char *name, const char *data, size_t len)
{
    return load_common(ctx, ds, kind, name, data, len);
}
