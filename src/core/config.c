/*
 * config.c — configuration store and YAML loader (libyaml event API).
 *
 * Nested YAML mappings become dotted keys ("orders:\n  columns:\n    user_id: X" sets
 * orders.columns.user_id); a sequence of scalars becomes a comma-separated LIST value.
 * Every key must be a row of config.def; unknown keys and bad values are errors that name
 * file, line and column, because a typo in a column mapping silently reading nothing would
 * be the worst outcome for a user.
 */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <yaml.h>

typedef enum { T_STR, T_INT, T_NUM, T_BOOL, T_LIST, T_ENUM } value_type;

typedef struct key_def {
    const char *name;
    value_type type;
    const char *def;
    const char *help;
} key_def;

static const key_def key_defs[ST_CFG__COUNT] = {
#define X(id, key, type, def, help) [ST_CFG_##id] = {key, T_##type, def, help},
#include "core/config.def"
#undef X
};

struct st_config {
    char *values[ST_CFG__COUNT]; /* NULL = default */
    bool set[ST_CFG__COUNT];
};

static const char *enum_words(st_cfg_key key)
{
    switch (key) {
    case ST_CFG_LANG: return "en,zh";
    case ST_CFG_CLEAN_OUTLIERS: return "keep,cap,reject";
    case ST_CFG_VALUE_SOURCE: return "rfm,clv";
    case ST_CFG_CLV_TIME_UNIT: return "days,weeks";
    case ST_CFG_ORDERS_TS_FORMAT:
    case ST_CFG_EVENTS_TS_FORMAT:
    case ST_CFG_USERS_TS_FORMAT: return "auto,iso,ymd,ymd_slash,mdy,epoch_s,epoch_ms";
    default: return "auto,csv,jsonl";
    }
}

strata_status st_config_create(st_config **out)
{
    *out = st_calloc(1, sizeof **out);
    return *out ? STRATA_OK : STRATA_ENOMEM;
}

void st_config_free(st_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < ST_CFG__COUNT; i++) st_free(cfg->values[i]);
    st_free(cfg);
}

const char *st_cfg_name(st_cfg_key key)
{
    return key_defs[key].name;
}

const char *st_cfg_str(const st_config *cfg, st_cfg_key key)
{
    return cfg->values[key] ? cfg->values[key] : key_defs[key].def;
}

int64_t st_cfg_int(const st_config *cfg, st_cfg_key key)
{
    int64_t v = 0;
    st_sv_to_i64(st_sv_cstr(st_cfg_str(cfg, key)), &v);
    return v;
}

double st_cfg_num(const st_config *cfg, st_cfg_key key)
{
    double v = 0;
    st_sv_to_double(st_sv_cstr(st_cfg_str(cfg, key)), &v);
    return v;
}

bool st_cfg_bool(const st_config *cfg, st_cfg_key key)
{
    bool v = false;
    st_sv_to_bool(st_sv_cstr(st_cfg_str(cfg, key)), &v);
    return v;
}

bool st_cfg_is_set(const st_config *cfg, st_cfg_key key)
{
    return cfg->set[key];
}

/* Call fn on each trimmed item of a comma-separated list; stop when it returns false. */
static bool each_item(const char *list, bool (*fn)(st_sv item, void *ud), void *ud)
{
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        st_sv item = st_sv_trim(st_sv_make(p, n));
        if (item.len && !fn(item, ud)) return false;
        p += n + (comma ? 1 : 0);
    }
    return true;
}

typedef struct match_ud {
    st_sv word;
    bool found;
} match_ud;

static bool match_item(st_sv item, void *ud)
{
    match_ud *m = ud;
    if (st_sv_eq_nocase(item, m->word)) m->found = true;
    return !m->found;
}

bool st_cfg_list_has(const st_config *cfg, st_cfg_key key, st_sv word)
{
    match_ud m = {st_sv_trim(word), false};
    each_item(st_cfg_str(cfg, key), match_item, &m);
    return m.found;
}

typedef struct nums_ud {
    double *out;
    int max, n;
} nums_ud;

static bool num_item(st_sv item, void *ud)
{
    nums_ud *u = ud;
    double v;
    if (u->n >= u->max || !st_sv_to_double(item, &v)) return false;
    u->out[u->n++] = v;
    return true;
}

int st_cfg_list_nums(const st_config *cfg, st_cfg_key key, double *out, int max)
{
    nums_ud u = {out, max, 0};
    return each_item(st_cfg_str(cfg, key), num_item, &u) ? u.n : -1;
}

/* Is name a section of some key ("orders.columns" of "orders.columns.user_id")? */
static bool section_known(const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < ST_CFG__COUNT; i++)
        if (!strncmp(key_defs[i].name, name, n) && key_defs[i].name[n] == '.') return true;
    return false;
}

