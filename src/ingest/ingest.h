/*
 * ingest.h — loading the four inputs (orders, events, users, identity links) into compact
 * columnar rows, with cleaning: every row is either loaded, repaired (and counted) or
 * rejected (counted, and written with its line and reason to the rejects file).
 *
 * Owns: st_dataset (rows of every input, the key table of raw person ids, dictionaries of
 * categories/brands/regions/channels, the data-quality counters and the reject records).
 * Sits first in the data flow: sources → ingest+clean → identity → profile → ...
 *
 * Threads: each input is read by st_reader_run workers; every worker fills its own row
 * arrays, key table and counters, merged in a fixed order afterwards so results do not
 * depend on scheduling.
 */
#ifndef ST_INGEST_H
#define ST_INGEST_H

#include "core/core.h"
#include "core/timefmt.h"

/* ---- reasons a row is rejected or repaired; (id, key, kind, message) ---- */
#define ST_REASON_MAP(X)                                                                           \
    X(CSV_SYNTAX, "csv_syntax", REJECT, "malformed CSV/JSON record")                               \
    X(FIELD_COUNT, "wrong_field_count", REJECT, "wrong number of fields")                          \
    X(MISSING_USER_ID, "missing_user_id", REJECT, "user id is empty")                              \
    X(MISSING_ORDER_ID, "missing_order_id", REJECT, "order id is empty")                           \
    X(MISSING_TS, "missing_timestamp", REJECT, "timestamp is empty")                               \
    X(BAD_TS, "bad_timestamp", REJECT, "timestamp in no accepted format")                          \
    X(MISSING_AMOUNT, "missing_amount", REJECT, "amount is empty (and no quantity x price)")       \
    X(BAD_AMOUNT, "bad_amount", REJECT, "amount is not a number")                                  \
    X(BAD_QUANTITY, "bad_quantity", REJECT, "quantity is not a number")                            \
    X(BAD_UNIT_PRICE, "bad_unit_price", REJECT, "unit price is not a number")                      \
    X(BAD_FLAG, "bad_flag", REJECT, "flag is not yes/no, true/false or 1/0")                       \
    X(BAD_NUMBER, "bad_number", REJECT, "numeric attribute is not a number")                       \
    X(MISSING_EVENT_TYPE, "missing_event_type", REJECT, "event type is empty")                     \
    X(MISSING_IDENTIFIER, "missing_identifier", REJECT, "identifier type or value is empty")       \
    X(AMOUNT_OUTLIER, "amount_outlier", REJECT, "amount above the outlier threshold")              \
    X(DUPLICATE, "duplicate", DUPLICATE, "exact duplicate of an earlier row")                      \
    X(AFTER_AS_OF, "after_as_of", EXCLUDED, "dated on or after the as-of date")                    \
    X(ID_NORMALIZED, "user_id_normalized", REPAIR, "numeric id like 17850.0 read as 17850")        \
    X(AMOUNT_ROUNDED, "amount_rounded", REPAIR, "amount had more than 6 decimals")                 \
    X(CANCEL_SIGN, "cancel_sign_fixed", REPAIR, "cancellation with a positive amount negated")     \
    X(AMOUNT_CAPPED, "amount_capped", REPAIR, "amount capped at the outlier threshold")            \
    X(EVENT_TYPE_OTHER, "event_type_other", REPAIR, "unknown event type kept as other")

typedef enum st_reason {
#define X(id, key, kind, msg) ST_REASON_##id,
    ST_REASON_MAP(X)
#undef X
        ST_REASON__COUNT
} st_reason;

typedef enum st_reason_kind {
    ST_KIND_REJECT,
    ST_KIND_DUPLICATE,
    ST_KIND_EXCLUDED,
    ST_KIND_REPAIR
} st_reason_kind;

const char *st_reason_key(st_reason r);
const char *st_reason_message(st_reason r);
st_reason_kind st_reason_kind_of(st_reason r);

typedef enum st_input_kind {
    ST_IN_ORDERS,
    ST_IN_EVENTS,
    ST_IN_USERS,
    ST_IN_IDENTITIES,
    ST_IN__COUNT
} st_input_kind;
const char *st_input_name(st_input_kind k);

