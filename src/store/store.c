/*
 * store.c — opening the SQLite store, its schema, and the profile lookup.
 */
#include "store/store.h"
#include "profile/columns.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs(run_id INTEGER PRIMARY KEY AUTOINCREMENT, as_of TEXT NOT NULL,"
    " started_at TEXT, finished_at TEXT, strata_version TEXT, persons INTEGER, buyers INTEGER,"
    " orders INTEGER, revenue REAL, summary TEXT, quality TEXT);"
    "CREATE TABLE IF NOT EXISTS run_inputs(run_id INTEGER NOT NULL, kind TEXT NOT NULL, path TEXT,"
    " bytes INTEGER, xxh128 TEXT, rows INTEGER);"
    "CREATE TABLE IF NOT EXISTS persons(person_idx INTEGER PRIMARY KEY, user_id TEXT NOT NULL UNIQUE,"
    " first_run INTEGER);"
    "CREATE TABLE IF NOT EXISTS person_ids(id TEXT PRIMARY KEY, person_idx INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS snapshots(as_of TEXT PRIMARY KEY, run_id INTEGER, persons INTEGER,"
    " created_at TEXT);"
    "CREATE TABLE IF NOT EXISTS snapshot_groups(as_of TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,"
    " persons INTEGER, person_share REAL, revenue REAL, revenue_share REAL,"
    " PRIMARY KEY(as_of, kind, key)) WITHOUT ROWID;";

strata_status st_store_exec(strata_ctx *ctx, sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        strata_status st = st_error(ctx, STRATA_EDB, "%s: %s", sqlite3_db_filename(db, "main"),
                                    err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return st;
    }
    return STRATA_OK;
}

static const char *column_sql_type(size_t col)
{
    const char *name = st_profile_column_name(col);
    static const char *const text_cols[] = {"user_id", "first_order_date", "last_order_date",
                                            "top_category", "last_active_date", "rfm_segment",
                                            "rfm_class8", "tier", "churn_risk", "lifecycle",
                                            "behavior_type", "interaction_level", "core_level"};
    for (size_t i = 0; i < ST_ARRAY_LEN(text_cols); i++)
        if (!strcmp(name, text_cols[i])) return "TEXT";
    static const char *const real_cols[] = {"monetary", "aov", "purchase_interval_days",
                                            "refund_rate", "coupon_rate", "value_score",
                                            "churn_prob", "p_alive", "exp_purchases", "exp_aov", "clv"};
    for (size_t i = 0; i < ST_ARRAY_LEN(real_cols); i++)
        if (!strcmp(name, real_cols[i])) return "REAL";
    return "INTEGER";
}

strata_status st_store_open(strata_ctx *ctx, const char *path, sqlite3 **out)
{
    *out = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        strata_status st = st_error(ctx, STRATA_EDB, "%s: cannot open store: %s", path,
                                    db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return st;
    }
    sqlite3_busy_timeout(db, 10000);
    strata_status st = st_store_exec(ctx, db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (st == STRATA_OK) st = st_store_exec(ctx, db, schema_sql);
    if (st == STRATA_OK) {
        st_buf sql;
        st_buf_init(&sql, 0);
        st_buf_puts(&sql, "CREATE TABLE IF NOT EXISTS profiles(as_of TEXT NOT NULL, person_idx INTEGER NOT NULL");
        for (size_t c = 0; c < st_profile_column_count(); c++)
            st_buf_printf(&sql, ", %s %s", st_profile_column_name(c), column_sql_type(c));
        st_buf_puts(&sql, ", PRIMARY KEY(as_of, person_idx)) WITHOUT ROWID;"
                          "CREATE INDEX IF NOT EXISTS profiles_user ON profiles(user_id);");
        st = sql.data ? st_store_exec(ctx, db, sql.data) : STRATA_ENOMEM;
        st_buf_clear(&sql);
    }
    if (st == STRATA_OK) {
        char meta[128];
        snprintf(meta, sizeof meta, "INSERT OR IGNORE INTO meta VALUES('schema_version','%d');",
                 ST_STORE_SCHEMA_VERSION);
        st = st_store_exec(ctx, db, meta);
    }
    if (st != STRATA_OK) {
        sqlite3_close(db);
        return st;
    }
    *out = db;
    return STRATA_OK;
}

void st_store_close(sqlite3 *db)
{
    sqlite3_close(db);
}

/* Person index of any of the person's ids. */
static strata_status find_person(strata_ctx *ctx, sqlite3 *db, const char *user_id, int64_t *idx)
{
    sqlite3_stmt *q = NULL;
    const char *sql = "SELECT person_idx FROM person_ids WHERE id = ?1 "
                      "UNION ALL SELECT person_idx FROM persons WHERE user_id = ?1 LIMIT 1";
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return st_error(ctx, STRATA_EDB, "store: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(q, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    strata_status st = STRATA_OK;
    if (rc == SQLITE_ROW) *idx = sqlite3_column_int64(q, 0);
    else if (rc == SQLITE_DONE) st = st_error(ctx, STRATA_ENOTFOUND, "no person with id '%s' in the store", user_id);
    else st = st_error(ctx, STRATA_EDB, "store: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return st;
}

strata_status strata_store_profile_json(strata_ctx *ctx, const char *db_path, const char *user_id,
                                        int32_t as_of_day, char **out_json)
{
    *out_json = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        strata_status st = st_error(ctx, STRATA_EDB, "%s: cannot open store: %s", db_path,
                                    db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return st;
    }
    int64_t idx = 0;
    strata_status st = find_person(ctx, db, user_id, &idx);
    sqlite3_stmt *q = NULL;
    if (st == STRATA_OK) {
        const char *sql = as_of_day == STRATA_DAY_NONE
                              ? "SELECT * FROM profiles WHERE person_idx = ?1 ORDER BY as_of DESC LIMIT 1"
                              : "SELECT * FROM profiles WHERE person_idx = ?1 AND as_of = ?2";
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
            st = st_error(ctx, STRATA_EDB, "%s: %s (was it written by strata run --db?)", db_path, sqlite3_errmsg(db));
    }
    if (st == STRATA_OK) {
        char day[11];
        strata_day_format(as_of_day, day);
        sqlite3_bind_int64(q, 1, idx);
        if (as_of_day != STRATA_DAY_NONE) sqlite3_bind_text(q, 2, day, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
            st = st_error(ctx, STRATA_ENOTFOUND, "person '%s' has no profile in %s%s%s", user_id,
                          as_of_day == STRATA_DAY_NONE ? "any snapshot" : "the snapshot of ",
                          as_of_day == STRATA_DAY_NONE ? "" : day, "");
        else if (rc != SQLITE_ROW)
            st = st_error(ctx, STRATA_EDB, "%s: %s", db_path, sqlite3_errmsg(db));
    }
    if (st == STRATA_OK) {
        cJSON *o = cJSON_CreateObject();
        for (int c = 0; o && c < sqlite3_column_count(q); c++) {
            const char *name = sqlite3_column_name(q, c);
            switch (sqlite3_column_type(q, c)) {
            case SQLITE_INTEGER: cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(q, c)); break;
            case SQLITE_FLOAT: cJSON_AddNumberToObject(o, name, sqlite3_column_double(q, c)); break;
            case SQLITE_NULL: cJSON_AddNullToObject(o, name); break;
            default: cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(q, c));
            }
        }
        char *text = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (text) {
            *out_json = st_strdup(text);
            cJSON_free(text);
        }
        if (!*out_json) st = STRATA_ENOMEM;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return st;
}
