/*
 * links.c — parsing identity links: "this user id has this identifier" (user_id, id_type,
 * id_value). Identifiers are normalized per type (phone: digits and a leading +; email:
 * lower case) and, with identity.hash, replaced by hex(SHA-256(salt || type ":" value)) so
 * no raw phone number or e-mail address is kept in memory, outputs or the store. The type
 * "user_id" links two user ids directly.
 */
#include "core/config.h"
#include "ingest/load.h"

#include <openssl/evp.h>

enum { F_USER, F_TYPE, F_VALUE, F__COUNT };

static const st_field_spec fields[F__COUNT] = {
    [F_USER] = {"user_id", ST_CFG_IDENT_COL_USER_ID, true},
    [F_TYPE] = {"id_type", ST_CFG_IDENT_COL_TYPE, true},
    [F_VALUE] = {"id_value", ST_CFG_IDENT_COL_VALUE, true},
};

typedef struct link_rec {
    uint64_t fp;
    uint32_t key, ident, line;
} link_rec;

static bool type_is(st_sv t, const char *name)
{
    return st_sv_eq_nocase(t, st_sv_cstr(name));
}

/* "type:value" in canonical form into w->tmp. */
static strata_status canonical_identifier(st_worker *w, st_sv type, st_sv value)
{
    st_buf *b = &w->tmp;
    st_buf_reset(b);
    strata_status st = STRATA_OK;
    for (size_t i = 0; i < type.len && st == STRATA_OK; i++) {
        char c = type.ptr[i];
        st = st_buf_putc(b, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
    }
    if (st == STRATA_OK) st = st_buf_putc(b, ':');
    bool phone = type_is(type, "phone") || type_is(type, "mobile");
    bool email = type_is(type, "email");
    for (size_t i = 0; i < value.len && st == STRATA_OK; i++) {
        char c = value.ptr[i];
        if (phone && !((c >= '0' && c <= '9') || (c == '+' && i == 0))) continue;
        if (email && c >= 'A' && c <= 'Z') c = (char)(c + 32);
        st = st_buf_putc(b, c);
    }
    return st;
}

static strata_status hash_identifier(st_worker *w)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    const char *salt = w->load->salt;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(m, salt, strlen(salt)) &&
              EVP_DigestUpdate(m, w->tmp.data, w->tmp.len) && EVP_DigestFinal_ex(m, md, &mdlen);
    EVP_MD_CTX_free(m);
    if (!ok || mdlen != 32) return STRATA_EINTERNAL;
    static const char hex[] = "0123456789abcdef";
    char out[64];
    for (int i = 0; i < 32; i++) out[2 * i] = hex[md[i] >> 4], out[2 * i + 1] = hex[md[i] & 15];
    st_buf_reset(&w->tmp);
    return st_buf_append(&w->tmp, out, 64);
}

static bool link_row(st_worker *w, const st_record *rec)
{
    st_sv user = st_load_field(w, rec, F_USER);
    if (user.len == 0)
        return st_load_reject(w, rec, (uint32_t)w->load->col[F_USER] + 1, ST_REASON_MISSING_USER_ID, NULL);
    st_sv type = st_load_field(w, rec, F_TYPE), value = st_load_field(w, rec, F_VALUE);
    if (type.len == 0 || value.len == 0)
        return st_load_reject(w, rec, (uint32_t)w->load->col[type.len ? F_VALUE : F_TYPE] + 1,
                              ST_REASON_MISSING_IDENTIFIER, NULL);
    uint32_t ident;
    if (type_is(type, "user_id")) {
        /* a direct link: the identifier is the other id itself, normalized like keys */
        bool changed;
        st_sv other = st_normalize_id(value, w->load->normalize_ids, &changed);
        st_buf_reset(&w->tmp);
        if (st_buf_puts(&w->tmp, "user_id:") != STRATA_OK ||
            st_buf_append(&w->tmp, other.ptr, other.len) != STRATA_OK)
            return false;
        /* make sure the other id exists as a key so it can be joined */
        if (st_load_key(w, value, rec->line) == ST_INTERN_NONE) return false;
    } else {
        if (canonical_identifier(w, type, value) != STRATA_OK) return false;
        if (w->tmp.len <= type.len + 1)
            return st_load_reject(w, rec, (uint32_t)w->load->col[F_VALUE] + 1,
                                  ST_REASON_MISSING_IDENTIFIER, "identifier has no usable characters");
        if (w->load->hash_identifiers && hash_identifier(w) != STRATA_OK) return false;
    }
    /* equal parsed values: the same id with the same canonical identifier */
    uint64_t fp = st_hash64(w->tmp.data, w->tmp.len);
    ident = st_intern_put(&w->identifiers, w->tmp.data, w->tmp.len, fp, NULL);
    st_key_lookup user_key;
    st_load_key_begin(w, user, &user_key);
    fp = st_hash_mix(fp, user_key.hash);
    for (uint32_t f = 0; f < rec->nfields && f < ST_READER_MAX_FIELDS; f++) {
        int canon = w->load->canon_of[f];
        if (canon >= 0) continue; /* mapped fields are in the canonical form above */
        st_sv v = st_sv_trim(rec->fields[f]);
        fp = st_hash_mix(fp, st_hash64(v.ptr, v.len));
    }
    uint32_t key = st_load_key_end(w, &user_key, rec->line);
    link_rec *r = st_load_record(w);
    if (ident == ST_INTERN_NONE || key == ST_INTERN_NONE || !r) return false;
    r->fp = fp;
    r->key = key;
    r->ident = ident;
    r->line = rec->line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line;
    return true;
}

static strata_status link_reserve(st_dataset *ds, size_t extra)
{
    st_link_rows *l = &ds->links;
    size_t need = l->n + extra;
    if (need <= l->cap) return STRATA_OK;
    ST_RESERVE_COL(l, key, need);
    ST_RESERVE_COL(l, ident, need);
    ST_RESERVE_COL(l, line, need);
    ST_RESERVE_COL(l, fp, need);
    l->cap = need;
    return STRATA_OK;
}

static void link_merge(st_dataset *ds, const st_chunk *c, size_t at, const uint32_t *key_map,
                       uint16_t *const dict_map[5], const uint32_t *ident_map)
{
    (void)dict_map;
    st_link_rows *l = &ds->links;
    const link_rec *recs = (const link_rec *)c->recs;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = at + i;
        l->key[j] = key_map[recs[i].key];
        l->ident[j] = ident_map[recs[i].ident];
        l->line[j] = recs[i].line;
        l->fp[j] = recs[i].fp;
    }
}

const st_input_spec st_links_spec = {
    ST_IN_IDENTITIES, fields, F__COUNT, sizeof(link_rec),
    ST_CFG_IDENT_FORMAT, ST_CFG_IDENT_DELIMITER, ST_CFG_ORDERS_TS_FORMAT ,
    link_row, link_reserve, link_merge, NULL, NULL, 0, 0,
};
