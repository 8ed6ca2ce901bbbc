/*
 * report.c — writes the self-contained HTML report: the embedded template (assets.cmake)
 * with the CSS, echarts.min.js, report.js, the summary JSON and the language's label table
 * pasted in. It owns no data: its only input is summary JSON text, which it checks with a
 * bounded, allocation-free JSON scanner before inlining it, because a malformed summary
 * would otherwise surface as a blank page instead of an error naming the line.
 *
 * Labels: while scanning, every object key and string value that st_label() knows is put
 * into the page's label table, so any section added later gets its zh names without a
 * change here. Words that are not data keys (section titles) live in report.js.
 */
#include "report/report.h"

#include "report/labels.h"
#include "report_assets.h"

#include <errno.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64
/* Label keys are short identifiers; longer strings (paths, hashes) are data, not labels. */
#define LABEL_KEY_MAX 96
#define META_MAX ((size_t)1 << 20)
#define READ_CHUNK ((size_t)64 << 10)

/* Label keys report.js uses as words even when no summary string names them. */
static const char *const page_keys[] = {
    "tier",          "segment",       "persons",      "buyers",   "orders",
    "revenue",       "as_of",         "person_share", "revenue_share", "data_quality",
    "r_score",       "f_score",       "avg_monetary", "rejected", "repaired",
};

/* ---- bounded JSON scanner: validates RFC 8259 syntax and collects labels ---- */

typedef struct scan {
    const char *start, *p, *end;
    int depth;
    const char *lang;
    st_intern seen;    /* label keys already in `labels` */
    st_buf *labels;    /* "key":"display",... */
    strata_status st;  /* ENOMEM / ELIMIT while collecting, else OK */
    const char *error; /* syntax error message, at p */
    char str[LABEL_KEY_MAX + 1];
    size_t str_len;
    bool str_plain; /* str holds the whole string and it had no \u escape */
    char top_lang[8];
} scan;

static bool fail_at(scan *s, const char *msg)
{
    if (!s->error) s->error = msg;
    return false;
}

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static void collect_label(scan *s)
{
    if (!s->str_plain || s->str_len == 0 || s->st != STRATA_OK) return;
    const char *display = st_label(s->str, s->lang);
    if (display == s->str) return; /* st_label hands back the key when it has no label */
    bool added = false;
    uint64_t hash = st_hash64(s->str, s->str_len);
    if (st_intern_put(&s->seen, s->str, s->str_len, hash, &added) == ST_INTERN_NONE) {
        s->st = STRATA_ENOMEM;
        return;
    }
    if (!added) return;
    strata_status st = STRATA_OK;
    if (s->labels->len > 0) st = st_buf_putc(s->labels, ',');
    if (st == STRATA_OK) st = st_buf_json_string(s->labels, s->str, s->str_len);
    if (st == STRATA_OK) st = st_buf_putc(s->labels, ':');
    if (st == STRATA_OK) st = st_buf_json_string(s->labels, display, strlen(display));
    s->st = st;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* At the opening quote. Keeps the decoded text in s->str when it is short and plain. */
static bool scan_string(scan *s)
{
    s->p++;
    s->str_len = 0;
    s->str_plain = true;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            s->str[s->str_len] = '\0';
            collect_label(s);
            return true;
        }
        if (c < 0x20) return fail_at(s, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2) break;
            char e = s->p[1];
            static const char simple_in[] = "\"\\/bfnrt", simple_out[] = "\"\\/\b\f\n\r\t";
            const char *k = e ? strchr(simple_in, e) : NULL;
            if (k) {
                c = (unsigned char)simple_out[k - simple_in];
                s->p += 2;
            } else if (e == 'u') {
                if (s->end - s->p < 6) break;
                for (int i = 2; i < 6; i++)
                    if (hex_value(s->p[i]) < 0) return fail_at(s, "bad \\u escape");
                s->p += 6;
                s->str_plain = false;
                continue;
            } else {
                return fail_at(s, "bad escape in a string");
            }
        } else {
            s->p++;
        }
        if (s->str_len < LABEL_KEY_MAX) s->str[s->str_len++] = (char)c;
        else s->str_plain = false;
    }
    return fail_at(s, "unterminated string");
}

