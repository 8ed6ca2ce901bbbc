/*
 * test_reader.c — the input readers (src/ingest/reader*.c, jsonl.c): CSV grammar, JSONL
 * values, gzip, errors, memory bounds, and above all that cutting the input into blocks of
 * any size and parsing them on one or two threads gives exactly the records of a parse of
 * the whole input as one block.
 *
 * Records are compared as text: "line:field|field|...", with "!N" appended when
 * error_field = N, one record per line. Expected values are written out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>
#include <pthread.h>
#include <unistd.h>
#include <zlib.h>

#include "ingest/reader.h"

/* ---- a small growable string for the test's own bookkeeping (plain malloc) ---- */

typedef struct dstr {
    char *s;
    size_t len, cap;
} dstr;

static void dputn(dstr *d, const char *p, size_t n)
{
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->len + n + 1) * 2;
        d->s = realloc(d->s, d->cap);
        assert_non_null(d->s);
    }
    memcpy(d->s + d->len, p, n);
    d->len += n;
    d->s[d->len] = '\0';
}

static void dputs(dstr *d, const char *s)
{
    dputn(d, s, strlen(s));
}

static void dprintf_(dstr *d, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    dputn(d, tmp, (size_t)n);
}

static const char *dget(dstr *d)
{
    if (!d->s) dputn(d, "", 0);
    return d->s;
}

static void encode(dstr *d, const st_record *r)
{
    dprintf_(d, "%llu:", (unsigned long long)r->line);
    if (r->error == st_reader_err_too_long) { /* fields of a cut record are not meaningful */
        dputs(d, "TOOLONG\n");
        return;
    }
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (i) dputs(d, "|");
        assert_true(r->fields[i].ptr != NULL || r->fields[i].len == 0);
        dputn(d, r->fields[i].ptr ? r->fields[i].ptr : "", r->fields[i].len);
    }
    if (r->error_field) {
        assert_non_null(r->error);
        dprintf_(d, "!%u", r->error_field);
    }
    dputs(d, "\n");
}

/* ---- collecting what the reader hands out ---- */

typedef struct collect {
    pthread_mutex_t mu;
    dstr header;
    dstr *blocks; /* by block index */
    size_t nblocks;
    uint64_t blank_lines;
    uint64_t header_calls, block_calls;
    unsigned max_worker;
    uint64_t fail_block; /* return EIO from this block index + 1; 0 = never */
    bool header_fail;
    bool order_ok; /* every block's first_line fits the line numbers inside it */
} collect;

static void collect_init(collect *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->order_ok = true;
}

static void collect_free(collect *c)
{
    free(c->header.s);
    for (size_t i = 0; i < c->nblocks; i++) free(c->blocks[i].s);
    free(c->blocks);
    pthread_mutex_destroy(&c->mu);
}

/* All blocks' records in file order. */
static char *collect_body(collect *c)
{
    dstr all = {0};
    dget(&all);
    for (size_t i = 0; i < c->nblocks; i++)
        if (c->blocks[i].s) dputs(&all, c->blocks[i].s);
    return all.s;
}

static strata_status on_header(void *ud, const st_record *h)
{
    collect *c = ud;
    c->header_calls++;
    encode(&c->header, h);
    return c->header_fail ? STRATA_EPARSE : STRATA_OK;
}

static strata_status on_block(void *ud, unsigned worker, const st_block *b)
{
    collect *c = ud;
    dstr d = {0};
    dget(&d);
    st_cursor cur;
    st_cursor_init(&cur, b);
    st_record rec;
    uint64_t prev = 0;
    bool ok = true;
    while (st_cursor_next(&cur, &rec)) {
        if (rec.line < b->first_line || rec.line < prev) ok = false;
        prev = rec.line;
        encode(&d, &rec);
    }
    pthread_mutex_lock(&c->mu);
    if (b->index >= c->nblocks) {
        size_t n = b->index + 1;
        c->blocks = realloc(c->blocks, n * sizeof *c->blocks);
        memset(c->blocks + c->nblocks, 0, (n - c->nblocks) * sizeof *c->blocks);
        c->nblocks = n;
    }
    assert_null(c->blocks[b->index].s); /* each index once */
    c->blocks[b->index] = d;
    c->blank_lines += cur.blank_lines;
    c->block_calls++;
    if (worker > c->max_worker) c->max_worker = worker;
    if (!ok) c->order_ok = false;
    pthread_mutex_unlock(&c->mu);
    st_cursor_clear(&cur);
    if (c->fail_block && b->index + 1 == c->fail_block) return STRATA_EIO;
    return STRATA_OK;
}

/* ---- the reference: the whole input as one block ---- */

