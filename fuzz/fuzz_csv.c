/*
 * fuzz_csv.c — libFuzzer target for the CSV reader (and, compiled from fuzz_jsonl.c with
 * FUZZ_JSONL set, for the JSONL reader).
 *
 * The first input byte picks the options (delimiter, a block size of 1..64 bytes, sometimes a
 * tiny max_record); the rest is the file. Each input is parsed twice: by the cursor over the
 * whole input as one block (the reference), and by st_reader_run_buffer with the tiny block
 * size on two worker threads, once cut in place and once through the copying buffers. Every record
 * (line, fields, error) must come out the same, which is what makes the splitter's quote tracking
 * and the cursor's grammar agree. Gzip input (magic bytes) is compared against a one-thread,
 * default-block read instead.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/reader.h"

#ifndef FUZZ_JSONL
#define FUZZ_JSONL 0
#endif

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const void *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) abort();
    }
    if (n) memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void encode(text *t, const st_record *r)
{
    char head[64];
    int n = snprintf(head, sizeof head, "%llu:%u:", (unsigned long long)r->line, r->error_field);
    put(t, head, (size_t)n);
    if (r->error == st_reader_err_too_long) { /* a cut record's fields are not meaningful */
        put(t, "TOOLONG\n", 8);
        return;
    }
    if (r->error_field && !r->error) abort();
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (!r->fields[i].ptr && r->fields[i].len) abort();
        char len[24];
        n = snprintf(len, sizeof len, "%zu=", r->fields[i].len);
        put(t, len, (size_t)n);
        put(t, r->fields[i].ptr, r->fields[i].len);
    }
    put(t, "\n", 1);
}

typedef struct run_out {
    pthread_mutex_t mu;
    text header;
    text *blocks;
    size_t nblocks;
    uint64_t blank;
} run_out;

static strata_status on_header(void *ud, const st_record *h)
{
    encode(&((run_out *)ud)->header, h);
    return STRATA_OK;
}

static strata_status on_block(void *ud, unsigned worker, const st_block *b)
{
    (void)worker;
    run_out *o = ud;
    text t = {0};
    put(&t, "", 0);
    st_cursor cur;
    st_cursor_init(&cur, b);
    st_record rec;
    while (st_cursor_next(&cur, &rec)) encode(&t, &rec);
    pthread_mutex_lock(&o->mu);
    if (b->index >= o->nblocks) {
        size_t n = b->index + 1;
        o->blocks = realloc(o->blocks, n * sizeof *o->blocks);
        if (!o->blocks) abort();
        memset(o->blocks + o->nblocks, 0, (n - o->nblocks) * sizeof *o->blocks);
        o->nblocks = n;
    }
    if (o->blocks[b->index].s) abort(); /* the same index twice */
    o->blocks[b->index] = t;
    o->blank += cur.blank_lines;
    pthread_mutex_unlock(&o->mu);
    st_cursor_clear(&cur);
    return STRATA_OK;
}

/* Header and body through the reader; the status is returned. */
static strata_status run_reader(strata_ctx *ctx, const uint8_t *data, size_t size,
                                const st_reader_opts *opts, text *header, text *body,
                                uint64_t *blank)
{
    run_out o;
    memset(&o, 0, sizeof o);
    pthread_mutex_init(&o.mu, NULL);
    strata_status st = st_reader_run_buffer(ctx, "fuzz", (const char *)data, size, opts,
                                            on_header, on_block, &o, NULL);
    *header = o.header;
    put(header, "", 0);
    put(body, "", 0);
    for (size_t i = 0; i < o.nblocks; i++) {
        if (!o.blocks[i].s) abort(); /* a block index was skipped */
        put(body, o.blocks[i].s, o.blocks[i].len);
        free(o.blocks[i].s);
    }
    free(o.blocks);
    *blank = o.blank;
    pthread_mutex_destroy(&o.mu);
    return st;
}

/* A well-formed record without a quote is its raw text (final CR dropped) split at every
 * delimiter: an oracle for the cursor's bit-mask path that owes nothing to it. */
