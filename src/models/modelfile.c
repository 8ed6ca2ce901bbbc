/*
 * modelfile.c — the churn model object and its versioned file. Owns the model's memory (an
 * arena for strings, arrays, the XGBoost booster) and the only parser of model files.
 *
 * A model file is untrusted input: it is read whole under a size ceiling, its envelope and
 * every field are checked, and two CRC-32 checksums (zlib) must match before the XGBoost
 * bytes inside reach XGBoost, whose own loader may abort on garbage. A checksum is not a
 * signature: it stops corruption and truncation, not a forger — load models you made.
 *
 * The bounds on the numbers are what keep a loaded model's arithmetic finite: with a float
 * feature (|x| < 3.4e38), |x - mean| / sd < 1e69 and |coef| <= 1e6 no term of the linear
 * predictor can overflow, so no sum of them can be NaN (inf - inf). Training stays far
 * inside them (sd >= 1e-12 and an L2 penalty); saving refuses a model outside them.
 *
 * File format, version 1. Integers little-endian; f64 = IEEE-754 binary64 little-endian;
 * str = u16 length (<= ST_CHURN_MAX_NAME) + that many bytes, no NUL byte.
 *
 *   offset  size  field
 *   ------  ----  -----------------------------------------------------------------------
 *        0     8  magic "STRCHURN"
 *        8     4  u32 format version = 1 (a file of another version is refused: EMODEL)
 *       12     4  u32 model kind: 1 = gradient-boosted trees (XGBoost), 2 = logistic
 *       16     8  u64 payload length P (header + P <= ST_MODEL_MAX_BYTES)
 *       24     4  u32 CRC-32 of the payload
 *       28     4  u32 CRC-32 of bytes 0..27 (so a damaged length is caught before use)
 *       32     P  payload; the file ends exactly after it
 *
 *   payload
 *     u32  d, the number of features, 1..ST_CHURN_MAX_FEATURES
 *     f64  decision threshold, in [0, 1]
 *     str  label column the model was trained on ("" if unknown)
 *     str  id column of the training table ("" if none)
 *     d x  feature:
 *            u8   kind: 0 = numeric column, 1 = one-hot of a text column
 *            str  column (not empty)
 *            str  level (one-hot: the value, not empty; numeric: empty)
 *            f64  mean over the training rows, |mean| <= 1e38 (the float range)
 *            f64  standard deviation, in [1e-30, 1e38]
 *          no two features may have the same kind, column and level
 *     kind 2 (logistic):
 *            f64  intercept, |intercept| <= 1e6
 *            d x f64  coefficients on standardized features, each |c| <= 1e6
 *            u32  Newton iterations used (informative)
 *     kind 1 (trees):
 *            u32  boosting rounds kept, 1..100000
 *            u64  length L of the XGBoost model, 2..remaining payload
 *            L    XGBoost model as written by XGBoosterSaveModelToBuffer, format "ubj"
 *                 (must begin with '{'); after loading, XGBoost must report d features
 *                 and the same number of rounds
 *     nothing may follow
 */
#include "models/modelfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xgboost/c_api.h>
#include <zlib.h>

/* ---------------------------------------------------------------------------------------
 * the object
 * ------------------------------------------------------------------------------------- */

strata_status st_churn_model_alloc(strata_ctx *ctx, st_churn_kind kind, size_t nfeatures,
                                   strata_churn_model **out)
{
    *out = NULL;
    if (nfeatures == 0 || nfeatures > ST_CHURN_MAX_FEATURES)
        return st_error(ctx, STRATA_ELIMIT, "churn model: %zu features (1..%d allowed)",
                        nfeatures, ST_CHURN_MAX_FEATURES);
    strata_churn_model *m = st_calloc(1, sizeof *m);
    if (!m) return st_error(ctx, STRATA_ENOMEM, "churn model: out of memory");
    st_arena_init(&m->strings, 16384);
    m->kind = kind;
    m->nfeatures = nfeatures;
    m->features = st_arena_alloc(&m->strings, nfeatures * sizeof *m->features, 8);
    m->mean = st_arena_alloc(&m->strings, nfeatures * sizeof *m->mean, 8);
    m->sd = st_arena_alloc(&m->strings, nfeatures * sizeof *m->sd, 8);
    m->coef = st_arena_alloc(&m->strings, nfeatures * sizeof *m->coef, 8);
    m->label_column = st_arena_strndup(&m->strings, "", 0);
    m->id_column = m->label_column;
    if (!m->features || !m->mean || !m->sd || !m->coef || !m->label_column) {
        strata_churn_model_free(m);
        return st_error(ctx, STRATA_ENOMEM, "churn model: out of memory");
    }
    memset(m->features, 0, nfeatures * sizeof *m->features);
    for (size_t j = 0; j < nfeatures; j++) {
        m->mean[j] = 0.0;
        m->sd[j] = 1.0;
        m->coef[j] = 0.0;
    }
    *out = m;
    return STRATA_OK;
}