static void reference(const char *data, size_t len, const st_reader_opts *o, dstr *header,
                      dstr *body, uint64_t *blank)
{
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    st_block b = {data, len, 0, 1, o};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record rec;
    dget(header);
    dget(body);
    bool have_header = o && o->format == ST_FMT_JSONL;
    if (have_header) {
        dputs(header, "0:");
        for (size_t i = 0; i < o->jsonl_nkeys; i++) {
            if (i) dputs(header, "|");
            dputs(header, o->jsonl_keys[i]);
        }
        dputs(header, "\n");
    }
    while (st_cursor_next(&cur, &rec)) {
        if (!have_header) {
            encode(header, &rec);
            have_header = true;
            cur.blank_lines = 0; /* blank lines before the header are not in any block */
        } else {
            encode(body, &rec);
        }
    }
    *blank = cur.blank_lines;
    st_cursor_clear(&cur);
}

static strata_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    return strata_ctx_create(&ctx) == STRATA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    strata_ctx_free(ctx);
    return 0;
}

/* Run through the reader with the given options; returns the status, fills header/body. */
static strata_status run_buf(const char *data, size_t len, const st_reader_opts *o, collect *c,
                             char **body, st_reader_stats *stats)
{
    strata_status st = st_reader_run_buffer(ctx, "test.csv", data, len, o, on_header, on_block,
                                            c, stats);
    *body = collect_body(c);
    return st;
}

/* The reference parse and every block size 1..64 (plus the default) on 1 and 2 threads, cut
 * in place and through the copying buffers, must all give the same header, records and
 * blank-line count. Returns the reference body. */
static char *check_splits(const char *data, size_t len, const st_reader_opts *base)
{
    st_reader_opts o = base ? *base : (st_reader_opts){0};
    dstr rh = {0}, rb = {0};
    uint64_t rblank = 0;
    reference(data, len, &o, &rh, &rb, &rblank);
    for (unsigned run = 0; run < 4; run++) {
        unsigned threads = 1 + run % 2;
        o.copy_blocks = run >= 2;
        for (size_t bs = 1; bs <= 65; bs++) {
            o.threads = threads;
            o.block_size = bs == 65 ? 0 : bs;
            collect c;
            collect_init(&c);
            char *body;
            st_reader_stats stats;
            strata_status st = run_buf(data, len, &o, &c, &body, &stats);
            assert_int_equal(st, STRATA_OK);
            assert_string_equal(dget(&c.header), rh.s);
            if (strcmp(body, rb.s) != 0) {
                print_error("threads %u block %zu copy %d differs:\n--- split\n%s--- reference\n%s",
                            threads, bs, o.copy_blocks, body, rb.s);
                fail();
            }
            assert_int_equal(c.blank_lines, rblank);
            assert_true(c.order_ok);
            assert_int_equal(c.header_calls, 1);
            assert_int_equal(stats.blocks, c.block_calls);
            assert_true(c.max_worker < threads);
            free(body);
            collect_free(&c);
        }
    }
    free(rh.s);
    return rb.s;
}

static void expect_csv(const char *data, const st_reader_opts *o, const char *header,
                       const char *body)
{
    char *got = check_splits(data, strlen(data), o);
    assert_string_equal(got, body);
    free(got);
    collect c;
    collect_init(&c);
    char *b;
    assert_int_equal(run_buf(data, strlen(data), o, &c, &b, NULL), STRATA_OK);
    assert_string_equal(dget(&c.header), header);
    free(b);
    collect_free(&c);
}

/* ---- CSV grammar ---- */

static void test_quoted_fields(void **state)
{
    (void)state;
    expect_csv("h1,h2\n\"a,b\",\"say \"\"hi\"\"\"\nplain,\"\"\n\"\"\"\",x\n", NULL, "1:h1|h2\n",
               "2:a,b|say \"hi\"\n3:plain|\n4:\"|x\n");
}

static void test_embedded_newlines(void **state)
{
    (void)state;
    /* line numbers count physical lines, so a record after an embedded newline starts later */
    expect_csv("h,n\n\"x\ny\",1\n\"p\r\nq\",2\nz,3\n\"a\n\n\nb\",4\nlast,5\n", NULL, "1:h|n\n",
               "2:x\ny|1\n4:p\r\nq|2\n6:z|3\n7:a\n\n\nb|4\n11:last|5\n");
}

static void test_crlf_and_final_line(void **state)
{
    (void)state;
    expect_csv("a,b\r\n1,2\r\n3,\r\n\"q\"\r\n", NULL, "1:a|b\n", "2:1|2\n3:3|\n4:q\n");
    expect_csv("a\n1\n2", NULL, "1:a\n", "2:1\n3:2\n");
    expect_csv("a\n1\n\"2\"", NULL, "1:a\n", "2:1\n3:2\n");
    expect_csv("a\n1\r\n2\r", NULL, "1:a\n", "2:1\n3:2\n");
    /* raw excludes the terminator, CR included */
    const char *in = "a,b\r\n1,\"2\"\r\n";
    st_block b = {in, strlen(in), 0, 1, NULL};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record r;
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.raw.len, 3);
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.raw.len, 5);
    assert_memory_equal(r.raw.ptr, "1,\"2\"", 5);
    assert_int_equal(r.line, 2);
    assert_false(st_cursor_next(&cur, &r));
    st_cursor_clear(&cur);
}

