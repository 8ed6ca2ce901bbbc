/*
 * reader_cursor.c — walking the records of one block: the per-field loop of the CSV reader
 * (RFC 4180) and the line loop of the JSONL reader (the object parser is in jsonl.c).
 *
 * This is the innermost loop of every batch job, so it allocates nothing per record or per
 * field: fields are views into block memory, and only fields that need unescaping (doubled
 * quotes) are copied, into the cursor's reusable scratch buffer. Separators are found with
 * 64-bit masks of delimiter/newline positions built 64 bytes at a time with SSE2 (baseline on
 * x86-64; AVX-512BW in a build for a machine that has it), which the cursor keeps across
 * fields and records. A record without a quote (the common case) is read straight from the
 * masks, one bit per field (plain_record); any other goes through the general loop.
 *
 * The grammar here and the splitter's quote tracking in reader.c must agree exactly, or
 * records would be cut differently depending on where blocks happen to end:
 *   - a quote opens a quoted field only as the first byte of a field (record start or
 *     right after a delimiter); anywhere else it is an ordinary byte;
 *   - inside quotes, "" is a literal quote and any other quote closes the field;
 *   - after a closing quote, bytes up to the next delimiter or newline are "junk" (an error)
 *     and are scanned like an unquoted field;
 *   - a record ends at the first LF outside quotes; a CR right before it is dropped.
 * The fuzz targets (fuzz/fuzz_csv.c) check this agreement on random input.
 */
#include "ingest/reader.h"

#if defined(__AVX512BW__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

const char st_reader_err_too_long[] = "record longer than the maximum record size";
static const char err_unterminated[] = "unterminated quoted field";
static const char err_junk[] = "unexpected character after closing quote";
static const char err_too_many[] = "too many fields";
static const char err_nomem[] = "out of memory unescaping a field";

static char delimiter_of(const st_reader_opts *o)
{
    return o && o->delimiter ? o->delimiter : ',';
}

static size_t max_record_of(const st_reader_opts *o)
{
    return o && o->max_record ? o->max_record : ST_READER_MAX_RECORD;
}

void st_cursor_init(st_cursor *c, const st_block *block)
{
    c->block = block;
    c->pos = 0;
    c->line = block->first_line;
    c->blank_lines = 0;
    c->win_base = 0;
    c->win_mask = 0;
    c->win_valid = false;
    c->plain_valid = false;
    c->out = c->fields;
    /* unescaped text is never longer than the record it comes from */
    st_buf_init(&c->scratch, max_record_of(block->opts) + 64);
}

void st_cursor_clear(st_cursor *c)
{
    st_buf_clear(&c->scratch);
}

/* ---- separator masks ---- */

/* Bit i set when p[i] is the delimiter or LF; p must have 64 readable bytes. */
static inline uint64_t sep_mask64(const char *p, char delim)
{
#if defined(__AVX512BW__)
    __m512i v = _mm512_loadu_si512((const void *)p);
    return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(delim)) |
           _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
#elif defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n');
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i e = _mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vn));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(e) << (16 * i);
    }
    return m;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        if (p[i] == delim || p[i] == '\n') m |= (uint64_t)1 << i;
    return m;
#endif
}

/* The mask of base[at .. at+64), never reading past len (the block may end anywhere). */
static uint64_t window_at(const char *base, size_t at, size_t len, char delim)
{
    if (len - at >= 64) return sep_mask64(base + at, delim);
    char tmp[64];
    size_t n = len - at;
    memcpy(tmp, base + at, n);
    memset(tmp + n, 0, sizeof tmp - n); /* NUL is neither LF nor a delimiter */
    return sep_mask64(tmp, delim);
}

/* Bits of base[at .. at+64) (never past len) that are the delimiter, LF and a quote. */
static void plain_masks(st_cursor *c, const char *base, size_t at, size_t len, char delim)
{
    char tmp[64];
    const char *p = base + at;
    if (len - at < 64) { /* zeros past the end: NUL is neither delimiter (never NUL), LF nor quote */
        memcpy(tmp, p, len - at);
        memset(tmp + (len - at), 0, sizeof tmp - (len - at));
        p = tmp;
    }
    uint64_t d = 0, l = 0, q = 0;
#if defined(__AVX512BW__)
    /* a build for the machine (-march=native) that has them: one compare per mask */
    __m512i v = _mm512_loadu_si512((const void *)p);
    d = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(delim));
    l = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
    q = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