static int find_key(const char *name)
{
    for (int i = 0; i < ST_CFG__COUNT; i++)
        if (strcmp(key_defs[i].name, name) == 0) return i;
    return -1;
}

/* Check a value against its key's type; on failure write the reason into why. */
static bool value_ok(st_cfg_key key, const char *value, char *why, size_t why_len)
{
    st_sv v = st_sv_cstr(value);
    int64_t i;
    double d;
    bool b;
    switch (key_defs[key].type) {
    case T_STR:
    case T_LIST: return true;
    case T_INT:
        if (st_sv_to_i64(v, &i)) return true;
        snprintf(why, why_len, "expected an integer, got '%s'", value);
        return false;
    case T_NUM:
        if (st_sv_to_double(v, &d)) return true;
        snprintf(why, why_len, "expected a number, got '%s'", value);
        return false;
    case T_BOOL:
        if (st_sv_to_bool(v, &b)) return true;
        snprintf(why, why_len, "expected true or false, got '%s'", value);
        return false;
    case T_ENUM: {
        match_ud m = {st_sv_trim(v), false};
        each_item(enum_words(key), match_item, &m);
        if (m.found) return true;
        snprintf(why, why_len, "expected one of %s, got '%s'", enum_words(key), value);
        return false;
    }
    }
    return false;
}

static strata_status set_value(strata_ctx *ctx, const char *key, const char *value,
                               const char *where)
{
    int k = find_key(key);
    if (k < 0)
        return st_error(ctx, STRATA_ECONFIG, "%sunknown configuration key '%s'", where, key);
    char why[256];
    if (!value_ok((st_cfg_key)k, value, why, sizeof why))
        return st_error(ctx, STRATA_ECONFIG, "%s%s: %s", where, key, why);
    char *copy = st_strdup(value);
    if (!copy) return STRATA_ENOMEM;
    if (key_defs[k].type == T_ENUM || key_defs[k].type == T_BOOL) {
        /* store enum words in lower case so getters can compare with strcmp */
        for (char *p = copy; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    }
    st_free(ctx->config->values[k]);
    ctx->config->values[k] = copy;
    ctx->config->set[k] = true;
    return STRATA_OK;
}

strata_status strata_config_set(strata_ctx *ctx, const char *key, const char *value)
{
    if (!key || !value) return st_error(ctx, STRATA_EINVAL, "configuration key or value missing");
    return set_value(ctx, key, value, "");
}

const char *strata_config_get(const strata_ctx *ctx, const char *key)
{
    int k = find_key(key);
    return k < 0 ? NULL : st_cfg_str(ctx->config, (st_cfg_key)k);
}

strata_status strata_config_dump(const strata_ctx *ctx, void *out_file)
{
    FILE *f = out_file;
    for (int i = 0; i < ST_CFG__COUNT; i++) {
        fprintf(f, "# %s\n%s: \"", key_defs[i].help, key_defs[i].name);
        for (const char *p = st_cfg_str(ctx->config, (st_cfg_key)i); *p; p++) {
            if (*p == '"' || *p == '\\') fputc('\\', f);
            fputc(*p, f);
        }
        fputs("\"\n", f);
    }
    return ferror(f) ? STRATA_EIO : STRATA_OK;
}

/* ---- YAML loading ---- */

#define MAX_DEPTH 8
#define MAX_KEY 256

typedef struct loader {
    strata_ctx *ctx;
    const char *path;
    yaml_parser_t parser;
    char key[MAX_KEY]; /* current dotted prefix */
    size_t key_len[MAX_DEPTH + 1];
    int depth;
} loader;

static strata_status where_error(loader *ld, const yaml_mark_t *mark, const char *msg)
{
    return st_error(ld->ctx, STRATA_ECONFIG, "%s:%zu:%zu: %s", ld->path, mark->line + 1,
                    mark->column + 1, msg);
}

static strata_status next_event(loader *ld, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&ld->parser, ev)) {
        return st_error(ld->ctx, STRATA_ECONFIG, "%s:%zu:%zu: %s", ld->path,
                        ld->parser.problem_mark.line + 1, ld->parser.problem_mark.column + 1,
                        ld->parser.problem ? ld->parser.problem : "YAML syntax error");
    }
    return STRATA_OK;
}

static strata_status set_at(loader *ld, const char *value, const yaml_mark_t *mark)
{
    char where[512];
    snprintf(where, sizeof where, "%s:%zu:%zu: ", ld->path, mark->line + 1, mark->column + 1);
    return set_value(ld->ctx, ld->key, value, where);
}

