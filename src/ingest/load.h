/*
 * load.h — the loading framework shared by the four inputs (private to src/ingest/).
 *
 * st_dataset_load() maps the header to canonical fields, runs the reader's workers and gives
 * each record to the input's row function. A row function parses the record into a fixed-size
 * record appended to the chunk of its block, or rejects it. After the read, chunks are merged
 * into the dataset in block order, so row order equals file order whatever the scheduling,
 * and each worker's local key and dictionary ids are remapped to the dataset's.
 */
#ifndef ST_LOAD_H
#define ST_LOAD_H

#include "core/config.h"
#include "ingest/ingest.h"
#include "ingest/reader.h"

#define ST_MAX_CANON 16 /* canonical fields per input */

/* A canonical field of an input: its configuration key and whether it is required. */
typedef struct st_field_spec {
    const char *name; /* canonical name, e.g. "user_id" */
    st_cfg_key column;
    bool required;
} st_field_spec;

/* Records parsed from one block, in file order. */
typedef struct st_chunk {
    uint64_t block;
    unsigned worker;
    size_t n, cap;
    unsigned char *recs; /* n records of the input's record size */
} st_chunk;

typedef struct st_load st_load;

/* Dictionary names of up to 16 bytes seen lately, by a hash of their bytes: categories and
 * brands change from row to row, and hashing each with XXH3 then probing the dictionary
 * showed in the profile. len 0 = empty entry. */
#define ST_NAME_CACHE 64
typedef struct st_name_entry {
    uint64_t words[2]; /* st_short_words of the name */
    uint32_t len;
    uint16_t id;
} st_name_entry;

#define ST_LOAD_CLAIM_ROWS 4096 /* rows a worker claims from a shared table at a time */
#define ST_LOAD_BATCH 8 /* rows whose person-id slot is fetched before the first is parsed */

typedef struct st_key_lookup {
    st_sv raw; /* the field as read */
    st_sv id;
    uint64_t hash;
    bool normalized; /* counted as a repair when the row is kept */
} st_key_lookup;

/* Per-worker state: nothing here is shared, so workers never lock. */
typedef struct st_worker {
    st_load *load;
    unsigned index;
    st_intern keys;           /* local key ids */
    uint64_t *key_first_line; /* per local key */
    size_t key_first_cap;
    st_dict dicts[5];      /* categories, brands, regions, channels, genders (local ids) */
    st_intern identifiers; /* local identifier ids */
    st_chunk *chunks;
    size_t nchunks, cap_chunks;
    st_chunk *current;
    uint64_t reasons[ST_REASON__COUNT];
    uint64_t rows_read, rows_loaded, blank_lines, records;
    size_t range_at, range_end; /* rows claimed in the shared table, not yet written */
    bool table_full;
    st_reject *rejects;
    size_t nrejects, cap_rejects;
    st_arena text;
    st_buf tmp;         /* scratch for hashing identifiers etc. */
    st_ts_memo ts_memo; /* the date of the last timestamp */
    st_name_entry dict_cache[5][ST_NAME_CACHE];
    st_dict evtypes;    /* event type texts seen by this worker */
    uint8_t *evtype_of; /* st_event_type of each evtypes id */
    size_t evtype_cap;
    /* rows parsed ahead, their person-id lookups already prefetched (load.c on_block) */
    st_sv *batch_fields; /* ST_LOAD_BATCH × the header's field count */
    st_record batch[ST_LOAD_BATCH];
    struct st_key_lookup batch_keys[ST_LOAD_BATCH];
    const struct st_key_lookup *ready_key; /* the current row's, taken by st_load_key_begin */
    /* Workers sit side by side in one array and write their own counters on every row: a
     * cache line of padding keeps one worker's last fields and the next one's first fields
     * off a shared line (the false sharing showed as the top stall of the load). */
    char pad_[64];
} st_worker;

enum { ST_DICT_CATEGORY, ST_DICT_BRAND, ST_DICT_REGION, ST_DICT_CHANNEL, ST_DICT_GENDER };