static void test_bom_and_delimiters(void **state)
{
    (void)state;
    expect_csv("\xEF\xBB\xBFid,x\n1,2\n", NULL, "1:id|x\n", "2:1|2\n");
    st_reader_opts tab = {.delimiter = '\t'};
    expect_csv("a\tb,c\n1\t\"x\ty\"\n", &tab, "1:a|b,c\n", "2:1|x\ty\n");
    st_reader_opts semi = {.delimiter = ';'};
    expect_csv("a;b\n1,5;\"2;3\"\n;\n", &semi, "1:a|b\n", "2:1,5|2;3\n3:|\n");
}

static void test_empty_fields_and_blank_lines(void **state)
{
    (void)state;
    expect_csv("a,b,c\n,,\n\"\",,\"\"\n", NULL, "1:a|b|c\n", "2:||\n3:||\n");
    expect_csv("\n\r\na\n\n1\n\r\n\n2\n\n", NULL, "3:a\n", "5:1\n8:2\n");
    collect c;
    collect_init(&c);
    char *body;
    const char *in = "a\n\n1\n\r\n\n2\n";
    assert_int_equal(run_buf(in, strlen(in), NULL, &c, &body, NULL), STRATA_OK);
    assert_int_equal(c.blank_lines, 3);
    free(body);
    collect_free(&c);
}

static void test_mid_field_quote_is_literal(void **state)
{
    (void)state;
    /* a quote inside an unquoted field must not swallow the newline that follows */
    expect_csv("a,b\n5\" screen,x\ny,z\nab\"\"c,\"d\"\n", NULL, "1:a|b\n",
               "2:5\" screen|x\n3:y|z\n4:ab\"\"c|d\n");
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    expect_csv("a,b\n1,2\n1,\"abc\n2,3\n", NULL, "1:a|b\n", "2:1|2\n3:1|abc\n2,3\n!2\n");
    const char *in = "a\n\"x";
    st_block b = {in + 2, 2, 0, 2, NULL};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record r;
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.error_field, 1);
    assert_string_equal(r.error, "unterminated quoted field");
    st_cursor_clear(&cur);
}

static void test_junk_after_quote(void **state)
{
    (void)state;
    expect_csv("a,b\n\"ab\"x,c\nk,\"v\"\"w\"y\"\nn,m\n", NULL, "1:a|b\n",
               "2:\"ab\"x|c!1\n3:k|\"v\"\"w\"y\"!2\n4:n|m\n");
}

static void test_too_many_fields(void **state)
{
    (void)state;
    dstr in = {0};
    dputs(&in, "h\n");
    for (int i = 0; i < 600; i++) dputs(&in, i ? ",x" : "x");
    dputs(&in, "\nok\n");
    st_block b = {in.s, in.len, 0, 1, NULL};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record r;
    assert_true(st_cursor_next(&cur, &r));
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.nfields, ST_READER_MAX_FIELDS);
    assert_int_equal(r.error_field, ST_READER_MAX_FIELDS + 1);
    assert_string_equal(r.error, "too many fields");
    assert_int_equal(r.line, 2);
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.line, 3);
    assert_int_equal(r.error_field, 0);
    assert_false(st_cursor_next(&cur, &r));
    st_cursor_clear(&cur);
    free(check_splits(in.s, in.len, NULL));
    free(in.s);
}

static void test_long_record(void **state)
{
    (void)state;
    st_reader_opts o = {.max_record = 20};
    /* a too-long plain record, a too-long record whose quote never closes within the limit
     * but does close later, and a final unterminated one: each is one error record and the
     * records after them keep their exact line numbers */
    const char *in = "h\nshort\n0123456789012345678901234567890123456789\nafter,1\n"
                     "\"aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\",dd\nnext\n12345678901234567890\n"
                     "\"open\n\n\n1234567890123456789";
    char *body = check_splits(in, strlen(in), &o);
    assert_string_equal(body, "2:short\n3:TOOLONG\n4:after|1\n5:TOOLONG\n8:next\n"
                              "9:12345678901234567890\n10:TOOLONG\n");
    free(body);
    /* the reader never holds the whole record: peak memory stays near the limit */
    dstr big = {0};
    dputs(&big, "h\n\"");
    for (int i = 0; i < 20000; i++) dputs(&big, "xxxxxxxxx\n");
    dputs(&big, "\",1\nz\n");
    st_reader_opts small = {.max_record = 1000, .block_size = 4096, .threads = 2};
    collect c;
    collect_init(&c);
    assert_int_equal(run_buf(big.s, big.len, &small, &c, &body, NULL), STRATA_OK);
    assert_string_equal(body, "2:TOOLONG\n20003:z\n");
    free(body);
    collect_free(&c);
    free(big.s);
}

/* ---- JSON Lines ---- */

