/*
 * store.h — the embedded SQLite store: one file holding runs (as-of, inputs with sizes and
 * checksums, counts, summary), the stable person index, every id linked to a person, and one
 * snapshot of profiles and tier/segment summaries per as-of date. Re-running an as-of
 * replaces its snapshot. Schema (docs/formats.md):
 *
 *   meta(key, value)                          schema_version = 1
 *   runs(run_id, as_of, started_at, finished_at, strata_version, persons, buyers, orders,
 *        revenue, summary JSON, quality JSON)
 *   run_inputs(run_id, kind, path, bytes, xxh128, rows)
 *   persons(person_idx, user_id, first_run)   dense, stable across runs: a person keeps its
 *                                             index; new persons are appended
 *   person_ids(id, person_idx)                every raw id of a person (identity links)
 *   snapshots(as_of, run_id, persons, created_at)
 *   profiles(as_of, person_idx, <profile columns>)   one row per person per snapshot
 *   snapshot_groups(as_of, kind, key, persons, person_share, revenue, revenue_share)
 */
#ifndef ST_STORE_H
#define ST_STORE_H

#include "core/core.h"

#define ST_STORE_SCHEMA_VERSION 1

typedef struct sqlite3 sqlite3;

/* Open (creating if needed) and migrate a store. Caller closes with st_store_close(). */
strata_status st_store_open(strata_ctx *ctx, const char *path, sqlite3 **out);
void st_store_close(sqlite3 *db);
/* Run SQL with no results; errors name the store path. */
strata_status st_store_exec(strata_ctx *ctx, sqlite3 *db, const char *sql);

#endif