#elif defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8('"');
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        d |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) << (16 * i);
        l |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn)) << (16 * i);
        q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * i);
    }
#else
    for (int i = 0; i < 64; i++) {
        d |= (uint64_t)(p[i] == delim) << i;
        l |= (uint64_t)(p[i] == '\n') << i;
        q |= (uint64_t)(p[i] == '"') << i;
    }
#endif
    c->plain_base = at, c->plain_delim = d, c->plain_lf = l, c->plain_quote = q;
    c->plain_valid = true;
}

/* A record without a quote, read from the bit masks of 64-byte windows: its fields end at the
 * delimiter bits, taken lowest first, and the record at the first LF — a few instructions a
 * field, where looking each separator up (find_sep) cost several times that. false, with
 * nothing consumed, when the record has a quote or more fields than are kept: the general
 * loop reads it. On true, *nf fields are in c->out and *end is the LF or len. */
static bool plain_record(st_cursor *c, const char *base, size_t len, char delim, size_t start,
                         uint32_t *nf_out, size_t *end_out)
{
    /* fields go out through a moving pointer bounded by the last slot, which is kept for the
     * record's last field: an index and a counter check per field cost as much as the rest */
    st_sv *o = c->out, *const last = c->out + ST_READER_MAX_FIELDS - 1;
    const char *fs = base + start; /* the current field's first byte */
    size_t end;
    for (size_t wb = start & ~(size_t)63;; wb += 64) {
        if (!c->plain_valid || c->plain_base != wb) plain_masks(c, base, wb, len, delim);
        /* bits from the field start on (a field may have begun in an earlier window) */
        size_t fs_at = (size_t)(fs - base);
        uint64_t from = fs_at > wb ? ~(uint64_t)0 << (fs_at - wb) : ~(uint64_t)0;
        uint64_t lf = c->plain_lf & from;
        uint64_t before_lf = lf ? (lf & (0 - lf)) - 1 : ~(uint64_t)0;
        if (c->plain_quote & from & before_lf) return false;
        const char *window = base + wb;
        for (uint64_t d = c->plain_delim & from & before_lf; d; d &= d - 1) {
            const char *at = window + __builtin_ctzll(d);
            if (o == last) return false;
            o->ptr = fs, o->len = (size_t)(at - fs), o++;
            fs = at + 1;
        }
        if (lf) {
            end = wb + (size_t)__builtin_ctzll(lf);
            break;
        }
        if (len - wb <= 64) {
            end = len;
            break;
        }
    }
    const char *fe = base + end;
    if (fe > fs && fe[-1] == '\r') fe--;
    o->ptr = fs, o->len = (size_t)(fe - fs), o++;
    *nf_out = (uint32_t)(o - c->out);
    *end_out = end;
    return true;
}

/* Position of the first delimiter or LF at or after `from`, or len. */
static inline size_t find_sep(st_cursor *c, const char *base, size_t len, size_t from, char delim)
{
    if (!c->win_valid || from < c->win_base || from - c->win_base >= 64) {
        c->win_base = from;
        c->win_mask = window_at(base, from, len, delim);
        c->win_valid = true;
    }
    uint64_t m = c->win_mask & (~(uint64_t)0 << (from - c->win_base));
    while (!m) {
        if (len - c->win_base <= 64) return len;
        c->win_base += 64;
        c->win_mask = window_at(base, c->win_base, len, delim);
        m = c->win_mask;
    }
    return c->win_base + (size_t)__builtin_ctzll(m);
}