static bool scan_digits(scan *s)
{
    const char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
    return s->p > from;
}

static bool scan_number(scan *s)
{
    if (*s->p == '-') s->p++;
    if (s->p < s->end && *s->p == '0') s->p++;
    else if (!scan_digits(s)) return fail_at(s, "bad number");
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s)) return fail_at(s, "bad number");
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
        if (!scan_digits(s)) return fail_at(s, "bad number");
    }
    return true;
}

static bool scan_literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail_at(s, "unexpected character");
    s->p += n;
    return true;
}

static bool scan_value(scan *s);

static bool scan_object(scan *s)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"') return fail_at(s, "expected a member name");
        if (!scan_string(s)) return false;
        bool is_lang = s->depth == 1 && s->str_plain && !strcmp(s->str, "lang");
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return fail_at(s, "expected ':'");
        s->p++;
        skip_ws(s);
        bool value_is_string = s->p < s->end && *s->p == '"';
        if (!scan_value(s)) return false;
        if (is_lang && value_is_string && s->str_plain && s->str_len < sizeof s->top_lang)
            memcpy(s->top_lang, s->str, s->str_len + 1);
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return true;
        }
        return fail_at(s, "expected ',' or '}'");
    }
}

static bool scan_array(scan *s)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return true;
    }
    for (;;) {
        if (!scan_value(s)) return false;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return true;
        }
        return fail_at(s, "expected ',' or ']'");
    }
}

static bool scan_value(scan *s)
{
    skip_ws(s);
    if (s->p >= s->end) return fail_at(s, "unexpected end of input");
    char c = *s->p;
    if (c == '{' || c == '[') {
        if (s->depth >= JSON_MAX_DEPTH) return fail_at(s, "nested deeper than 64 levels");
        s->depth++;
        bool ok = c == '{' ? scan_object(s) : scan_array(s);
        s->depth--;
        return ok;
    }
    if (c == '"') return scan_string(s);
    if (c == '-' || (c >= '0' && c <= '9')) return scan_number(s);
    if (c == 't') return scan_literal(s, "true");
    if (c == 'f') return scan_literal(s, "false");
    if (c == 'n') return scan_literal(s, "null");
    return fail_at(s, "unexpected character");
}

/* Validate the summary and build the page's meta JSON: {"lang":..,"labels":{..}}. */
static strata_status scan_summary(strata_ctx *ctx, const char *json, size_t len,
                                  const char *lang, st_buf *labels, char top_lang[8])
{
    scan s;
    memset(&s, 0, sizeof s);
    s.start = s.p = json ? json : "";
    s.end = s.start + (json ? len : 0);
    s.lang = lang;
    s.labels = labels;
    st_intern_init(&s.seen);
    skip_ws(&s);
    bool ok;
    if (s.p < s.end && *s.p != '{') ok = fail_at(&s, "the summary must be a JSON object");
    else ok = scan_value(&s);
    if (ok) {
        skip_ws(&s);
        if (s.p != s.end) ok = fail_at(&s, "text after the JSON value");
    }
    for (size_t i = 0; ok && s.st == STRATA_OK && i < ST_ARRAY_LEN(page_keys); i++) {
        s.str_len = strlen(page_keys[i]);
        memcpy(s.str, page_keys[i], s.str_len + 1);
        s.str_plain = true;
        collect_label(&s);
    }
    st_intern_clear(&s.seen);
    memcpy(top_lang, s.top_lang, sizeof s.top_lang);
    if (!ok) {
        int line = 1, column = 1;
        for (const char *q = s.start; q < s.p; q++) {
            if (*q == '\n') line++, column = 1;
            else column++;
        }
        return st_error(ctx, STRATA_EPARSE, "summary JSON, line %d, column %d: %s", line,
                        column, s.error);
    }
    if (s.st == STRATA_ENOMEM) return st_error(ctx, s.st, "report: out of memory for labels");
    if (s.st != STRATA_OK) return st_error(ctx, s.st, "report: label table too large");
    return STRATA_OK;
}