static void test_jsonl(void **state)
{
    (void)state;
    static const char *const keys[] = {"id", "amt", "note", "tags"};
    st_reader_opts o = {.format = ST_FMT_JSONL, .jsonl_keys = keys, .jsonl_nkeys = 4};
    const char *in =
        "{\"id\":\"u1\",\"amt\":12.50,\"note\":\"caf\\u00e9 \\\"x\\\"\\n\",\"tags\":[1,{\"a\":null}]}\n"
        "\n"
        "  \t \n"
        "{\"amt\": -1e3 , \"id\" : \"u\\ud83d\\ude00\", \"extra\": {\"deep\": [true]}}\r\n"
        "{\"id\":null,\"amt\":true,\"note\":false,\"tags\":{}}\n"
        "[1,2]\n"
        "{\"id\":\"a\",}\n"
        "{\"id\":\"x\"} junk\n"
        "{\"id\":\"first\",\"id\":\"last\",\"\\u0069d\":\"escaped key\"}\n"
        "{\"note\":\"lone \\udc00 surrogate\",\"amt\":01}\n"
        "{\"id\":\"tab\tinside\"}\n"
        "{}";
    char *body = check_splits(in, strlen(in), &o);
    assert_string_equal(body,
                        "1:u1|12.50|caf\xC3\xA9 \"x\"\n|[1,{\"a\":null}]\n"
                        "4:u\xF0\x9F\x98\x80|-1e3||\n"
                        "5:|true|false|{}\n"
                        "6:|||!1\n"
                        "7:a|||!1\n"
                        "8:x|||!1\n"
                        "9:escaped key|||\n"
                        "10:|0|lone \xEF\xBF\xBD surrogate|!1\n" /* fields read before the error stay */
                        "11:|||!1\n"
                        "12:|||\n");
    free(body);
    collect c;
    collect_init(&c);
    assert_int_equal(run_buf(in, strlen(in), &o, &c, &body, NULL), STRATA_OK);
    assert_string_equal(dget(&c.header), "0:id|amt|note|tags\n");
    assert_int_equal(c.blank_lines, 2);
    free(body);
    collect_free(&c);
    /* the error text says what is wrong */
    const char *bad = "[1]";
    st_block b = {bad, 3, 0, 1, &o};
    st_cursor cur;
    st_cursor_init(&cur, &b);
    st_record r;
    assert_true(st_cursor_next(&cur, &r));
    assert_string_equal(r.error, "line is not a JSON object");
    st_cursor_clear(&cur);
    /* nesting is bounded */
    dstr deep = {0};
    dputs(&deep, "{\"tags\":");
    for (int i = 0; i < 100; i++) dputs(&deep, "[");
    for (int i = 0; i < 100; i++) dputs(&deep, "]");
    dputs(&deep, "}");
    st_block db = {deep.s, deep.len, 0, 1, &o};
    st_cursor_init(&cur, &db);
    assert_true(st_cursor_next(&cur, &r));
    assert_int_equal(r.error_field, 1);
    assert_string_equal(r.error, "JSON nested too deeply");
    st_cursor_clear(&cur);
    free(deep.s);
}

/* ---- block boundaries on generated inputs ---- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static void gen_csv(dstr *d, int rows, char delim)
{
    static const char *const pieces[] = {"abc", "", "12.50", "\"q,uo\"", "\"x\"\"y\"",
                                         "\"multi\nline\"", "\"crlf\r\ninside\"", "5\"x",
                                         "\"a\"b", "\"\"", "\"\"\"\"", "\"", "\r", "zz\"\"\""};
    dputs(d, "c1,c2,c3\n");
    for (int r = 0; r < rows; r++) {
        int nf = 1 + (int)rnd(4);
        for (int f = 0; f < nf; f++) {
            if (f) dputn(d, &delim, 1);
            dputs(d, pieces[rnd(ST_ARRAY_LEN(pieces))]);
        }
        uint32_t end = rnd(10);
        dputs(d, end < 6 ? "\n" : end < 8 ? "\r\n" : end < 9 ? "\n\n" : "\r\n\r\n");
    }
}

static void test_block_boundaries(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        "a,b\n\"x\"\"\ny\",\"\"\"\"\n1,2\n",
        "a\n\"\"\n\"\"\"\"\n\"\n\"\n",
        "h\n\"a\"\"",
        "h\n\"a\"\"\"",
        "h\n,\"x\n\n\",\n,\n",
        "h\r\n\r\n\"\r\n\"\r\n\r",
        "h\n\"unterminated\n\nmany\nlines,\"\"\n",
        "\xEF\xBB\xBF\n\nh\n1",
    };
    for (size_t i = 0; i < ST_ARRAY_LEN(fixed); i++)
        free(check_splits(fixed[i], strlen(fixed[i]), NULL));
    for (uint64_t seed = 1; seed <= 6; seed++) {
        rng_state = seed;
        dstr d = {0};
        gen_csv(&d, 60, seed % 2 ? ',' : ';');
        st_reader_opts o = {.delimiter = seed % 2 ? ',' : ';'};
        free(check_splits(d.s, d.len, &o));
        o.max_record = 12; /* also exercise cutting too-long records at every position */
        free(check_splits(d.s, d.len, &o));
        free(d.s);
    }
}

