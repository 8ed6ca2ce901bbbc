/*
 * save.c — saving a job into the SQLite store: the run, its inputs, the stable person index,
 * every id of every person, and the snapshot of this as-of date (replacing an earlier one),
 * all in one transaction so a crash leaves the previous state.
 */
#include "job/job.h"
#include "models/labels.h"
#include "store/store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>

typedef struct saver {
    strata_ctx *ctx;
    sqlite3 *db;
    const char *path;
} saver;

static strata_status db_fail(saver *s)
{
    return st_error(s->ctx, STRATA_EDB, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

static strata_status prepare(saver *s, const char *sql, sqlite3_stmt **q)
{
    return sqlite3_prepare_v2(s->db, sql, -1, q, NULL) == SQLITE_OK ? STRATA_OK : db_fail(s);
}

static strata_status step_done(saver *s, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_DONE ? STRATA_OK : db_fail(s);
}

static strata_status save_run(saver *s, strata_job *job, const char *as_of, int64_t *run_id)
{
    const cJSON *summary = st_job_summary(job);
    cJSON *quality = st_job_quality(job);
    char *stext = summary ? cJSON_PrintUnformatted(summary) : NULL;
    char *qtext = quality ? cJSON_PrintUnformatted(quality) : NULL;
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(summary, "counts");
    sqlite3_stmt *q = NULL;
    strata_status st = (!stext || !qtext) ? STRATA_ENOMEM : STRATA_OK;
    if (st == STRATA_OK)
        st = prepare(s, "INSERT INTO runs(as_of, started_at, finished_at, strata_version, persons,"
                        " buyers, orders, revenue, summary, quality) VALUES(?,datetime(?, 'unixepoch'),"
                        " datetime('now'),?,?,?,?,?,?,?)", &q);
    if (st == STRATA_OK) {
        sqlite3_bind_text(q, 1, as_of, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (int64_t)job->started_at);
        sqlite3_bind_text(q, 3, STRATA_VERSION, -1, SQLITE_STATIC);
        static const char *const names[] = {"persons", "buyers", "orders", "revenue"};
        for (int i = 0; i < 4; i++)
            sqlite3_bind_double(q, 4 + i, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(counts, names[i])));
        sqlite3_bind_text(q, 8, stext, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 9, qtext, -1, SQLITE_STATIC);
        st = step_done(s, q);
        *run_id = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_finalize(q);
    q = NULL;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(summary, "inputs");
    if (st == STRATA_OK) st = prepare(s, "INSERT INTO run_inputs VALUES(?,?,?,?,?,?)", &q);
    const cJSON *in;
    cJSON_ArrayForEach(in, inputs)
    {
        if (st != STRATA_OK) break;
        sqlite3_bind_int64(q, 1, *run_id);
        sqlite3_bind_text(q, 2, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "kind")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "path")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "bytes")));
        sqlite3_bind_text(q, 5, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "xxh128")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 6, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "rows")));
        st = step_done(s, q);
    }
    sqlite3_finalize(q);
    cJSON_free(stext);
    cJSON_free(qtext);
    cJSON_Delete(quality);
    return st;
}

