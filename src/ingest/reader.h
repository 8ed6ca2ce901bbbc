/*
 * reader.h — turning input files into records, fast and in parallel. The CSV path is the
 * hot path of the whole batch job.
 *
 * A file (plain, or gzip detected by its magic bytes) is read in large blocks; a splitter
 * cuts the byte stream into blocks that end on record boundaries (tracking quote state, so
 * quoted fields may hold newlines), and `threads` workers each take whole blocks and walk
 * their records with a cursor. Records are views into block memory: no allocation per row
 * or per field. Blocks carry their index and the physical line number of their first
 * record, so callers can keep results in file order and report exact line numbers.
 *
 * CSV follows RFC 4180: quoted fields, doubled quotes inside quotes, embedded CR/LF inside
 * quotes, CRLF or LF line ends, a UTF-8 BOM at the start, a chosen one-byte delimiter.
 * JSON Lines: one object per line; the caller names the keys it wants and receives their
 * values as fields in that order (strings unescaped, numbers and booleans as their text,
 * null or missing as an empty field).
 */
#ifndef ST_READER_H
#define ST_READER_H

#include "core/core.h"

typedef enum st_format { ST_FMT_CSV = 0, ST_FMT_JSONL = 1 } st_format;

#define ST_READER_MAX_FIELDS 512             /* more fields in one record is an error */
#define ST_READER_DEFAULT_BLOCK (8u << 20)   /* bytes per block handed to a worker */
#define ST_READER_MAX_RECORD (64u << 20)     /* a longer record is an error */

typedef struct st_reader_opts {
    st_format format;
    char delimiter;          /* CSV only; ',' when 0 */
    unsigned threads;        /* workers; 0 = 1 */
    size_t block_size;       /* 0 = ST_READER_DEFAULT_BLOCK */
    const char *const *jsonl_keys; /* JSONL only: keys to extract, in this order */
    size_t jsonl_nkeys;
} st_reader_opts;

/* One record. All views point into block memory or the cursor's scratch space and are valid
 * until the next st_cursor_next() on the same cursor. */
typedef struct st_record {
    uint64_t line;        /* physical line (1-based) where the record starts; header = 1 */
    uint32_t nfields;     /* CSV: fields in the record; JSONL: jsonl_nkeys */
    const st_sv *fields;  /* unescaped field values */
    st_sv raw;            /* the record's bytes, without its line terminator */
    uint32_t error_field; /* 0 = well formed; else 1-based field where the syntax broke */
    const char *error;    /* static text describing the syntax error, or NULL */
} st_record;

/* A run of whole records handed to one worker. */
typedef struct st_block {
    const char *data;
    size_t len;
    uint64_t index;      /* 0-based, in file order */
    uint64_t first_line; /* physical line number of the first byte of data */
    const st_reader_opts *opts;
} st_block;

/* Walks the records of one block. Caller-owned storage: st_cursor_init / st_cursor_clear. */
typedef struct st_cursor {
    const st_block *block;
    size_t pos;
    uint64_t line;
    st_sv fields[ST_READER_MAX_FIELDS];
    st_buf scratch;      /* unescaped copies of fields with doubled quotes / JSON escapes */
    uint64_t blank_lines; /* empty lines skipped so far in this block */
} st_cursor;

void st_cursor_init(st_cursor *c, const st_block *block);
void st_cursor_clear(st_cursor *c);
/* Next record of the block; false at the end. Malformed records are returned with
 * error_field set (and as many fields as could be read), never skipped. */
bool st_cursor_next(st_cursor *c, st_record *rec);

/* Called once, before any block, with the header record (CSV: the first record; JSONL: the
 * requested keys as fields, line 0). A non-OK return stops the read with that status. */
typedef strata_status (*st_header_fn)(void *user_data, const st_record *header);
/* Called for every block, concurrently from `threads` workers (worker = 0..threads-1), in
 * no particular order. A non-OK return stops the read; the first failure is returned. */
typedef strata_status (*st_block_fn)(void *user_data, unsigned worker, const st_block *block);

typedef struct st_reader_stats {
    uint64_t bytes;        /* uncompressed bytes read */
    uint64_t file_bytes;   /* bytes of the file on disk */
    uint64_t lines;        /* physical lines, header included */
    uint64_t blocks;
    bool gzip;
    unsigned char sha256[32]; /* of the file as stored on disk */
} st_reader_stats;

/* Read the file at path through the workers. Progress goes to st_progress(ctx, stage,
 * bytes done, file size). Errors name the file: "orders.csv: cannot open: ...".
 * stats may be NULL. */
strata_status st_reader_run(strata_ctx *ctx, const char *path, const char *stage,
                            const st_reader_opts *opts, st_header_fn on_header,
                            st_block_fn on_block, void *user_data, st_reader_stats *stats);

/* The same over bytes in memory (an HTTP body, a test fixture); name is used in messages. */
strata_status st_reader_run_buffer(strata_ctx *ctx, const char *name, const char *data,
                                   size_t len, const st_reader_opts *opts,
                                   st_header_fn on_header, st_block_fn on_block,
                                   void *user_data, st_reader_stats *stats);

/* The format a path implies: .jsonl, .ndjson or .json (before an optional .gz) = JSONL. */
st_format st_format_of_path(const char *path);

#endif /* ST_READER_H */