/* Records without quotes are read from the separator bits of 64-byte windows: checked against
 * a plain split on LF and the delimiter over random text — fields from empty to several
 * windows long, CR inside fields and before LF, blank lines, a last record with no LF, and
 * records past the field limit (those go to the general loop, which flags them). */
static void test_plain_records(void **state)
{
    (void)state;
    static const char delims[] = {',', ';', '\t'};
    for (uint64_t seed = 1; seed <= 24; seed++) {
        rng_state = seed * 7919;
        char delim = delims[seed % 3];
        dstr d = {0};
        dget(&d);
        int nrec = 20 + (int)rnd(40);
        for (int r = 0; r < nrec; r++) {
            if (rnd(8) == 0) dputs(&d, rnd(2) ? "\n" : "\r\n"); /* a blank line */
            int nf = rnd(16) == 0 ? 500 + (int)rnd(30) : 1 + (int)rnd(20);
            for (int f = 0; f < nf; f++) {
                if (f) dputn(&d, &delim, 1);
                int flen = rnd(6) == 0 ? 60 + (int)rnd(150) : (int)rnd(12);
                for (int i = 0; i < flen; i++)
                    dputn(&d, &"ab c\r.9"[rnd(7)], 1);
            }
            if (r + 1 < nrec || seed % 2) dputs(&d, rnd(3) ? "\n" : "\r\n");
        }
        st_reader_opts o = {.delimiter = delim};
        st_block b = {d.s, d.len, 0, 1, &o};
        st_cursor cur;
        st_cursor_init(&cur, &b);
        st_record rec;
        /* the reference: lines, blank ones skipped, one CR before the end dropped, split */
        uint64_t line = 1;
        size_t at = 0, records = 0;
        while (at < d.len) {
            const char *lf = memchr(d.s + at, '\n', d.len - at);
            size_t end = lf ? (size_t)(lf - d.s) : d.len, n = end - at;
            bool blank = n == 0 || (n == 1 && d.s[at] == '\r');
            if (!blank) {
                assert_true(st_cursor_next(&cur, &rec));
                records++;
                assert_int_equal(rec.line, line);
                if (d.s[end - 1] == '\r') n--;
                uint32_t fields = 1;
                for (size_t i = 0; i < n; i++)
                    fields += d.s[at + i] == delim;
                if (fields > ST_READER_MAX_FIELDS) {
                    assert_int_equal(rec.error_field, ST_READER_MAX_FIELDS + 1);
                    assert_int_equal(rec.nfields, ST_READER_MAX_FIELDS);
                } else {
                    assert_int_equal(rec.error_field, 0);
                    assert_int_equal(rec.nfields, fields);
                }
                size_t fs = at;
                for (uint32_t f = 0; f < rec.nfields; f++) {
                    const char *sep = memchr(d.s + fs, delim, at + n - fs);
                    size_t fe = sep ? (size_t)(sep - d.s) : at + n;
                    assert_int_equal(rec.fields[f].len, fe - fs);
                    assert_ptr_equal(rec.fields[f].ptr, d.s + fs);
                    fs = fe + 1;
                }
            }
            line++;
            at = end + 1;
        }
        assert_false(st_cursor_next(&cur, &rec));
        assert_true(records > 0);
        st_cursor_clear(&cur);
        free(d.s);
    }
}

