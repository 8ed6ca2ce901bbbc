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
 * Where RFC 4180 is silent: a quote opens quoted text only as the first byte of a field (so
 * `5" screen` is an ordinary field and cannot swallow the next line); bytes after a closing
 * quote are an error; completely empty lines are skipped and counted; the header is the
 * first non-empty record, and an input without one fails with STRATA_EDATA.
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
    char delimiter;          /* CSV only; ',' when 0; '"', CR and LF are refused (EINVAL) */
    unsigned threads;        /* workers; 0 = 1 (then blocks are parsed on the calling thread) */
    size_t block_size;       /* 0 = ST_READER_DEFAULT_BLOCK */
    const char *const *jsonl_keys; /* JSONL only: keys to extract, in this order */
    size_t jsonl_nkeys;      /* at most ST_READER_MAX_FIELDS */
    size_t max_record;       /* 0 = ST_READER_MAX_RECORD; tests and fuzzers set it small */
    bool copy_blocks;        /* read through the block buffers even when the input could be
                              * cut in place (tests and fuzzers compare the two paths) */
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

/* Syntax errors a record can carry (st_record.error points at one of these texts):
 *   CSV   "unterminated quoted field"              a quote opened and the data ended
 *         "unexpected character after closing quote"  "ab"x — the field is kept raw
 *         "too many fields"                         error_field = ST_READER_MAX_FIELDS + 1
 *   JSONL "line is not a JSON object" / "malformed JSON ..."   error_field = 1
 *   both  "record longer than the maximum record size"  error_field = 1;
 *         the reader keeps only the first max_record + 1 bytes of such a record and skips
 *         the rest, so the fields of a too-long record are not meaningful. */

/* A run of whole records handed to one worker. Blocks start at a record boundary; data may
 * hold blank lines, and the last record may lack a terminator (end of input). */
typedef struct st_block {
    const char *data;
    size_t len;
    uint64_t index;      /* 0-based, in file order */
    uint64_t first_line; /* physical line number of the first byte of data */
    const st_reader_opts *opts;
} st_block;

/* Walks the records of one block. Caller-owned storage: st_cursor_init / st_cursor_clear.
 * About 12 KiB, fine on a worker's stack. Allocates only when a field needs unescaping
 * (scratch grows to the longest such record and is reused). */
typedef struct st_cursor {
    const st_block *block;
    size_t pos;
    uint64_t line;
    st_sv fields[ST_READER_MAX_FIELDS];
    /* where CSV records' fields go: `fields` after st_cursor_init, or an array of
     * ST_READER_MAX_FIELDS views of the caller's, set before a call to keep several records'
     * fields without copying them (JSON Lines always uses `fields`) */
    st_sv *out;
    st_buf scratch;      /* unescaped copies of fields with doubled quotes / JSON escapes */
    uint64_t blank_lines; /* empty lines skipped so far in this block (JSONL: also blank-only) */
    /* private to the cursor */
    size_t scratch_off[ST_READER_MAX_FIELDS]; /* where in scratch a field's unescaped text is */
    size_t win_base;     /* 64-byte window of separator positions, reused across fields */
    uint64_t win_mask;
    bool win_valid;
    size_t plain_base;   /* the plain-record path's window: [plain_base, +64), 64-aligned */
    uint64_t plain_delim, plain_lf, plain_quote; /* its delimiter, LF and quote bits */
    bool plain_valid;
} st_cursor;

/* block must outlive the cursor; block->opts may be NULL (CSV with ',' and the defaults). */
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
    unsigned char checksum[16]; /* XXH3-128 (canonical byte order) of the file as stored;
                                 * `xxhsum -H2 FILE` prints the same hex */
} st_reader_stats;

/* Read the file at path through the workers. Progress goes to st_progress(ctx, stage,
 * bytes done, file size). Errors name the file: "orders.csv: cannot open: ...".
 * stats may be NULL.
 * Failures: STRATA_ENOINPUT (cannot open, or a directory), STRATA_EIO (read error),
 * STRATA_EPARSE (corrupt or truncated gzip), STRATA_EDATA (CSV without a header record),
 * STRATA_EINVAL (bad opts), STRATA_ENOMEM, or the first non-OK status of a callback.
 * Memory: about (threads + 3) blocks of block_size, plus the longest record (at most
 * max_record + 1 bytes are kept of any record), independent of the file size. A plain
 * regular file is mapped instead of read (its blocks' pages are dropped as they are done).
 * Error text from callbacks: two workers failing at the same moment may both write ctx's
 * error text; the status returned is always the first failure's. */
strata_status st_reader_run(strata_ctx *ctx, const char *path, const char *stage,
                            const st_reader_opts *opts, st_header_fn on_header,
                            st_block_fn on_block, void *user_data, st_reader_stats *stats);

/* The same over bytes in memory (an HTTP body, a test fixture); name is used in messages. */
strata_status st_reader_run_buffer(strata_ctx *ctx, const char *name, const char *data,
                                   size_t len, const st_reader_opts *opts,
                                   st_header_fn on_header, st_block_fn on_block,
                                   void *user_data, st_reader_stats *stats);

/* The format a path implies: .jsonl, .ndjson or .json (before an optional .gz) = JSONL;
 * case-insensitive. */
st_format st_format_of_path(const char *path);

/* ---- internal to the reader (reader*.c, jsonl.c) ---- */
extern const char st_reader_err_too_long[];
/* Parse one JSONL line (without terminator) into c->fields; sets rec->fields/nfields/error. */
void st_jsonl_parse_line(st_cursor *c, const char *line, size_t len, st_record *rec);

#endif /* ST_READER_H */