/* A sequence of scalars under the current key becomes "a,b,c". */
static strata_status load_sequence(loader *ld, const yaml_mark_t *start)
{
    st_buf joined;
    st_buf_init(&joined, 64 * 1024);
    strata_status st = STRATA_OK;
    for (;;) {
        yaml_event_t ev;
        if ((st = next_event(ld, &ev)) != STRATA_OK) break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            st = where_error(ld, &ev.start_mark, "expected a list of plain values");
            yaml_event_delete(&ev);
            break;
        }
        if (joined.len) st = st_buf_putc(&joined, ',');
        if (st == STRATA_OK)
            st = st_buf_append(&joined, ev.data.scalar.value, ev.data.scalar.length);
        yaml_event_delete(&ev);
        if (st != STRATA_OK) break;
    }
    if (st == STRATA_OK) st = set_at(ld, joined.data ? joined.data : "", start);
    st_buf_clear(&joined);
    return st;
}

static strata_status load_mapping(loader *ld)
{
    if (ld->depth >= MAX_DEPTH) return st_error(ld->ctx, STRATA_ECONFIG, "%s: nesting too deep", ld->path);
    ld->depth++;
    strata_status st = STRATA_OK;
    for (;;) {
        yaml_event_t kev;
        if ((st = next_event(ld, &kev)) != STRATA_OK) break;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            break;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            st = where_error(ld, &kev.start_mark, "expected a key");
            yaml_event_delete(&kev);
            break;
        }
        size_t base = ld->key_len[ld->depth - 1];
        size_t klen = kev.data.scalar.length;
        if (base + 1 + klen + 1 > MAX_KEY) {
            st = where_error(ld, &kev.start_mark, "key too long");
            yaml_event_delete(&kev);
            break;
        }
        size_t at = base;
        if (base) ld->key[at++] = '.';
        memcpy(ld->key + at, kev.data.scalar.value, klen);
        ld->key[at + klen] = '\0';
        ld->key_len[ld->depth] = at + klen;
        yaml_mark_t kmark = kev.start_mark;
        yaml_event_delete(&kev);

        yaml_event_t vev;
        if ((st = next_event(ld, &vev)) != STRATA_OK) break;
        if (vev.type == YAML_SCALAR_EVENT) {
            st = set_at(ld, (const char *)vev.data.scalar.value, &kmark);
        } else if (vev.type == YAML_MAPPING_START_EVENT) {
            if (!section_known(ld->key)) {
                char msg[MAX_KEY + 64];
                snprintf(msg, sizeof msg, "unknown configuration section '%s'", ld->key);
                st = where_error(ld, &kmark, msg);
            } else {
                st = load_mapping(ld);
            }
        } else if (vev.type == YAML_SEQUENCE_START_EVENT) {
            st = load_sequence(ld, &kmark);
        } else {
            st = where_error(ld, &vev.start_mark, "unsupported YAML construct (anchors/aliases)");
        }
        yaml_event_delete(&vev);
        if (st != STRATA_OK) break;
        ld->key[base] = '\0';
    }
    ld->depth--;
    return st;
}

strata_status st_config_load_buffer(strata_ctx *ctx, const char *name, const char *data,
                                    size_t len)
{
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.ctx = ctx;
    ld.path = name;
    if (!yaml_parser_initialize(&ld.parser)) return STRATA_ENOMEM;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data, len);
    strata_status st = STRATA_OK;
    bool in_doc = false, done = false;
    while (st == STRATA_OK && !done) {
        yaml_event_t ev;
        if ((st = next_event(&ld, &ev)) != STRATA_OK) break;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT: in_doc = true; break;
        case YAML_DOCUMENT_END_EVENT: in_doc = false; break;
        case YAML_MAPPING_START_EVENT:
            if (!in_doc || ld.depth != 0)
                st = where_error(&ld, &ev.start_mark, "unexpected mapping");
            else
                st = load_mapping(&ld);
            break;
        case YAML_SCALAR_EVENT:
            /* an empty document is a scalar null; anything else at top level is wrong */
            if (ev.data.scalar.length != 0)
                st = where_error(&ld, &ev.start_mark, "expected a mapping of keys at the top level");
            break;
        case YAML_SEQUENCE_START_EVENT:
            st = where_error(&ld, &ev.start_mark, "expected a mapping of keys at the top level");
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ld.parser);
    return st;
}

#define MAX_CONFIG_BYTES (4u << 20)

strata_status strata_config_load(strata_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open configuration: %s", path,
                        strerror(errno));
    st_buf text;
    st_buf_init(&text, MAX_CONFIG_BYTES);
    char chunk[8192];
    size_t n;
    strata_status st = STRATA_OK;
    while (st == STRATA_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = st_buf_append(&text, chunk, n);
    if (st == STRATA_OK && ferror(f))
        st = st_error(ctx, STRATA_EIO, "%s: read error", path);
    else if (st == STRATA_ELIMIT)
        st = st_error(ctx, STRATA_ECONFIG, "%s: configuration larger than %u bytes", path,
                      MAX_CONFIG_BYTES);
    fclose(f);
    if (st == STRATA_OK) st = st_config_load_buffer(ctx, path, text.data ? text.data : "", text.len);
    st_buf_clear(&text);
    return st;
}