/* ---- files, gzip, stats, errors ---- */

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char path[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/test_reader_XXXXXX", P_tmpdir);
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* gzip-compress with zlib into d (appending: two calls make a two-member file). */
static void gzip_append(dstr *d, const char *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    char *out = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    dputn(d, out, cap - z.avail_out);
    deflateEnd(&z);
    free(out);
}

static void checksum_of(const void *data, size_t len, unsigned char out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}

static void test_gzip(void **state)
{
    (void)state;
    dstr plain = {0};
    dputs(&plain, "\xEF\xBB\xBFid,amount\n");
    for (int i = 0; i < 5000; i++) dprintf_(&plain, "u%d,\"%d.%02d\"\n", i, i, i % 100);
    size_t half = plain.len / 2 + 7; /* members split mid-record */
    dstr gz = {0};
    gzip_append(&gz, plain.s, half);
    gzip_append(&gz, plain.s + half, plain.len - half);
    const char *path = tmp_path("orders.csv.gz");
    write_file(path, gz.s, gz.len);

    char *expect;
    {
        collect c;
        collect_init(&c);
        assert_int_equal(run_buf(plain.s, plain.len, NULL, &c, &expect, NULL), STRATA_OK);
        collect_free(&c);
    }
    for (unsigned threads = 1; threads <= 2; threads++) {
        st_reader_opts o = {.threads = threads, .block_size = 1000};
        collect c;
        collect_init(&c);
        st_reader_stats stats;
        assert_int_equal(st_reader_run(ctx, path, "reading", &o, on_header, on_block, &c, &stats),
                         STRATA_OK);
        char *body = collect_body(&c);
        assert_string_equal(body, expect);
        assert_string_equal(dget(&c.header), "1:id|amount\n");
        assert_true(stats.gzip);
        assert_int_equal(stats.bytes, plain.len);
        assert_int_equal(stats.file_bytes, gz.len);
        assert_int_equal(stats.lines, 5001);
        assert_true(stats.blocks > 10);
        unsigned char sha[16];
        checksum_of(gz.s, gz.len, sha);
        assert_memory_equal(stats.checksum, sha, 16);
        free(body);
        collect_free(&c);
    }
    /* the same bytes in memory are detected as gzip too */
    {
        collect c;
        collect_init(&c);
        char *body;
        st_reader_stats stats;
        assert_int_equal(run_buf(gz.s, gz.len, NULL, &c, &body, &stats), STRATA_OK);
        assert_string_equal(body, expect);
        assert_true(stats.gzip);
        free(body);
        collect_free(&c);
    }
    /* truncated and corrupt streams are parse errors, zero padding is accepted */
    {
        collect c;
        collect_init(&c);
        char *body;
        assert_int_equal(run_buf(gz.s, gz.len - 5, NULL, &c, &body, NULL), STRATA_EPARSE);
        assert_non_null(strstr(strata_errmsg(ctx), "truncated gzip"));
        free(body);
        collect_free(&c);
        dstr bad = {0};
        dputn(&bad, gz.s, gz.len);
        bad.s[20] ^= 0x55;
        bad.s[21] ^= 0x55;
        collect_init(&c);
        assert_int_equal(run_buf(bad.s, bad.len, NULL, &c, &body, NULL), STRATA_EPARSE);
        free(body);
        collect_free(&c);
        dputn(&bad, "\0\0\0\0", 4);
        memcpy(bad.s, gz.s, gz.len);
        collect_init(&c);
        assert_int_equal(run_buf(bad.s, bad.len, NULL, &c, &body, NULL), STRATA_OK);
        assert_string_equal(body, expect);
        free(body);
        collect_free(&c);
        free(bad.s);
    }
    free(expect);
    free(plain.s);
    free(gz.s);
    unlink(path);
}

typedef struct progress_seen {
    uint64_t calls, last_done, last_total;
} progress_seen;

static void on_progress(void *ud, const char *stage, uint64_t done, uint64_t total)
{
    progress_seen *p = ud;
    assert_string_equal(stage, "reading orders");
    assert_true(done >= p->last_done);
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void test_file_stats_and_progress(void **state)
{
    (void)state;
    const char *text = "id,x\r\n1,\"a\nb\"\r\n\r\n2,c";
    const char *path = tmp_path("plain.csv");
    write_file(path, text, strlen(text));
    progress_seen seen = {0};
    strata_set_progress(ctx, on_progress, &seen);
    collect c;
    collect_init(&c);
    st_reader_stats stats;
    st_reader_opts o = {.threads = 2};
    assert_int_equal(st_reader_run(ctx, path, "reading orders", &o, on_header, on_block, &c,
                                   &stats),
                     STRATA_OK);
    strata_set_progress(ctx, NULL, NULL);
    char *body = collect_body(&c);
    assert_string_equal(body, "2:1|a\nb\n5:2|c\n");
    assert_false(stats.gzip);
    assert_int_equal(stats.bytes, strlen(text));
    assert_int_equal(stats.file_bytes, strlen(text));
    assert_int_equal(stats.lines, 5);
    assert_int_equal(stats.blocks, 1);
    unsigned char sha[16];
    checksum_of(text, strlen(text), sha);
    assert_memory_equal(stats.checksum, sha, 16);
    assert_true(seen.calls >= 1);
    assert_int_equal(seen.last_done, strlen(text));
    assert_int_equal(seen.last_total, strlen(text));
    free(body);
    collect_free(&c);
    unlink(path);
}

/* Resident KiB of this process's mappings of files whose path ends with `name`, from a walk
 * of the page tables (/proc/self/smaps; the RssFile total of /proc/self/status lags). */
static long mapped_kib(const char *name)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    long total = 0, kib;
    bool in = false;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && len > n)
            in = memcmp(line + len - n, name, n) == 0;
        else if (in && sscanf(line, "Rss: %ld", &kib) == 1)
            total += kib;
    }
    if (f) fclose(f);
    return total;
}

typedef struct rss_watch {
    pthread_mutex_t mu;
    long most;
} rss_watch;

static strata_status watch_rss(void *ud, unsigned worker, const st_block *b)
{
    (void)worker;
    rss_watch *w = ud;
    if (b->index % 4) return STRATA_OK; /* a walk of smaps is slow: every fourth block */
    long kib = mapped_kib("/mapped-big.csv");
    pthread_mutex_lock(&w->mu);
    if (kib > w->most) w->most = kib;
    pthread_mutex_unlock(&w->mu);
    return STRATA_OK;
}

