/*
 * jsonl.c — one JSON Lines record: a single JSON object on one line, from which the caller
 * wants the values of a fixed list of keys (st_reader_opts.jsonl_keys) as fields, in order.
 *
 * A small validating scanner (RFC 8259) rather than a DOM parser: it allocates nothing per
 * line, values are views into the block, and only strings with escapes are decoded into the
 * cursor's scratch buffer. Values map to fields like this:
 *   string            its text, escapes decoded (\uXXXX to UTF-8; a lone surrogate becomes
 *                     U+FFFD rather than failing the whole row)
 *   number, boolean   their source text ("12.50", "true")
 *   null, missing     an empty field
 *   object, array     their JSON source text, validated (nesting up to 64 levels)
 * If a key repeats, the last value wins (as in Python's json and JavaScript). Anything that
 * is not exactly one valid object (trailing text included) makes an error record with
 * error_field = 1 and the fields read so far.
 */
#include "ingest/reader.h"

#define MAX_DEPTH 64

static const char err_not_object[] = "line is not a JSON object";
static const char err_syntax[] = "malformed JSON";
static const char err_string[] = "malformed JSON string";
static const char err_depth[] = "JSON nested too deeply";
static const char err_trailing[] = "text after the JSON object";
static const char err_nomem[] = "out of memory decoding a JSON string";

static inline const char *skip_space(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

static inline int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static bool hex4(const char *p, const char *e, unsigned *out)
{
    if (e - p < 4) return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

/* p at the opening quote; returns the byte after the closing quote, or NULL. *escaped tells
 * whether the content holds any backslash escape. */
static const char *scan_string(const char *p, const char *e, bool *escaped)
{
    *escaped = false;
    p++;
    for (;;) {
        while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
        if (p >= e || (unsigned char)*p < 0x20) return NULL;
        if (*p == '"') return p + 1;
        *escaped = true; /* backslash */
        if (e - p < 2) return NULL;
        char esc = p[1];
        if (esc == 'u') {
            unsigned v;
            if (!hex4(p + 2, e, &v)) return NULL;
            p += 6;
        } else if (esc == '"' || esc == '\\' || esc == '/' || esc == 'b' || esc == 'f' ||
                   esc == 'n' || esc == 'r' || esc == 't') {
            p += 2;
        } else {
            return NULL;
        }
    }
}

static const char *scan_number(const char *p, const char *e)
{
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9') p++;
    } else {
        return NULL;
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    return p;
}

static const char *scan_word(const char *p, const char *e, const char *word, size_t n)
{
    return (size_t)(e - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* Any JSON value; returns the byte after it or NULL (*why says what went wrong). */
static const char *skip_value(const char *p, const char *e, int depth, const char **why)
{
    bool escaped;
    if (p >= e) return NULL;
    switch (*p) {
    case '"':
        p = scan_string(p, e, &escaped);
        if (!p) *why = err_string;
        return p;
    case 't': return scan_word(p, e, "true", 4);
    case 'f': return scan_word(p, e, "false", 5);
    case 'n': return scan_word(p, e, "null", 4);
    case '{':
    case '[': {
        if (depth >= MAX_DEPTH) {
            *why = err_depth;
            return NULL;
        }
        bool object = *p == '{';
        char close = object ? '}' : ']';
        p = skip_space(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (object) {
                if (p >= e || *p != '"') return NULL;
                p = scan_string(p, e, &escaped);
                if (!p) {
                    *why = err_string;
                    return NULL;
                }
                p = skip_space(p, e);
                if (p >= e || *p != ':') return NULL;
                p = skip_space(p + 1, e);
            }
            p = skip_value(p, e, depth + 1, why);
            if (!p) return NULL;
            p = skip_space(p, e);
            if (p < e && *p == ',') {
                p = skip_space(p + 1, e);
                continue;
            }
            if (p < e && *p == close) return p + 1;
            return NULL;
        }
    }
    default: return scan_number(p, e);
    }
}

static char *put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        *out++ = (char)cp;
    } else if (cp < 0x800) {
        *out++ = (char)(0xC0 | cp >> 6);
        *out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *out++ = (char)(0xE0 | cp >> 12);
        *out++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *out++ = (char)(0xF0 | cp >> 18);
        *out++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *out++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *out++ = (char)(0x80 | (cp & 0x3F));
    }
    return out;
}

/* Decode the content of a string already checked by scan_string into out, which has room
 * for n bytes (decoded text is never longer than its escaped form). Returns the length. */
static size_t decode_string(const char *p, size_t n, char *out)
{
    const char *e = p + n;
    char *o = out;
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        size_t plain = bs ? (size_t)(bs - p) : (size_t)(e - p);
        memcpy(o, p, plain);
        o += plain;
        p += plain;
        if (!bs) break;
        char esc = p[1];
        p += 2;
        switch (esc) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = 0, lo = 0;
            hex4(p, e, &cp);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, e, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            o = put_utf8(o, cp);
            break;
        }
        default: *o++ = esc; break; /* " \ / */
        }
    }
    return (size_t)(o - out);
}