/* ---- writing ---- */

typedef struct out {
    FILE *f;
    bool failed;
} out;

static void put(out *o, const void *data, size_t len)
{
    if (len && !o->failed && fwrite(data, 1, len, o->f) != len) o->failed = true;
}

/* Paste valid JSON into <script type="application/json">: '<' only occurs inside strings
 * there, so \u003c keeps the meaning and no "</script" or "<!--" can reach the HTML parser;
 * U+2028/2029 are escaped because older JS engines treat them as line ends. */
static void put_script_json(out *o, const char *data, size_t len)
{
    const unsigned char *d = (const unsigned char *)data;
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        size_t width = 1;
        if (d[i] == '<') {
            rep = "\\u003c";
        } else if (d[i] == 0xE2 && i + 2 < len && d[i + 1] == 0x80 &&
                   (d[i + 2] == 0xA8 || d[i + 2] == 0xA9)) {
            rep = d[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            width = 3;
        }
        if (!rep) continue;
        put(o, data + from, i - from);
        put(o, rep, 6);
        i += width - 1;
        from = i + 1;
    }
    put(o, data + from, len - from);
}

typedef struct part {
    const char *marker; /* {{NAME}} in template.html */
    const char *data;
    size_t len;
    bool json; /* goes through put_script_json */
} part;

static strata_status write_page(strata_ctx *ctx, out *o, const part *parts, size_t nparts)
{
    const char *t = (const char *)st_asset_template_html;
    const char *end = t + st_asset_template_html_len;
    while (t < end) {
        const char *open = memmem(t, (size_t)(end - t), "{{", 2);
        if (!open) break;
        const char *close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
        if (!close) break;
        put(o, t, (size_t)(open - t));
        st_sv name = st_sv_make(open + 2, (size_t)(close - open - 2));
        size_t k = 0;
        while (k < nparts && !st_sv_eq(name, st_sv_cstr(parts[k].marker))) k++;
        if (k == nparts)
            return st_error(ctx, STRATA_EINTERNAL, "report template: unknown marker {{%.*s}}",
                            (int)ST_MIN(name.len, 40), name.ptr);
        if (parts[k].json) put_script_json(o, parts[k].data, parts[k].len);
        else put(o, parts[k].data, parts[k].len);
        t = close + 2;
    }
    put(o, t, (size_t)(end - t));
    return STRATA_OK;
}

static strata_status pick_lang(strata_ctx *ctx, const char *lang, const char *summary_lang,
                               const char **out_lang)
{
    if (!lang || !*lang) lang = *summary_lang ? summary_lang : strata_config_get(ctx, "lang");
    if (!lang || !*lang) lang = "en";
    if (strcmp(lang, "en") != 0 && strcmp(lang, "zh") != 0)
        return st_error(ctx, STRATA_EINVAL, "report language must be en or zh, not '%.16s'",
                        lang);
    *out_lang = lang;
    return STRATA_OK;
}