void strata_churn_model_free(strata_churn_model *model)
{
    if (!model) return;
    if (model->booster) XGBoosterFree(model->booster);
    st_arena_clear(&model->strings);
    st_free(model);
}

char *st_churn_model_strdup(strata_churn_model *model, const char *s)
{
    return st_arena_strndup(&model->strings, s ? s : "", s ? strlen(s) : 0);
}

strata_status st_churn_model_set_feature(strata_churn_model *model, size_t j,
                                         st_churn_feature_kind kind, const char *column,
                                         const char *level)
{
    st_churn_feature *f = &model->features[j];
    f->kind = kind;
    f->column = st_churn_model_strdup(model, column);
    f->level = kind == ST_CHURN_ONEHOT ? st_churn_model_strdup(model, level) : NULL;
    if (kind == ST_CHURN_ONEHOT) {
        size_t cl = strlen(column), ll = strlen(level);
        f->name = st_arena_alloc(&model->strings, cl + ll + 2, 1);
        if (f->name) {
            memcpy(f->name, column, cl);
            f->name[cl] = '=';
            memcpy(f->name + cl + 1, level, ll + 1);
        }
    } else {
        f->name = f->column;
    }
    if (!f->column || !f->name || (kind == ST_CHURN_ONEHOT && !f->level)) return STRATA_ENOMEM;
    return STRATA_OK;
}

/* ---------------------------------------------------------------------------------------
 * writing
 * ------------------------------------------------------------------------------------- */

static strata_status put_u16(st_buf *b, uint16_t v)
{
    unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    return st_buf_append(b, p, 2);
}

static strata_status put_u32(st_buf *b, uint32_t v)
{
    unsigned char p[4];
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
    return st_buf_append(b, p, 4);
}

static strata_status put_u64(st_buf *b, uint64_t v)
{
    unsigned char p[8];
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
    return st_buf_append(b, p, 8);
}

static strata_status put_f64(st_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return put_u64(b, u);
}

static strata_status put_str(st_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > ST_CHURN_MAX_NAME) return STRATA_ELIMIT;
    strata_status st = put_u16(b, (uint16_t)n);
    return st == STRATA_OK && n ? st_buf_append(b, s, n) : st;
}

static void poke_u32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (char)(unsigned char)(v >> (8 * i));
}

static void poke_u64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (char)(unsigned char)(v >> (8 * i));
}