/* Index of key among the wanted keys, or -1. */
static int key_index(const char *const *keys, size_t nkeys, const char *k, size_t n)
{
    for (size_t i = 0; i < nkeys; i++)
        if (keys[i] && strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0) return (int)i;
    return -1;
}

void st_jsonl_parse_line(st_cursor *c, const char *line, size_t len, st_record *rec)
{
    const st_reader_opts *o = c->block->opts;
    const char *const *keys = o ? o->jsonl_keys : NULL;
    size_t nkeys = o && keys ? o->jsonl_nkeys : 0;
    if (nkeys > ST_READER_MAX_FIELDS) nkeys = ST_READER_MAX_FIELDS;
    for (size_t i = 0; i < nkeys; i++) c->fields[i] = st_sv_make("", 0);
    rec->fields = c->fields;
    rec->nfields = (uint32_t)nkeys;
    st_buf_reset(&c->scratch);
    bool scratch_used = false;
    const char *why = err_syntax;
    const char *e = line + len;
    const char *p = skip_space(line, e);

    if (p >= e || *p != '{') {
        why = err_not_object;
        goto fail;
    }
    p = skip_space(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        if (p >= e || *p != '"') goto fail;
        bool escaped;
        const char *kq = p;
        p = scan_string(p, e, &escaped);
        if (!p) {
            why = err_string;
            goto fail;
        }
        int ki;
        if (!escaped) {
            ki = key_index(keys, nkeys, kq + 1, (size_t)(p - kq - 2));
        } else {
            char kbuf[256];
            size_t kn = (size_t)(p - kq - 2);
            ki = kn <= sizeof kbuf ? key_index(keys, nkeys, kbuf, decode_string(kq + 1, kn, kbuf))
                                   : -1; /* no wanted key is that long once escaped */
        }
        p = skip_space(p, e);
        if (p >= e || *p != ':') goto fail;
        p = skip_space(p + 1, e);
        const char *v = p;
        p = skip_value(p, e, 1, &why);
        if (!p) goto fail;
        if (ki >= 0) {
            st_sv val = st_sv_make(v, (size_t)(p - v));
            if (*v == '"') {
                val = st_sv_make(v + 1, (size_t)(p - v - 2));
                scan_string(v, e, &escaped);
                if (escaped) {
                    size_t off = c->scratch.len;
                    /* reserve the escaped length, decode in place, then trim */
                    if (st_buf_append(&c->scratch, val.ptr, val.len) != STRATA_OK) {
                        why = err_nomem;
                        goto fail;
                    }
                    size_t n = decode_string(val.ptr, val.len, c->scratch.data + off);
                    c->scratch.len = off + n;
                    c->scratch.data[c->scratch.len] = '\0';
                    c->scratch_off[ki] = off;
                    val = st_sv_make(NULL, n);
                    scratch_used = true;
                }
            } else if (*v == 'n') {
                val = st_sv_make("", 0); /* null */
            }
            c->fields[ki] = val;
        }
        p = skip_space(p, e);
        if (p < e && *p == ',') {
            p = skip_space(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            break;
        }
        goto fail;
    }
tail:
    p = skip_space(p, e);
    if (p != e) {
        why = err_trailing;
        goto fail;
    }
    goto done;
fail:
    rec->error_field = 1;
    rec->error = why;
done:
    if (scratch_used)
        for (size_t i = 0; i < nkeys; i++)
            if (!c->fields[i].ptr) c->fields[i].ptr = c->scratch.data + c->scratch_off[i];
}
