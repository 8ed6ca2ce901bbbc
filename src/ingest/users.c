/*
 * users.c — parsing user attributes: sign-up time, demographics, acquisition channel and
 * cost, consent per channel, NPS. A bad value in any given field rejects the row (a wrong
 * consent flag must never be read as consent).
 */
#include "core/config.h"
#include "ingest/load.h"

enum {
    F_USER, F_SIGNUP, F_GENDER, F_BIRTH, F_REGION, F_ACQ, F_CAC, F_SMS, F_PUSH, F_EMAIL,
    F_WECOM, F_NPS, F__COUNT
};

static const st_field_spec fields[F__COUNT] = {
    [F_USER] = {"user_id", ST_CFG_USERS_COL_USER_ID, true},
    [F_SIGNUP] = {"signup_ts", ST_CFG_USERS_COL_SIGNUP, false},
    [F_GENDER] = {"gender", ST_CFG_USERS_COL_GENDER, false},
    [F_BIRTH] = {"birth_year", ST_CFG_USERS_COL_BIRTH_YEAR, false},
    [F_REGION] = {"region", ST_CFG_USERS_COL_REGION, false},
    [F_ACQ] = {"acquisition_channel", ST_CFG_USERS_COL_ACQ_CHANNEL, false},
    [F_CAC] = {"cac", ST_CFG_USERS_COL_CAC, false},
    [F_SMS] = {"consent_sms", ST_CFG_USERS_COL_CONSENT_SMS, false},
    [F_PUSH] = {"consent_push", ST_CFG_USERS_COL_CONSENT_PUSH, false},
    [F_EMAIL] = {"consent_email", ST_CFG_USERS_COL_CONSENT_EMAIL, false},
    [F_WECOM] = {"consent_wecom", ST_CFG_USERS_COL_CONSENT_WECOM, false},
    [F_NPS] = {"nps", ST_CFG_USERS_COL_NPS, false},
};

typedef struct user_rec {
    uint64_t fp;
    uint32_t key, line;
    st_user_attrs attrs;
} user_rec;

static bool reject_value(st_worker *w, const st_record *rec, int canon, st_reason reason, st_sv v)
{
    return st_load_reject(w, rec, (uint32_t)w->load->col[canon] + 1, reason, "%s '%.*s' is invalid",
                          fields[canon].name, (int)ST_MIN(v.len, 64), v.ptr);
}

static bool user_row(st_worker *w, const st_record *rec)
{
    st_sv user = st_load_field(w, rec, F_USER);
    if (user.len == 0)
        return st_load_reject(w, rec, (uint32_t)w->load->col[F_USER] + 1, ST_REASON_MISSING_USER_ID, NULL);
    st_user_attrs a = {.signup_day = STRATA_DAY_NONE, .nps = -1, .cac = -1};
    int64_t ts;
    bool present;
    if (!st_load_ts(w, rec, F_SIGNUP, false, &ts, &present)) return true;
    if (present) a.signup_day = st_local_day(ts);
    st_sv v = st_load_field(w, rec, F_BIRTH);
    if (v.len) {
        int64_t y;
        if (!st_sv_to_i64(v, &y) || y < 1900 || y > 2100) return reject_value(w, rec, F_BIRTH, ST_REASON_BAD_NUMBER, v);
        a.birth_year = (int16_t)y;
    }
    v = st_load_field(w, rec, F_CAC);
    if (v.len && (!st_sv_to_micros(v, &a.cac, NULL) || a.cac < 0))
        return reject_value(w, rec, F_CAC, ST_REASON_BAD_NUMBER, v);
    v = st_load_field(w, rec, F_NPS);
    if (v.len) {
        int64_t n;
        if (!st_sv_to_i64(v, &n) || n < 0 || n > 10) return reject_value(w, rec, F_NPS, ST_REASON_BAD_NUMBER, v);
        a.nps = (int8_t)n;
    }
    static const int consent_fields[4] = {F_SMS, F_PUSH, F_EMAIL, F_WECOM};
    for (int c = 0; c < 4; c++) {
        v = st_load_field(w, rec, consent_fields[c]);
        if (!v.len) continue;
        bool yes;
        if (!st_sv_to_bool(v, &yes)) return reject_value(w, rec, consent_fields[c], ST_REASON_BAD_FLAG, v);
        a.consent_known |= (uint8_t)(1u << c);
        if (yes) a.consent |= (uint8_t)(1u << c);
    }
    a.gender = st_load_dict(w, ST_DICT_GENDER, st_load_field(w, rec, F_GENDER));
    a.region = st_load_dict(w, ST_DICT_REGION, st_load_field(w, rec, F_REGION));
    a.acq_channel = st_load_dict(w, ST_DICT_CHANNEL, st_load_field(w, rec, F_ACQ));
    st_key_lookup user_key;
    st_load_key_begin(w, user, &user_key);
    int64_t parsed[F__COUNT] = {0};
    bool used[F__COUNT] = {false};
    uint64_t fp = st_load_fingerprint(w, rec, 0, parsed, used, user_key.hash);
    uint32_t key = st_load_key_end(w, &user_key, rec->line);
    user_rec *r = st_load_record(w);
    if (key == ST_INTERN_NONE || !r || a.gender == UINT16_MAX || a.region == UINT16_MAX ||
        a.acq_channel == UINT16_MAX)
        return false;
    r->fp = fp;
    r->key = key;
    r->line = rec->line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line;
    r->attrs = a;
    return true;
}

static strata_status user_reserve(st_dataset *ds, size_t extra)
{
    st_user_rows *u = &ds->users;
    size_t need = u->n + extra;
    if (need <= u->cap) return STRATA_OK;
    ST_RESERVE_COL(u, key, need);
    ST_RESERVE_COL(u, line, need);
    ST_RESERVE_COL(u, attrs, need);
    ST_RESERVE_COL(u, fp, need);
    u->cap = need;
    return STRATA_OK;
}

static void user_merge(st_dataset *ds, const st_chunk *c, size_t at, const uint32_t *key_map,
                       uint16_t *const dict_map[5], const uint32_t *ident_map)
{
    (void)ident_map;
    st_user_rows *u = &ds->users;
    const user_rec *recs = (const user_rec *)c->recs;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = at + i;
        u->key[j] = key_map[recs[i].key];
        u->line[j] = recs[i].line;
        u->fp[j] = recs[i].fp;
        st_user_attrs a = recs[i].attrs;
        a.gender = dict_map[ST_DICT_GENDER][a.gender];
        a.region = dict_map[ST_DICT_REGION][a.region];
        a.acq_channel = dict_map[ST_DICT_CHANNEL][a.acq_channel];
        u->attrs[j] = a;
    }
}

const st_input_spec st_users_spec = {
    ST_IN_USERS, fields, F__COUNT, sizeof(user_rec),
    ST_CFG_USERS_FORMAT, ST_CFG_USERS_DELIMITER, ST_CFG_USERS_TS_FORMAT,
    user_row, user_reserve, user_merge, NULL, NULL, 0, 0,
};