static uint32_t crc32_of(const void *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (len > 0) { /* zlib takes uInt lengths */
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

strata_status st_churn_model_to_buffer(strata_ctx *ctx, const strata_churn_model *m,
                                       st_buf *out)
{
    strata_status st = st_buf_append(out, ST_MODEL_MAGIC, 8);
    if (st == STRATA_OK) st = put_u32(out, ST_MODEL_VERSION);
    if (st == STRATA_OK) st = put_u32(out, (uint32_t)m->kind);
    if (st == STRATA_OK) st = st_buf_append(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    size_t start = out->len;
    if (st == STRATA_OK) st = put_u32(out, (uint32_t)m->nfeatures);
    if (st == STRATA_OK) st = put_f64(out, m->threshold);
    if (st == STRATA_OK) st = put_str(out, m->label_column);
    if (st == STRATA_OK) st = put_str(out, m->id_column);
    for (size_t j = 0; st == STRATA_OK && j < m->nfeatures; j++) {
        const st_churn_feature *f = &m->features[j];
        unsigned char kind = (unsigned char)f->kind;
        st = st_buf_append(out, &kind, 1);
        if (st == STRATA_OK) st = put_str(out, f->column);
        if (st == STRATA_OK) st = put_str(out, f->kind == ST_CHURN_ONEHOT ? f->level : "");
        if (st == STRATA_OK) st = put_f64(out, m->mean[j]);
        if (st == STRATA_OK) st = put_f64(out, m->sd[j]);
    }
    for (size_t j = 0; j < m->nfeatures; j++) {
        bool sane = fabs(m->mean[j]) <= ST_MODEL_MAX_MEAN && m->sd[j] >= ST_MODEL_MIN_SD &&
                    m->sd[j] <= ST_MODEL_MAX_MEAN &&
                    (m->kind != ST_CHURN_LOGISTIC || fabs(m->coef[j]) <= ST_MODEL_MAX_COEF);
        if (!sane || !(fabs(m->intercept) <= ST_MODEL_MAX_COEF))
            return st_error(ctx, STRATA_EMODEL, "churn model: feature %s has numbers beyond the "
                            "file's bounds (mean, sd or coefficient)", m->features[j].name);
    }
    if (!(m->threshold >= 0 && m->threshold <= 1))
        return st_error(ctx, STRATA_EMODEL, "churn model: threshold outside [0, 1]");
    if (m->kind == ST_CHURN_LOGISTIC) {
        if (st == STRATA_OK) st = put_f64(out, m->intercept);
        for (size_t j = 0; st == STRATA_OK && j < m->nfeatures; j++) st = put_f64(out, m->coef[j]);
        if (st == STRATA_OK) st = put_u32(out, (uint32_t)m->iterations);
    } else if (st == STRATA_OK) {
        bst_ulong len = 0;
        const char *bytes = NULL;
        if (!m->booster ||
            XGBoosterSaveModelToBuffer(m->booster, "{\"format\":\"ubj\"}", &len, &bytes) != 0)
            return st_error(ctx, STRATA_EMODEL, "churn model: XGBoost cannot save: %s",
                            m->booster ? XGBGetLastError() : "no booster");
        st = put_u32(out, m->rounds);
        if (st == STRATA_OK) st = put_u64(out, (uint64_t)len);
        if (st == STRATA_OK) st = st_buf_append(out, bytes, (size_t)len);
    }
    if (st != STRATA_OK)
        return st_error(ctx, st, "churn model: cannot serialize (%s)", strata_status_message(st));
    poke_u64(out->data + 16, (uint64_t)(out->len - start));
    poke_u32(out->data + 24, crc32_of(out->data + start, out->len - start));
    poke_u32(out->data + 28, crc32_of(out->data, 28));
    return STRATA_OK;
}

strata_status strata_churn_model_save(strata_ctx *ctx, const strata_churn_model *model,
                                      const char *path)
{
    if (!model || !path) return st_error(ctx, STRATA_EINVAL, "churn model save: no model/path");
    st_buf b;
    st_buf_init(&b, ST_MODEL_MAX_BYTES);
    strata_status st = st_churn_model_to_buffer(ctx, model, &b);
    if (st != STRATA_OK) {
        st_buf_clear(&b);
        return st;
    }
    st_buf tmp;
    st_buf_init(&tmp, 8192);
    st = st_buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = st == STRATA_OK ? fopen(tmp.data, "wb") : NULL;
    bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp.data, path) != 0) ok = false;
    if (!ok) {
        int err = errno;
        if (f) remove(tmp.data);
        st = st_error(ctx, STRATA_EIO, "%s: cannot write model: %s", path, strerror(err));
    }
    st_buf_clear(&tmp);
    st_buf_clear(&b);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * reading: a cursor that never passes `end`
 * ------------------------------------------------------------------------------------- */

typedef struct rd {
    const unsigned char *p, *end;
    bool short_read;
} rd;

static bool need(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->short_read = true;
        r->p = r->end;
        return false;
    }
    return true;
}

static uint64_t get_le(rd *r, int bytes)
{
    uint64_t v = 0;
    if (!need(r, (size_t)bytes)) return 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static double get_f64(rd *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* A str field as a view; false (with *why) when too long, holding NUL, or cut short. */
static bool get_str(rd *r, st_sv *out, const char **why)
{
    size_t n = (size_t)get_le(r, 2);
    if (r->short_read || !need(r, n)) {
        *why = "truncated";
        return false;
    }
    if (n > ST_CHURN_MAX_NAME) {
        *why = "name too long";
        return false;
    }
    if (memchr(r->p, '\0', n)) {
        *why = "name holds a NUL byte";
        return false;
    }
    *out = st_sv_make((const char *)r->p, n);
    r->p += n;
    return true;
}

static char *model_strndup(strata_churn_model *m, st_sv s)
{
    return st_arena_strndup(&m->strings, s.ptr, s.len);
}

/* Parse the payload into m (already allocated with d features). */
static strata_status parse_payload(strata_ctx *ctx, rd *r, strata_churn_model *m, unsigned flags)
{
    const char *why = NULL;
    m->threshold = get_f64(r);
    if (!(m->threshold >= 0.0 && m->threshold <= 1.0)) why = "threshold outside [0, 1]";
    st_sv label, id;
    if (!why && get_str(r, &label, &why) && get_str(r, &id, &why)) {
        m->label_column = model_strndup(m, label);
        m->id_column = model_strndup(m, id);
        if (!m->label_column || !m->id_column) return STRATA_ENOMEM;
    }
    st_intern seen;
    st_intern_init(&seen);
    for (size_t j = 0; !why && j < m->nfeatures; j++) {
        unsigned kind = (unsigned)get_le(r, 1);
        st_sv column, level;
        if (r->short_read) why = "truncated";
        else if (kind > ST_CHURN_ONEHOT) why = "unknown feature kind";
        else if (!get_str(r, &column, &why) || !get_str(r, &level, &why)) break;
        else if (column.len == 0) why = "empty column name";
        else if ((kind == ST_CHURN_ONEHOT) != (level.len > 0))
            why = "level must be given exactly for one-hot features";
        if (why) break;
        double mean = get_f64(r), sd = get_f64(r);
        if (r->short_read) why = "truncated";
        else if (!(fabs(mean) <= ST_MODEL_MAX_MEAN) || !(sd >= ST_MODEL_MIN_SD && sd <= ST_MODEL_MAX_MEAN))
            why = "bad standardization";
        if (why) break;
        char *col = model_strndup(m, column), *lev = model_strndup(m, level);
        if (!col || !lev) {
            st_intern_clear(&seen);
            return STRATA_ENOMEM;
        }
        if (st_churn_model_set_feature(m, j, (st_churn_feature_kind)kind, col, lev) != STRATA_OK) {
            st_intern_clear(&seen);
            return STRATA_ENOMEM;
        }
        /* kind byte + name is unique: "tenure" (numeric) vs "tenure" cannot both exist */
        const char *name = m->features[j].name;
        size_t nl = strlen(name);
        char key[ST_CHURN_MAX_NAME * 2 + 3];
        key[0] = (char)('0' + kind);
        memcpy(key + 1, name, nl);
        bool added = false;
        uint32_t idx = st_intern_put(&seen, key, nl + 1, st_hash64(key, nl + 1), &added);
        if (idx == ST_INTERN_NONE) {
            st_intern_clear(&seen);
            return STRATA_ENOMEM;
        }
        if (!added) why = "duplicate feature";
        m->mean[j] = mean;
        m->sd[j] = sd;
    }
    st_intern_clear(&seen);
    if (!why && m->kind == ST_CHURN_LOGISTIC) {
        m->intercept = get_f64(r);
        bool sane = fabs(m->intercept) <= ST_MODEL_MAX_COEF;
        for (size_t j = 0; j < m->nfeatures; j++) {
            m->coef[j] = get_f64(r);
            sane = sane && fabs(m->coef[j]) <= ST_MODEL_MAX_COEF;
        }
        m->iterations = (int)(get_le(r, 4) & 0x7fffffff);
        if (r->short_read) why = "truncated";
        else if (!sane) why = "coefficient not finite or beyond 1e6";
    } else if (!why) {
        m->rounds = (uint32_t)get_le(r, 4);
        uint64_t len = get_le(r, 8);
        if (r->short_read) why = "truncated";
        else if (m->rounds == 0 || m->rounds > 100000) why = "bad number of rounds";
        else if (len < 2 || len > (uint64_t)(r->end - r->p)) why = "bad XGBoost model length";
        else if (r->p[0] != '{') why = "XGBoost model is not UBJSON";
        else {
            const unsigned char *bytes = r->p;
            r->p += len;
            if (r->p != r->end) why = "trailing bytes after the model";
            else if (!(flags & ST_MODEL_PARSE_ONLY)) {
                BoosterHandle h = NULL;
                bst_ulong nf = 0;
                int rounds = 0;
                if (XGBoosterCreate(NULL, 0, &h) != 0 ||
                    XGBoosterLoadModelFromBuffer(h, bytes, (bst_ulong)len) != 0 ||
                    XGBoosterGetNumFeature(h, &nf) != 0 || XGBoosterBoostedRounds(h, &rounds) != 0) {
                    st_error(ctx, STRATA_EMODEL, "churn model: XGBoost refused the model: %s",
                             XGBGetLastError());
                    if (h) XGBoosterFree(h);
                    return STRATA_EMODEL;
                }
                m->booster = h;
                if (nf != m->nfeatures || (uint32_t)rounds != m->rounds) {
                    return st_error(ctx, STRATA_EMODEL,
                                    "churn model: XGBoost model has %llu features and %d rounds, "
                                    "the header says %zu and %u",
                                    (unsigned long long)nf, rounds, m->nfeatures, m->rounds);
                }
            }
        }
    }
    if (!why && r->p != r->end) why = "trailing bytes after the model";
    if (why) return st_error(ctx, STRATA_EPARSE, "churn model: %s", why);
    return STRATA_OK;
}

strata_status st_churn_model_from_buffer(strata_ctx *ctx, const void *data, size_t len,
                                         unsigned flags, strata_churn_model **out)
{
    *out = NULL;
    const unsigned char *p = data;
    if (len < ST_MODEL_HEADER_BYTES || memcmp(p, ST_MODEL_MAGIC, 8) != 0)
        return st_error(ctx, STRATA_EPARSE, "not a strata churn model (bad magic or too short)");
    rd r = {p + 8, p + ST_MODEL_HEADER_BYTES, false};
    uint32_t version = (uint32_t)get_le(&r, 4);
    uint32_t kind = (uint32_t)get_le(&r, 4);
    uint64_t plen = get_le(&r, 8);
    uint32_t payload_crc = (uint32_t)get_le(&r, 4);
    uint32_t header_crc = (uint32_t)get_le(&r, 4);
    bool check = !(flags & ST_MODEL_PARSE_ONLY);
    if (check && header_crc != crc32_of(p, 28))
        return st_error(ctx, STRATA_EPARSE, "churn model: header checksum mismatch (damaged)");
    if (version != ST_MODEL_VERSION)
        return st_error(ctx, STRATA_EMODEL,
                        "churn model: format version %u, this strata reads version %u",
                        version, ST_MODEL_VERSION);
    if (kind != ST_CHURN_XGBOOST && kind != ST_CHURN_LOGISTIC)
        return st_error(ctx, STRATA_EPARSE, "churn model: unknown model kind %u", kind);
    if (plen > ST_MODEL_MAX_BYTES - ST_MODEL_HEADER_BYTES)
        return st_error(ctx, STRATA_ELIMIT, "churn model: payload of %llu bytes is over the limit",
                        (unsigned long long)plen);
    if (plen != len - ST_MODEL_HEADER_BYTES)
        return st_error(ctx, STRATA_EPARSE,
                        "churn model: truncated or padded (payload %llu bytes, file has %zu)",
                        (unsigned long long)plen, len - ST_MODEL_HEADER_BYTES);
    const unsigned char *payload = p + ST_MODEL_HEADER_BYTES;
    if (check && payload_crc != crc32_of(payload, (size_t)plen))
        return st_error(ctx, STRATA_EPARSE, "churn model: payload checksum mismatch (damaged)");
    rd body = {payload, payload + plen, false};
    uint32_t d = (uint32_t)get_le(&body, 4);
    if (body.short_read || d == 0 || d > ST_CHURN_MAX_FEATURES)
        return st_error(ctx, STRATA_EPARSE, "churn model: bad feature count %u", d);
    strata_churn_model *m;
    strata_status st = st_churn_model_alloc(ctx, (st_churn_kind)kind, d, &m);
    if (st != STRATA_OK) return st;
    st = parse_payload(ctx, &body, m, flags);
    if (st == STRATA_ENOMEM) st_error(ctx, st, "churn model: out of memory");
    if (st != STRATA_OK) {
        strata_churn_model_free(m);
        return st;
    }
    *out = m;
    return STRATA_OK;
}

strata_status strata_churn_model_load(strata_ctx *ctx, const char *path,
                                      strata_churn_model **out_model)
{
    *out_model = NULL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open model: %s",
                            path ? path : "(null)", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return st_error(ctx, STRATA_ENOINPUT, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > ST_MODEL_MAX_BYTES) {
        fclose(f);
        return st_error(ctx, STRATA_ELIMIT, "%s: %lld bytes is larger than a model can be",
                        path, (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *data = st_malloc(len ? len : 1);
    if (!data) {
        fclose(f);
        return st_error(ctx, STRATA_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(data, 1, len, f);
    bool err = ferror(f) != 0;
    fclose(f);
    strata_status st;
    if (err || got != len) st = st_error(ctx, STRATA_EIO, "%s: read error", path);
    else {
        st = st_churn_model_from_buffer(ctx, data, len, ST_MODEL_LOAD, out_model);
        if (st != STRATA_OK) {
            /* prefix the path to the parser's message */
            char msg[sizeof ctx->errmsg];
            memcpy(msg, strata_errmsg(ctx), sizeof msg);
            msg[sizeof msg - 1] = '\0';
            st_error(ctx, st, "%s: %s", path, msg);
        }
    }
    st_free(data);
    return st;
}