/* One rejected (or excluded / duplicate) row, for the rejects file. */
typedef struct st_reject {
    uint64_t line;
    uint32_t field;     /* 1-based column, 0 = whole row */
    uint16_t reason;    /* st_reason */
    uint8_t input;      /* st_input_kind */
    const char *detail; /* arena text or NULL */
    const char *raw;    /* arena copy of the record (truncated), or NULL */
} st_reject;

/* Per-input quality counters. */
typedef struct st_quality {
    bool present;
    const char *path; /* borrowed from the caller */
    uint64_t rows_read, rows_loaded;
    uint64_t reasons[ST_REASON__COUNT];
    uint64_t blank_lines;
    uint64_t bytes, file_bytes;
    unsigned char checksum[16]; /* XXH3-128 of the stored file */
} st_quality;

/* ---- rows ---- */

/* flags of an order row */
#define ST_ORDER_REFUNDED 1u /* refunded / cancelled in full: contributes nothing */
#define ST_ORDER_COUPON 2u   /* coupon used or discount > 0 */
#define ST_ORDER_CANCEL 4u   /* cancellation (order id prefix) */

#define ST_DICT_NONE 0 /* dictionary id 0 means "no value" */

/* One order row, 40 bytes. Rows are kept whole (not as columns) because every later pass
 * reaches a person's rows through an index, and a whole row then costs one cache miss. */
typedef struct st_order_row {
    uint64_t order; /* hash of the order id text; rows of one person sharing it = one order */
    uint64_t fp;    /* fingerprint of every parsed value of the row (exact duplicates) */
    int64_t amount; /* micros; 0 for refunded rows; negative for returns */
    uint32_t key;   /* key id (st_dataset.keys) */
    uint32_t line;  /* source line (saturating) */
    /* day and flags share 4 bytes so that a row is 40 bytes, not 48: every pass over 10M rows
     * moves a sixth less. 24 bits of days reach ±22,000 years; parsed dates stay in years
     * 1000-9999 (st_ts_parse). */
    int32_t day : 24;   /* local calendar day */
    uint32_t flags : 8; /* ST_ORDER_* */
    uint16_t category;  /* st_dataset.categories id */
    uint16_t brand;     /* st_dataset.brands id */
} st_order_row;
_Static_assert(sizeof(st_order_row) == 40, "order rows are 40 bytes (see day and flags)");

/* Rows in the order workers produced them (clean.c sorts them by person); the storage is a
 * reservation that grows in place (st_vmrows). */
/* A table's rows by the byte of their person id at `shift` — the first split of the person
 * sort (clean.c) — counted by st_identity_apply while it renumbers the rows, so that the sort
 * needs no counting pass of its own. Valid when `valid` and the table still has `rows` rows. */
typedef struct st_person_counts {
    size_t count[256];
    size_t rows;
    int shift;
    bool valid;
} st_person_counts;

typedef struct st_order_rows {
    st_order_row *rows;
    size_t n;
    st_vmrows vm;
    st_person_counts by_person;
} st_order_rows;

/* event types the profile counts, then the others the product knows */
#define ST_EVENT_TYPES(X)                                                                          \
    X(VIEW, "view")                                                                                \
    X(SEARCH, "search")                                                                            \
    X(CART, "add_to_cart")                                                                         \
    X(FAVORITE, "favorite") X(LIKE, "like") X(COMMENT, "comment") X(SHARE, "share")                \
        X(LOGIN, "login") X(ACTIVITY, "activity") X(SERVICE, "service_contact")                    \
            X(PURCHASE, "purchase") X(OTHER, "other")

typedef enum st_event_type {
#define X(id, name) ST_EV_##id,
    ST_EVENT_TYPES(X)
#undef X
        ST_EV__COUNT
} st_event_type;
const char *st_event_type_name(st_event_type t);

typedef struct st_event_row {
    int64_t ts; /* local seconds */
    uint64_t fp;
    uint32_t key;
    uint32_t line;
    uint8_t type; /* st_event_type */
} st_event_row;

typedef struct st_event_rows {
    st_event_row *rows;
    size_t n;
    st_vmrows vm;
    st_person_counts by_person;
} st_event_rows;

#define ST_CONSENT_SMS 0
#define ST_CONSENT_PUSH 1
#define ST_CONSENT_EMAIL 2
#define ST_CONSENT_WECOM 3