static void check_plain(const st_record *rec, char delim)
{
    if (rec->error_field || memchr(rec->raw.ptr, '"', rec->raw.len)) return;
    const char *p = rec->raw.ptr, *end = p + rec->raw.len;
    uint32_t f = 0;
    for (;;) {
        const char *sep = memchr(p, delim, (size_t)(end - p));
        const char *fe = sep ? sep : end;
        if (f >= rec->nfields || rec->fields[f].ptr != p || rec->fields[f].len != (size_t)(fe - p))
            abort();
        f++;
        if (!sep) break;
        p = sep + 1;
    }
    if (f != rec->nfields) abort();
}

/* The whole input as one block, header first. */
static void reference(const uint8_t *data, size_t size, const st_reader_opts *opts,
                      text *header, text *body, uint64_t *blank)
{
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        size -= 3;
    }
    st_block b = {(const char *)data, size, 0, 1, opts};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record rec;
    put(header, "", 0);
    put(body, "", 0);
    bool have_header = false;
    if (opts->format == ST_FMT_JSONL) {
        st_record h;
        memset(&h, 0, sizeof h);
        st_sv keys[ST_READER_MAX_FIELDS];
        for (size_t i = 0; i < opts->jsonl_nkeys; i++) keys[i] = st_sv_cstr(opts->jsonl_keys[i]);
        h.fields = keys;
        h.nfields = (uint32_t)opts->jsonl_nkeys;
        encode(header, &h);
        have_header = true;
    }
    while (st_cursor_next(&cur, &rec)) {
        if (rec.raw.ptr < b.data || rec.raw.ptr + rec.raw.len > b.data + b.len) abort();
        if (opts->format == ST_FMT_CSV) check_plain(&rec, opts->delimiter);
        if (!have_header) {
            encode(header, &rec);
            have_header = true;
            cur.blank_lines = 0;
        } else {
            encode(body, &rec);
        }
    }
    *blank = cur.blank_lines;
    st_cursor_clear(&cur);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"id", "amount", "ts", "tags", "a"};
    static strata_ctx *ctx;
    if (!ctx && strata_ctx_create(&ctx) != STRATA_OK) abort();
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    data++;
    size--;

    st_reader_opts opts = {.format = FUZZ_JSONL ? ST_FMT_JSONL : ST_FMT_CSV,
                           .delimiter = ",;\t|"[ctl & 3],
                           .threads = 1,
                           .block_size = 0,
                           .jsonl_keys = keys,
                           .jsonl_nkeys = ST_ARRAY_LEN(keys),
                           .max_record = (ctl & 0x80) ? 4 + (ctl >> 2 & 31) : 0};
    text rh = {0}, rb = {0}, sh = {0}, sb = {0};
    uint64_t rblank = 0, sblank = 0;
    bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    strata_status rst = STRATA_OK;
    if (gzip)
        rst = run_reader(ctx, data, size, &opts, &rh, &rb, &rblank);
    else
        reference(data, size, &opts, &rh, &rb, &rblank);

    opts.threads = 2;
    opts.block_size = 1 + (ctl >> 2 & 63);
    for (int copy = 0; copy < 2; copy++) { /* cut in place, then through the block buffers */
        opts.copy_blocks = copy;
        strata_status st = run_reader(ctx, data, size, &opts, &sh, &sb, &sblank);
        if (gzip) {
            if (st != rst) abort();
        } else if (st != STRATA_OK) {
            /* only a CSV without any record may fail (no header) */
            if (st != STRATA_EDATA || rh.len != 0 || FUZZ_JSONL) abort();
        }
        if (st == STRATA_OK &&
            (strcmp(rh.s, sh.s) != 0 || strcmp(rb.s, sb.s) != 0 || rblank != sblank)) {
            fprintf(stderr,
                    "block split differs (block size %zu, copy %d)\n--- reference\n%s%s--- "
                    "split\n%s%s",
                    opts.block_size, copy, rh.s, rb.s, sh.s, sb.s);
            abort();
        }
        free(sh.s);
        free(sb.s);
        sh = (text){0}, sb = (text){0};
        sblank = 0;
    }
    free(rh.s);
    free(rb.s);
    return 0;
}