/* A plain file is mapped and cut in place: the records, line numbers and stats are those of
 * the copying path at every block size (BOM, CRLF, quoted newlines, a too-long record), and
 * the pages of finished blocks are dropped, so a 48 MiB file is never mapped whole. */
static void test_mapped_file(void **state)
{
    (void)state;
    dstr d = {0};
    dputs(&d, "\xEF\xBB\xBFid,note\r\n1,\"a\nb\"\r\n\r\n");
    for (int i = 0; i < 300; i++)
        dprintf_(&d, "%d,\"x,%d\"\n", i, i * 7);
    dputs(&d, "2,");
    for (int i = 0; i < 100; i++)
        dputs(&d, "long");
    dputs(&d, "\n3,\"q\"\"q\"\n4,end");
    const char *path = tmp_path("mapped.csv");
    write_file(path, d.s, d.len);
    unsigned char sum[16];
    checksum_of(d.s, d.len, sum);
    for (size_t bs = 1; bs <= 200; bs += 13) {
        char *body[2];
        for (int copy = 0; copy < 2; copy++) {
            st_reader_opts o = {
                .threads = 2, .block_size = bs, .max_record = 300, .copy_blocks = copy};
            collect c;
            collect_init(&c);
            st_reader_stats stats;
            assert_int_equal(st_reader_run(ctx, path, NULL, &o, on_header, on_block, &c, &stats),
                             STRATA_OK);
            assert_string_equal(dget(&c.header), "1:id|note\n");
            assert_int_equal(stats.bytes, d.len);
            assert_int_equal(stats.file_bytes, d.len);
            assert_int_equal(stats.lines, 307);
            assert_int_equal(stats.blocks, c.block_calls);
            assert_memory_equal(stats.checksum, sum, 16);
            body[copy] = collect_body(&c);
            collect_free(&c);
        }
        assert_string_equal(body[0], body[1]);
        assert_non_null(strstr(body[0], "2:1|a\nb\n5:0|x,0\n"));
        assert_non_null(strstr(body[0], "305:TOOLONG\n306:3|q\"q\n307:4|end\n"));
        free(body[0]);
        free(body[1]);
    }
    free(d.s);

    dstr big = {0};
    dputs(&big, "id,x\n");
    while (big.len < (48u << 20))
        dputs(&big, "0123456789,abcdefghijklmnopqrstuvwxyz0123456789\n");
    path = tmp_path("mapped-big.csv");
    write_file(path, big.s, big.len);
    rss_watch w = {PTHREAD_MUTEX_INITIALIZER, 0};
    st_reader_opts o = {.threads = 2, .block_size = 64 << 10};
    assert_int_equal(st_reader_run(ctx, path, NULL, &o, NULL, watch_rss, &w, NULL), STRATA_OK);
    /* threads + 3 blocks in flight, within at most two of the page-cache folios (up to 2 MiB
     * each) that the kernel maps whole: 4 MiB and a page in every run seen, not the 48 */
    if (w.most >= 8192) print_error("%ld KiB of the file were mapped at once\n", w.most);
    assert_true(w.most > 0 && w.most < 8192);
    free(big.s);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    collect c;
    collect_init(&c);
    const char *missing = "/nonexistent/dir/orders.csv";
    assert_int_equal(st_reader_run(ctx, missing, "x", NULL, on_header, on_block, &c, NULL),
                     STRATA_ENOINPUT);
    assert_string_equal(strata_errmsg(ctx),
                        "/nonexistent/dir/orders.csv: cannot open: No such file or directory");
    assert_int_equal(st_reader_run(ctx, "/", "x", NULL, on_header, on_block, &c, NULL),
                     STRATA_ENOINPUT);
    assert_int_equal(c.header_calls, 0);
    /* bad options */
    st_reader_opts q = {.delimiter = '"'};
    assert_int_equal(st_reader_run_buffer(ctx, "b", "a\n", 2, &q, on_header, on_block, &c, NULL),
                     STRATA_EINVAL);
    /* empty CSV: no header */
    assert_int_equal(st_reader_run_buffer(ctx, "empty.csv", "\n\r\n", 3, NULL, on_header,
                                          on_block, &c, NULL),
                     STRATA_EDATA);
    assert_non_null(strstr(strata_errmsg(ctx), "empty.csv"));
    collect_free(&c);

    /* a failing header callback stops the read before any block */
    collect_init(&c);
    c.header_fail = true;
    char *body;
    assert_int_equal(run_buf("a\n1\n", 4, NULL, &c, &body, NULL), STRATA_EPARSE);
    assert_int_equal(c.block_calls, 0);
    free(body);
    collect_free(&c);

    /* the first failing block stops the read and its status is returned */
    dstr d = {0};
    dputs(&d, "h\n");
    for (int i = 0; i < 2000; i++) dputs(&d, "row,row\n");
    for (unsigned threads = 1; threads <= 2; threads++) {
        collect_init(&c);
        c.fail_block = 3;
        st_reader_opts o = {.threads = threads, .block_size = 64};
        assert_int_equal(run_buf(d.s, d.len, &o, &c, &body, NULL), STRATA_EIO);
        assert_true(c.block_calls < 50); /* stopped early, not after all ~250 blocks */
        free(body);
        collect_free(&c);
    }
    free(d.s);
}