/* Attributes of one key from the users file; later rows fill in or override fields. */
typedef struct st_user_attrs {
    int32_t signup_day;                   /* STRATA_DAY_NONE */
    int16_t birth_year;                   /* 0 = unknown */
    int8_t nps;                           /* -1 = unknown */
    uint8_t consent_known;                /* bit per channel: value given */
    uint8_t consent;                      /* bit per channel: consent granted */
    uint16_t gender, region, acq_channel; /* dictionary ids */
    int64_t cac;                          /* micros, -1 = unknown */
} st_user_attrs;

typedef struct st_user_rows {
    size_t n, cap;
    uint32_t *key;
    uint32_t *line;
    uint64_t *fp; /* fingerprint of the row, for exact duplicates */
    st_user_attrs *attrs;
} st_user_rows;

typedef struct st_link_rows {
    size_t n, cap;
    uint32_t *key;
    uint32_t *ident; /* id in st_dataset.identifiers ("type:value" or its salted hash) */
    uint32_t *line;
    uint64_t *fp;
} st_link_rows;

/* A small dictionary (≤ 65535 values) for categories, brands, regions, channels. */
typedef struct st_dict {
    st_intern names; /* id 0 is reserved for "none" (the empty string) */
} st_dict;

/* A key's first appearance (st_dataset.key_first): its input in the top byte, its line below,
 * so that comparing two orders them by input, then line. */
#define ST_FIRST_LINE_MASK ((UINT64_C(1) << 56) - 1)
static inline uint64_t st_first_make(st_input_kind kind, uint64_t line)
{
    return (uint64_t)kind << 56 | (line & ST_FIRST_LINE_MASK);
}
static inline unsigned st_first_kind(uint64_t first)
{
    return (unsigned)(first >> 56);
}

/* Everything loaded. Caller-owned storage: st_dataset_init / st_dataset_clear. */
typedef struct st_dataset {
    st_intern keys;      /* raw person ids as normalized text */
    uint64_t *key_first; /* per key: its first appearance (st_first_make) */
    size_t cap_key_first;
    st_intern identifiers; /* identity identifiers */
    st_dict categories, brands, regions, channels, genders;
    st_order_rows orders;
    st_event_rows events;
    st_user_rows users;
    st_link_rows links;
    st_quality quality[ST_IN__COUNT];
    st_reject *rejects;
    size_t nrejects, cap_rejects;
    st_arena text; /* reject details and raw copies */
    st_tz *tz;
} st_dataset;

void st_dataset_init(st_dataset *ds);
void st_dataset_clear(st_dataset *ds);

/* Load one input file of the given kind into ds using ctx's configuration (column mapping,
 * formats, time zone). Fails with STRATA_ECONFIG when a required column is missing (naming the
 * columns the file has), STRATA_ENOINPUT / STRATA_EIO for file problems. Bad rows never fail
 * the load: they are counted and recorded as rejects. */
strata_status st_dataset_load(strata_ctx *ctx, st_dataset *ds, st_input_kind kind,
                              const char *path);
/* The same from bytes in memory (tests, HTTP ingest). */
strata_status st_dataset_load_buffer(strata_ctx *ctx, st_dataset *ds, st_input_kind kind,
                                     const char *name, const char *data, size_t len);

/* Record a reject (thread-unsafe: only for single-threaded cleaning steps). */
strata_status st_dataset_add_reject(st_dataset *ds, st_input_kind input, uint64_t line,
                                    uint32_t field, st_reason reason, const char *detail);

/* Write every reject, sorted by input then line, as CSV:
 * source,line,column,reason,detail,raw. */
strata_status st_dataset_write_rejects(strata_ctx *ctx, const st_dataset *ds, const char *path);

/* ---- dictionaries ---- */
void st_dict_init(st_dict *d);
void st_dict_clear(st_dict *d);
/* Id of a name (adding it); ST_DICT_NONE for empty text; UINT16_MAX when full or on ENOMEM. */
uint16_t st_dict_put(st_dict *d, st_sv name);
st_sv st_dict_name(const st_dict *d, uint16_t id);
static inline size_t st_dict_count(const st_dict *d)
{
    return d->names.count;
}

/* ---- id normalization shared by every input ---- */
/* Trim blanks; with normalize_numeric, "17850.0" / "17850.00" become "17850" (*changed set).
 * Returns a view into the original text. */
st_sv st_normalize_id(st_sv raw, bool normalize_numeric, bool *changed);

#endif /* ST_INGEST_H */