static uint64_t count_lf_small(const char *p, size_t n)
{
    uint64_t lines = 0;
    const char *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

/* ---- CSV ---- */

static inline void set_error(st_record *rec, uint32_t field, const char *text)
{
    if (!rec->error_field) {
        rec->error_field = field;
        rec->error = text;
    }
}

static inline void put_field(st_cursor *c, st_record *rec, uint32_t *nf, st_sv v)
{
    if (ST_LIKELY(*nf < ST_READER_MAX_FIELDS))
        c->out[*nf] = v;
    else if (*nf == ST_READER_MAX_FIELDS)
        set_error(rec, ST_READER_MAX_FIELDS + 1, err_too_many);
    (*nf)++;
}

/* Copy the content of a quoted field into scratch with each "" turned into ". The field's
 * pointer stays NULL until the record is complete, because scratch may still move. */
static bool unescape_quotes(st_cursor *c, uint32_t nf, const char *p, size_t n)
{
    size_t off = c->scratch.len;
    size_t start_len = c->scratch.len;
    while (n) {
        const char *q = memchr(p, '"', n);
        size_t seg = q ? (size_t)(q - p) + 1 : n; /* up to and including the first of a pair */
        if (st_buf_append(&c->scratch, p, seg) != STRATA_OK) {
            c->scratch.len = start_len;
            return false;
        }
        p += seg;
        n -= seg;
        if (q && n && *p == '"') {
            p++;
            n--;
        }
    }
    c->scratch_off[nf] = off;
    c->out[nf] = st_sv_make(NULL, c->scratch.len - off);
    return true;
}

static bool csv_next(st_cursor *c, st_record *rec)
{
    const st_block *b = c->block;
    const char *base = b->data;
    const size_t len = b->len;
    const char delim = delimiter_of(b->opts);
    size_t pos = c->pos;

    for (;;) { /* skip blank lines: "\n", "\r\n", or a lone "\r" at the very end */
        if (pos >= len) {
            c->pos = len;
            return false;
        }
        if (base[pos] == '\n') {
            pos++;
            c->line++;
            c->blank_lines++;
            continue;
        }
        if (base[pos] == '\r' && (pos + 1 == len || base[pos + 1] == '\n')) {
            if (pos + 1 < len) c->line++;
            pos += pos + 1 < len ? 2 : 1;
            c->blank_lines++;
            continue;
        }
        break;
    }

    const size_t start = pos;
    rec->line = c->line;
    rec->error_field = 0;
    rec->error = NULL;
    st_buf_reset(&c->scratch);
    bool scratch_used = false;
    uint32_t nf = 0;
    size_t fs = pos; /* start of the current field */
    size_t end;      /* the LF that ends the record, or len */

    bool plain = plain_record(c, base, len, delim, start, &nf, &end);
    while (!plain) {
        if (fs >= len || base[fs] != '"') {
            /* unquoted: runs to the next delimiter or LF; quotes inside are literal */
            size_t idx = find_sep(c, base, len, fs, delim);
            if (ST_LIKELY(idx < len && base[idx] == delim)) {
                put_field(c, rec, &nf, st_sv_make(base + fs, idx - fs));
                fs = idx + 1;
                continue;
            }
            size_t fe = idx;
            if (fe > fs && base[fe - 1] == '\r') fe--;
            put_field(c, rec, &nf, st_sv_make(base + fs, fe - fs));
            end = idx;
            break;
        }

        /* quoted: find the closing quote, stepping over "" pairs */
        size_t q = fs + 1;
        bool doubled = false;
        const char *close;
        for (;;) {
            close = q < len ? memchr(base + q, '"', len - q) : NULL;
            if (!close || (size_t)(close - base) + 1 >= len || close[1] != '"') break;
            doubled = true;
            q = (size_t)(close - base) + 2;
        }
        if (!close) { /* the quote never closes: the rest of the block is this field */
            set_error(rec, nf + 1, err_unterminated);
            c->line += count_lf_small(base + fs + 1, len - fs - 1);
            put_field(c, rec, &nf, st_sv_make(base + fs + 1, len - fs - 1));
            end = len;
            break;
        }
        size_t cq = (size_t)(close - base);
        if (ST_UNLIKELY(memchr(base + fs + 1, '\n', cq - fs - 1) != NULL))
            c->line += count_lf_small(base + fs + 1, cq - fs - 1);
        size_t after = cq + 1;
        bool at_end = after == len || base[after] == '\n' ||
                      (base[after] == '\r' && (after + 1 == len || base[after + 1] == '\n'));
        if (at_end || base[after] == delim) {
            if (doubled && nf < ST_READER_MAX_FIELDS) {
                if (unescape_quotes(c, nf, base + fs + 1, cq - fs - 1)) {
                    scratch_used = true;
                    nf++;
                } else {
                    set_error(rec, nf + 1, err_nomem);
                    put_field(c, rec, &nf, st_sv_make(base + fs + 1, cq - fs - 1));
                }
            } else {
                put_field(c, rec, &nf, st_sv_make(base + fs + 1, cq - fs - 1));
            }
            if (!at_end) {
                fs = after + 1;
                continue;
            }
            end = after < len && base[after] == '\r' ? after + 1 : after;
            break;
        }
        /* junk after the closing quote: keep the field raw, up to the next separator */
        set_error(rec, nf + 1, err_junk);
        size_t idx = find_sep(c, base, len, after, delim);
        if (idx < len && base[idx] == delim) {
            put_field(c, rec, &nf, st_sv_make(base + fs, idx - fs));
            fs = idx + 1;
            continue;
        }
        size_t fe = idx;
        if (fe > after && base[fe - 1] == '\r') fe--;
        put_field(c, rec, &nf, st_sv_make(base + fs, fe - fs));
        end = idx;
        break;
    }

    size_t raw_end = end;
    if (raw_end > start && base[raw_end - 1] == '\r') raw_end--;
    rec->raw = st_sv_make(base + start, raw_end - start);
    rec->nfields = nf < ST_READER_MAX_FIELDS ? nf : ST_READER_MAX_FIELDS;
    rec->fields = c->out;
    if (ST_UNLIKELY(scratch_used)) {
        for (uint32_t i = 0; i < rec->nfields; i++)
            if (!c->out[i].ptr) c->out[i].ptr = c->scratch.data + c->scratch_off[i];
    }
    if (end < len) {
        c->line++;
        c->pos = end + 1;
    } else {
        c->pos = len;
    }
    if (ST_UNLIKELY(end - start > max_record_of(b->opts))) {
        /* the splitter keeps only max_record + 1 bytes of such a record; say so the same way
         * whether or not this block was cut (so field 1, not the field where it was cut) */
        rec->error_field = 1;
        rec->error = st_reader_err_too_long;
    }
    return true;
}

/* ---- JSON Lines ---- */

static inline bool json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool jsonl_next(st_cursor *c, st_record *rec)
{
    const st_block *b = c->block;
    const char *base = b->data;
    const size_t len = b->len;
    size_t pos = c->pos;
    for (;;) {
        if (pos >= len) {
            c->pos = len;
            return false;
        }
        const char *nl = memchr(base + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - base) : len;
        size_t raw_end = end;
        if (raw_end > pos && base[raw_end - 1] == '\r') raw_end--;
        size_t start = pos;
        uint64_t line = c->line;
        if (nl) c->line++;
        pos = nl ? end + 1 : len;
        bool too_long = end - start > max_record_of(b->opts);
        if (!too_long) { /* a line of only white space is blank (checked on the kept bytes) */
            size_t i = start;
            while (i < raw_end && json_space(base[i])) i++;
            if (i == raw_end) {
                c->blank_lines++;
                continue;
            }
        }
        c->pos = pos;
        rec->line = line;
        rec->raw = st_sv_make(base + start, raw_end - start);
        rec->error_field = 0;
        rec->error = NULL;
        if (too_long) {
            size_t nkeys = b->opts ? b->opts->jsonl_nkeys : 0;
            if (nkeys > ST_READER_MAX_FIELDS) nkeys = ST_READER_MAX_FIELDS;
            for (size_t k = 0; k < nkeys; k++) c->fields[k] = st_sv_make("", 0);
            rec->fields = c->fields;
            rec->nfields = (uint32_t)nkeys;
            rec->error_field = 1;
            rec->error = st_reader_err_too_long;
            return true;
        }
        st_jsonl_parse_line(c, base + start, raw_end - start, rec);
        return true;
    }
}

bool st_cursor_next(st_cursor *c, st_record *rec)
{
    if (c->block->opts && c->block->opts->format == ST_FMT_JSONL) return jsonl_next(c, rec);
    return csv_next(c, rec);
}