static void test_format_of_path(void **state)
{
    (void)state;
    assert_int_equal(st_format_of_path("a/orders.csv"), ST_FMT_CSV);
    assert_int_equal(st_format_of_path("orders.csv.gz"), ST_FMT_CSV);
    assert_int_equal(st_format_of_path("events.jsonl"), ST_FMT_JSONL);
    assert_int_equal(st_format_of_path("events.NDJSON.GZ"), ST_FMT_JSONL);
    assert_int_equal(st_format_of_path("e.json.gz"), ST_FMT_JSONL);
    assert_int_equal(st_format_of_path("json"), ST_FMT_CSV);
    assert_int_equal(st_format_of_path("x.gz"), ST_FMT_CSV);
}

/* Memory stays bounded by the block size, not the file: ~16 MB through 64 KiB blocks on the
 * copying path (a mapped file's bound is test_mapped_file's). */
static void test_memory_bounded(void **state)
{
    (void)state;
    dstr d = {0};
    dputs(&d, "order_id,user_id,ts,amount,category,channel\n");
    for (int i = 0; i < 200000; i++)
        dprintf_(&d, "o%07d,u%06d,2024-01-%02d 10:11:12,%d.%02d,\"cat, %d\",web\n", i, i % 50000,
                 1 + i % 28, i % 997, i % 100, i % 13);
    const char *path = tmp_path("big.csv");
    write_file(path, d.s, d.len);
    size_t before = strata_memory_used();
    size_t peak_before = strata_memory_peak();
    st_reader_opts o = {.threads = 2, .block_size = 64 << 10, .copy_blocks = true};
    collect c;
    collect_init(&c);
    st_reader_stats stats;
    assert_int_equal(st_reader_run(ctx, path, "big", &o, on_header, on_block, &c, &stats),
                     STRATA_OK);
    assert_int_equal(stats.lines, 200001);
    assert_int_equal(stats.bytes, d.len);
    /* this test runs first, so the process peak so far is the reader's: 5 buffers of about
     * 64 KiB, the 256 KiB read-ahead and the header cursor */
    assert_true(peak_before - before < (1u << 20));
    assert_true(strata_memory_peak() - before < (2u << 20));
    assert_int_equal(strata_memory_used(), before);
    char *body = collect_body(&c);
    assert_true(strlen(body) > 1000000);
    /* spot-check one record against its generated values */
    assert_non_null(strstr(body, "\n101:o0000099|u000099|2024-01-16 10:11:12|99.99|cat, 8|web\n"));
    free(body);
    collect_free(&c);
    free(d.s);
    unlink(path);
}

/* Every allocation failing in turn ends in ENOMEM (or success) and leaks nothing, on both
 * reading paths. */
static void test_allocation_failures(void **state)
{
    (void)state;
    const char *in = "a,b\n\"x\"\"y\",1\n2,3\n";
    static const char *const keys[] = {"k"};
    for (int run = 0; run < 4; run++) { /* CSV, JSONL; in place, then through the buffers */
        int fmt = run % 2;
        st_reader_opts o = {.threads = 2, .block_size = 8, .copy_blocks = run >= 2};
        const char *data = in;
        if (fmt) {
            o.format = ST_FMT_JSONL;
            o.jsonl_keys = keys;
            o.jsonl_nkeys = 1;
            data = "{\"k\":\"a\\tb\"}\n{\"k\":1}\n";
        }
        bool succeeded = false, failed = false;
        for (uint64_t n = 1; n < 120; n++) {
            size_t before = strata_memory_used();
            collect c;
            collect_init(&c);
            strata_memory_fail_after(n);
            strata_status st = st_reader_run_buffer(ctx, "m", data, strlen(data), &o, on_header,
                                                    on_block, &c, NULL);
            strata_memory_fail_after(0);
            /* a failed scratch allocation inside the cursor is an error record, not a
             * failed read, so later n may succeed with fewer records */
            if (st == STRATA_OK) succeeded = true;
            else assert_int_equal(st, STRATA_ENOMEM), failed = true;
            assert_int_equal(strata_memory_used(), before);
            collect_free(&c);
        }
        assert_true(succeeded && failed);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_embedded_newlines),
        cmocka_unit_test(test_crlf_and_final_line),
        cmocka_unit_test(test_bom_and_delimiters),
        cmocka_unit_test(test_empty_fields_and_blank_lines),
        cmocka_unit_test(test_mid_field_quote_is_literal),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_junk_after_quote),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_long_record),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_block_boundaries),
        cmocka_unit_test(test_plain_records),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_file_stats_and_progress),
        cmocka_unit_test(test_mapped_file),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format_of_path),
        cmocka_unit_test(test_allocation_failures),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    if (tmpdir[0]) rmdir(tmpdir);
    return rc;
}