/* Stored index of every person: by canonical id, else by any of its ids, else a new one. */
static strata_status map_persons(saver *s, const strata_job *job, int64_t run_id, int64_t *idx)
{
    const st_identity *id = &job->identity;
    const st_intern *keys = &job->ds.keys;
    size_t np = id->npersons;
    for (size_t p = 0; p < np; p++) idx[p] = -1;
    sqlite3_stmt *by_user = NULL, *by_id = NULL, *next = NULL, *add = NULL, *link = NULL;
    strata_status st = prepare(s, "SELECT person_idx FROM persons WHERE user_id = ?", &by_user);
    if (st == STRATA_OK) st = prepare(s, "SELECT person_idx FROM person_ids WHERE id = ?", &by_id);
    if (st == STRATA_OK) st = prepare(s, "SELECT COALESCE(MAX(person_idx) + 1, 0) FROM persons", &next);
    if (st == STRATA_OK) st = prepare(s, "INSERT INTO persons VALUES(?,?,?)", &add);
    if (st == STRATA_OK) st = prepare(s, "INSERT OR REPLACE INTO person_ids VALUES(?,?)", &link);
    int64_t fresh = 0;
    if (st == STRATA_OK && sqlite3_step(next) == SQLITE_ROW) fresh = sqlite3_column_int64(next, 0);
    for (size_t p = 0; p < np && st == STRATA_OK; p++) {
        st_sv u = st_intern_str(keys, id->canonical_key[p]);
        sqlite3_bind_text(by_user, 1, u.ptr, (int)u.len, SQLITE_STATIC);
        if (sqlite3_step(by_user) == SQLITE_ROW) idx[p] = sqlite3_column_int64(by_user, 0);
        sqlite3_reset(by_user);
    }
    /* persons not found by canonical id: any of their ids decides (identities may have grown) */
    for (size_t k = 0; k < id->nkeys && st == STRATA_OK; k++) {
        uint32_t p = id->person_of_key[k];
        if (p == ST_NO_PERSON || idx[p] >= 0) continue;
        st_sv v = st_intern_str(keys, (uint32_t)k);
        sqlite3_bind_text(by_id, 1, v.ptr, (int)v.len, SQLITE_STATIC);
        if (sqlite3_step(by_id) == SQLITE_ROW) idx[p] = sqlite3_column_int64(by_id, 0);
        sqlite3_reset(by_id);
    }
    for (size_t p = 0; p < np && st == STRATA_OK; p++) {
        if (idx[p] >= 0) continue;
        idx[p] = fresh++;
        st_sv u = st_intern_str(keys, id->canonical_key[p]);
        sqlite3_bind_int64(add, 1, idx[p]);
        sqlite3_bind_text(add, 2, u.ptr, (int)u.len, SQLITE_STATIC);
        sqlite3_bind_int64(add, 3, run_id);
        st = step_done(s, add);
    }
    for (size_t k = 0; k < id->nkeys && st == STRATA_OK; k++) {
        uint32_t p = id->person_of_key[k];
        if (p == ST_NO_PERSON) continue;
        st_sv v = st_intern_str(keys, (uint32_t)k);
        sqlite3_bind_text(link, 1, v.ptr, (int)v.len, SQLITE_STATIC);
        sqlite3_bind_int64(link, 2, idx[p]);
        st = step_done(s, link);
    }
    sqlite3_finalize(by_user);
    sqlite3_finalize(by_id);
    sqlite3_finalize(next);
    sqlite3_finalize(add);
    sqlite3_finalize(link);
    return st;
}

static void bind_value(sqlite3_stmt *q, int i, const st_value *v)
{
    char day[11];
    switch (v->type) {
    case ST_V_NULL: sqlite3_bind_null(q, i); break;
    case ST_V_INT: sqlite3_bind_int64(q, i, v->i); break;
    case ST_V_REAL: sqlite3_bind_double(q, i, v->d); break;
    case ST_V_MONEY: sqlite3_bind_double(q, i, (double)v->i / 1e6); break;
    case ST_V_DATE:
        strata_day_format((int32_t)v->i, day);
        sqlite3_bind_text(q, i, day, 10, SQLITE_TRANSIENT);
        break;
    case ST_V_TEXT:
    case ST_V_LABEL: sqlite3_bind_text(q, i, v->s.ptr, (int)v->s.len, SQLITE_STATIC); break;
    }
}

static strata_status save_profiles(saver *s, const strata_job *job, const char *as_of, const int64_t *idx)
{
    st_buf sql;
    st_buf_init(&sql, 0);
    size_t ncol = st_profile_column_count();
    st_buf_puts(&sql, "INSERT INTO profiles VALUES(?,?");
    for (size_t c = 0; c < ncol; c++) st_buf_puts(&sql, ",?");
    st_buf_puts(&sql, ")");
    sqlite3_stmt *q = NULL;
    strata_status st = sql.data ? prepare(s, sql.data, &q) : STRATA_ENOMEM;
    st_buf_clear(&sql);
    st_profile_view view = st_job_view(job);
    size_t n = job->profiles.n;
    for (size_t p = 0; p < n && st == STRATA_OK; p++) {
        sqlite3_bind_text(q, 1, as_of, 10, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, idx[p]);
        for (size_t c = 0; c < ncol; c++) {
            st_value v;
            st_profile_column_value(&view, p, c, &v);
            bind_value(q, (int)c + 3, &v);
        }
        st = step_done(s, q);
        if ((p & 0xffff) == 0) st_progress(s->ctx, "saving profiles", p, n);
    }
    st_progress(s->ctx, "saving profiles", n, n);
    sqlite3_finalize(q);
    return st;
}