strata_status st_report_write(strata_ctx *ctx, const char *summary_json, size_t len,
                              const char *lang, const char *path)
{
    if (!path || !*path) return st_error(ctx, STRATA_EINVAL, "report: no output path");
    if (len > ST_REPORT_MAX_SUMMARY)
        return st_error(ctx, STRATA_ELIMIT, "report: summary larger than 256 MiB");
    /* Labels need the language before the scan; a summary "lang" found by the scan only
     * matters when none was given, so scan with the given one or rescan. */
    char summary_lang[8] = "";
    st_buf labels, meta;
    st_buf_init(&labels, META_MAX);
    st_buf_init(&meta, META_MAX);
    const char *scanned_lang = lang && *lang ? lang : "en", *use_lang = scanned_lang;
    strata_status st = scan_summary(ctx, summary_json, len, scanned_lang, &labels, summary_lang);
    if (st == STRATA_OK) st = pick_lang(ctx, lang, summary_lang, &use_lang);
    if (st == STRATA_OK && strcmp(use_lang, scanned_lang) != 0) {
        st_buf_reset(&labels);
        st = scan_summary(ctx, summary_json, len, use_lang, &labels, summary_lang);
    }
    if (st == STRATA_OK) {
        st = st_buf_printf(&meta, "{\"lang\":\"%s\",\"strata_version\":\"%s\",\"labels\":{",
                           use_lang, STRATA_VERSION);
        if (st == STRATA_OK && labels.len) st = st_buf_append(&meta, labels.data, labels.len);
        if (st == STRATA_OK) st = st_buf_puts(&meta, "}}");
        if (st != STRATA_OK) st = st_error(ctx, st, "report: cannot build the label table");
    }
    if (st == STRATA_OK) {
        bool zh = st_lang_zh(use_lang);
        const part parts[] = {
            {"LANG", zh ? "zh-CN" : "en", zh ? 5 : 2, false},
            {"CSS", (const char *)st_asset_report_css, st_asset_report_css_len, false},
            {"SUMMARY", summary_json, summary_json ? len : 0, true},
            {"META", meta.data, meta.len, true},
            {"ECHARTS", (const char *)st_asset_echarts_js, st_asset_echarts_js_len, false},
            {"APP", (const char *)st_asset_report_js, st_asset_report_js_len, false},
        };
        out o = {st_fopen_new(path), false};
        if (!o.f) {
            st = st_error(ctx, STRATA_EIO, "%s: cannot write the report: %s", path,
                          strerror(errno));
        } else {
            st = write_page(ctx, &o, parts, ST_ARRAY_LEN(parts));
            int saved = o.failed ? errno : 0;
            /* never half a page: kept only when all of it went out */
            if (st_fclose_new(o.f, path, st == STRATA_OK && !o.failed) != 0 && !o.failed)
                o.failed = true, saved = errno;
            if (st == STRATA_OK && o.failed)
                st = st_error(ctx, STRATA_EIO, "%s: cannot write the report: %s", path,
                              strerror(saved ? saved : EIO));
        }
    }
    st_buf_clear(&labels);
    st_buf_clear(&meta);
    return st;
}

strata_status strata_report_render(strata_ctx *ctx, const char *summary_json_path,
                                   const char *html_path, const char *lang)
{
    if (!summary_json_path || !html_path)
        return st_error(ctx, STRATA_EINVAL, "report: summary and HTML paths are required");
    FILE *f = fopen(summary_json_path, "rb");
    if (!f)
        return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open: %s", summary_json_path,
                        strerror(errno));
    st_buf text;
    st_buf_init(&text, ST_REPORT_MAX_SUMMARY);
    strata_status st = STRATA_OK;
    char *chunk = st_malloc(READ_CHUNK);
    if (!chunk) st = st_error(ctx, STRATA_ENOMEM, "%s: out of memory", summary_json_path);
    while (st == STRATA_OK) {
        size_t n = fread(chunk, 1, READ_CHUNK, f);
        if (n == 0) break;
        st = st_buf_append(&text, chunk, n);
        if (st == STRATA_ELIMIT)
            st_error(ctx, st, "%s: larger than 256 MiB; not a summary", summary_json_path);
        else if (st != STRATA_OK)
            st_error(ctx, st, "%s: out of memory", summary_json_path);
    }
    if (st == STRATA_OK && ferror(f))
        st = st_error(ctx, STRATA_EIO, "%s: read error", summary_json_path);
    fclose(f);
    st_free(chunk);
    if (st == STRATA_OK) {
        st = st_report_write(ctx, text.data, text.len, lang, html_path);
        if (st == STRATA_EPARSE) {
            /* Name the file: the writer only knows it was given text. */
            char detail[sizeof ctx->errmsg];
            memcpy(detail, ctx->errmsg, sizeof detail);
            st_error(ctx, st, "%s: %s", summary_json_path, detail);
        }
    }
    st_buf_clear(&text);
    return st;
}