/* What differs between inputs. */
typedef struct st_input_spec {
    st_input_kind kind;
    const st_field_spec *fields;
    int nfields;
    size_t rec_size;
    st_cfg_key format_key, delimiter_key, ts_format_key;
    /* parse one well-formed record (field count already checked); returns false on ENOMEM */
    bool (*row)(st_worker *w, const st_record *rec);
    /* Chunked inputs (users, identities): make room for `extra` more rows (once per load),
     * then write the records of one chunk at row `at`, remapping local ids to dataset ids;
     * chunks are written concurrently, each to its own rows. */
    strata_status (*reserve)(st_dataset *ds, size_t extra);
    void (*merge)(st_dataset *ds, const st_chunk *c, size_t at, const uint32_t *key_map,
                  uint16_t *const dict_map[5], const uint32_t *ident_map);
    /* Shared-table inputs (orders, events) write records straight into the dataset's row
     * table (rows/n below); remap rewrites rows [begin, end), all read by one worker, from
     * that worker's local ids (key_map, dict_map) to the dataset's. */
    st_vmrows *(*table)(st_dataset *ds);
    void (*remap)(void *rows, size_t begin, size_t end, const uint32_t *key_map,
                  uint16_t *const dict_map[5]);
    size_t key_offset;
    /* canonical fields (bit i = field i) whose fingerprint terms the row function adds itself
     * (st_fp_value/st_fp_text); st_load_fingerprint adds the other columns' */
    uint32_t fp_own;
} st_input_spec;

struct st_load {
    strata_ctx *ctx;
    st_dataset *ds;
    const st_input_spec *spec;
    const char *path;
    int col[ST_MAX_CANON]; /* header index of each canonical field, -1 = absent */
    uint32_t header_nfields;
    st_format format;
    st_ts_format ts_format;
    bool normalize_ids;
    st_worker *workers;
    unsigned nworkers;
    st_vmrows *table;     /* shared row table, or NULL for chunked inputs */
    uint8_t *range_owner; /* the worker that claimed each range of ST_LOAD_CLAIM_ROWS rows */
    int canon_of[ST_READER_MAX_FIELDS]; /* canonical field of each header column, -1 = none */
    /* the columns st_load_fingerprint mixes (all but the person id and the row function's
     * own, spec->fp_own), with their canonical field and their column's multiplier */
    uint16_t fp_col[ST_READER_MAX_FIELDS];
    int16_t fp_canon[ST_READER_MAX_FIELDS];
    uint64_t fp_col_seed[ST_READER_MAX_FIELDS];
    uint32_t fp_ncols;
    uint64_t fp_seed[ST_MAX_CANON]; /* the multiplier of each canonical field's column */
    /* input-specific settings, read once */
    st_sv cancel_prefix;
    st_sv refund_status[32];
    int nrefund_status;
    uint64_t refund_lengths; /* bit n: a refund status of length n (bit 63: 63 or longer) */
    bool hash_identifiers;
    const char *salt;
};

/* Grow every listed column of a row table to hold `need` rows exactly. */
#define ST_RESERVE_COL(table, col, need)                                                           \
    do {                                                                                           \
        void *p_ = st_realloc((table)->col, ((need) + 1) * sizeof *(table)->col);                  \
        if (!p_) return STRATA_ENOMEM;                                                             \
        (table)->col = p_;                                                                         \
    } while (0)