static strata_status save_groups(saver *s, strata_job *job, const char *as_of)
{
    const cJSON *summary = st_job_summary(job);
    if (!summary) return STRATA_ENOMEM;
    sqlite3_stmt *q = NULL;
    strata_status st = prepare(s, "INSERT INTO snapshot_groups VALUES(?,?,?,?,?,?,?)", &q);
    static const char *const kinds[][2] = {{"tiers", "tier"}, {"segments", "segment"}, {"class8", "class"}};
    for (size_t k = 0; k < 3 && st == STRATA_OK; k++) {
        const cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(summary, kinds[k][0]))
        {
            if (st != STRATA_OK) break;
            sqlite3_bind_text(q, 1, as_of, 10, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, kinds[k][1], -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 3, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, kinds[k][1])), -1, SQLITE_TRANSIENT);
            static const char *const cols[] = {"persons", "person_share", "revenue", "revenue_share"};
            for (int c = 0; c < 4; c++)
                sqlite3_bind_double(q, 4 + c, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, cols[c])));
            st = step_done(s, q);
        }
    }
    sqlite3_finalize(q);
    return st;
}

strata_status strata_job_store(strata_job *job, const char *db_path)
{
    if (!job->ran) return st_error(job->ctx, STRATA_EINVAL, "the job has not run");
    saver s = {job->ctx, NULL, db_path};
    strata_status st = st_store_open(job->ctx, db_path, &s.db);
    if (st != STRATA_OK) return st;
    char as_of[11];
    strata_day_format(job->as_of_day, as_of);
    int64_t run_id = 0;
    int64_t *idx = st_malloc((job->identity.npersons + 1) * sizeof *idx);
    if (!idx) st = STRATA_ENOMEM;
    if (st == STRATA_OK) st = st_store_exec(job->ctx, s.db, "BEGIN IMMEDIATE");
    if (st == STRATA_OK) st = save_run(&s, job, as_of, &run_id);
    if (st == STRATA_OK) st = map_persons(&s, job, run_id, idx);
    if (st == STRATA_OK) {
        sqlite3_stmt *q = NULL;
        static const char *const wipe[] = {"DELETE FROM profiles WHERE as_of = ?",
                                           "DELETE FROM snapshot_groups WHERE as_of = ?",
                                           "DELETE FROM snapshots WHERE as_of = ?"};
        for (size_t i = 0; i < 3 && st == STRATA_OK; i++) {
            st = prepare(&s, wipe[i], &q);
            if (st == STRATA_OK) {
                sqlite3_bind_text(q, 1, as_of, 10, SQLITE_STATIC);
                st = step_done(&s, q);
            }
            sqlite3_finalize(q);
            q = NULL;
        }
    }
    if (st == STRATA_OK) st = save_profiles(&s, job, as_of, idx);
    if (st == STRATA_OK) st = save_groups(&s, job, as_of);
    if (st == STRATA_OK) {
        sqlite3_stmt *q = NULL;
        st = prepare(&s, "INSERT INTO snapshots VALUES(?,?,?,datetime('now'))", &q);
        if (st == STRATA_OK) {
            sqlite3_bind_text(q, 1, as_of, 10, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, run_id);
            sqlite3_bind_int64(q, 3, (int64_t)job->profiles.n);
            st = step_done(&s, q);
        }
        sqlite3_finalize(q);
    }
    if (st == STRATA_OK) st = st_store_exec(job->ctx, s.db, "COMMIT");
    else sqlite3_exec(s.db, "ROLLBACK", NULL, NULL, NULL);
    st_free(idx);
    st_store_close(s.db);
    return st;
}