/* Helpers for row functions. */
bool st_load_reject(st_worker *w, const st_record *rec, uint32_t field, st_reason reason,
                    const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
void st_load_repair(st_worker *w, st_reason reason);
static inline bool st_load_has(const st_worker *w, int canon)
{
    return w->load->col[canon] >= 0;
}
/* Field value of canonical field i (trimmed), or an empty view when the column is absent.
 * Records reach row functions with the header's field count (load_row rejects the others), so
 * a column of the header is always there. Inline: a dozen calls per row. */
static inline st_sv st_load_field(const st_worker *w, const st_record *rec, int canon)
{
    int c = w->load->col[canon];
    if (c < 0) return st_sv_make("", 0);
    ST_ROW_ASSERT((uint32_t)c < rec->nfields);
    return st_sv_trim(rec->fields[c]);
}
/* Local key id of a raw user id (normalized); ST_INTERN_NONE on ENOMEM. */
uint32_t st_load_key(st_worker *w, st_sv raw, uint64_t line);

/* The same in two steps for the hot inputs: st_load_key_begin normalizes the id and prefetches
 * the table slot; st_load_key_end, called after the rest of the row is
 * parsed, does the lookup. */
void st_load_key_begin(st_worker *w, st_sv raw, st_key_lookup *k);
uint32_t st_load_key_end(st_worker *w, const st_key_lookup *k, uint64_t line);
/* Dictionary id of a name (a trimmed field, as st_load_field gives it) in the worker's
 * dictionary `which` (ST_DICT_*); ST_DICT_NONE for an empty name, UINT16_MAX when full or on
 * ENOMEM. */
uint16_t st_load_dict(st_worker *w, int which, st_sv name);
/* Room for one more record in the current chunk; NULL on ENOMEM. */
void *st_load_record(st_worker *w);
/* Parse a timestamp field; on failure rejects the row and returns false. */
bool st_load_ts(st_worker *w, const st_record *rec, int canon, bool required, int64_t *out,
                bool *present);
/* Fingerprints of records (exact duplicates): every field but the person id, parsed fields by
 * their parsed value (so "1.50" and "1.5" are equal), the others by their trimmed text. Each
 * field's term is mixed with a multiplier of its column and the terms are summed, so a row
 * function adds the terms of the fields it parses as it goes (no second pass over them) and
 * st_load_fingerprint adds the rest. Mixing: the 128-bit product of two words folded to 64
 * bits (as in wyhash and rapidhash). */
#define ST_FP_VALUE 0xa0761d6478bd642fULL
#define ST_FP_TEXT 0xe7037ed1a0b428dbULL
#define ST_FP_STEP 0x8ebc6af09c88c6e3ULL
static inline uint64_t st_fp_mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t st_fp_value_term(uint64_t seed, int64_t v)
{
    return st_fp_mum((uint64_t)v ^ ST_FP_VALUE, seed);
}
static inline uint64_t st_fp_text_term(uint64_t seed, st_sv v)
{
    if (v.len > 16) return st_fp_mum(st_hash64_seed(v.ptr, v.len, seed) ^ ST_FP_TEXT, seed);
    uint64_t w[2];
    st_short_words(v.ptr, v.len, w);
    return st_fp_mum(w[0] ^ seed, w[1] ^ ST_FP_TEXT ^ (uint64_t)v.len << 56);
}
/* The term of canonical field `canon` (its column's multiplier), by value or by text. */
static inline uint64_t st_fp_value(const st_worker *w, int canon, int64_t v)
{
    return st_fp_value_term(w->load->fp_seed[canon], v);
}
static inline uint64_t st_fp_text(const st_worker *w, int canon, st_sv v)
{
    return st_fp_text_term(w->load->fp_seed[canon], v);
}
/* The fingerprint from the row function's own terms (`own`, 0 if none), the other fields —
 * parsed[i] for canonical field i when used[i] (used may be NULL: all by text) — and the
 * hash of the normalized person id (st_key_lookup.hash). */
static inline uint64_t st_load_fingerprint(const st_worker *w, const st_record *rec, uint64_t own,
                                           const int64_t *parsed, const bool *used,
                                           uint64_t key_hash)
{
    /* rows reach the row functions with the header's field count (load_row), so the column
     * list built from the header covers them; terms are mixed one by one instead of gathered
     * into a buffer and hashed once: the gathering was two thirds of the cost. Inline: the
     * orders' call, without parsed fields, loses the per-field check of `used`. */
    const st_load *ld = w->load;
    ST_ROW_ASSERT(rec->nfields == ld->header_nfields);
    uint64_t sum = own;
    for (uint32_t i = 0; i < ld->fp_ncols; i++) {
        int canon = ld->fp_canon[i];
        sum += canon > 0 && used && used[canon]
                   ? st_fp_value_term(ld->fp_col_seed[i], parsed[canon])
                   : st_fp_text_term(ld->fp_col_seed[i], st_sv_trim(rec->fields[ld->fp_col[i]]));
    }
    return st_fp_mum(sum ^ key_hash ^ ST_FP_VALUE, ST_FP_STEP ^ rec->nfields);
}

extern const st_input_spec st_orders_spec, st_events_spec, st_users_spec, st_links_spec;

#endif /* ST_LOAD_H */
