/*
 * events.c — parsing behaviour events. The event type text is mapped to st_event_type
 * through the events.aliases.* lists (view, search, add_to_cart, favorite, like, comment,
 * share) and the product's other type names; unknown types are kept as "other" and counted.
 */
#include "core/config.h"
#include "ingest/load.h"

enum { F_USER, F_TS, F_TYPE, F_SESSION, F_ITEM, F_KEYWORD, F_PAGE, F__COUNT };

static const st_field_spec fields[F__COUNT] = {
    [F_USER] = {"user_id", ST_CFG_EVENTS_COL_USER_ID, true},
    [F_TS] = {"event_ts", ST_CFG_EVENTS_COL_TS, true},
    [F_TYPE] = {"event_type", ST_CFG_EVENTS_COL_TYPE, true},
    [F_SESSION] = {"session_id", ST_CFG_EVENTS_COL_SESSION, false},
    [F_ITEM] = {"item", ST_CFG_EVENTS_COL_ITEM, false},
    [F_KEYWORD] = {"keyword", ST_CFG_EVENTS_COL_KEYWORD, false},
    [F_PAGE] = {"page", ST_CFG_EVENTS_COL_PAGE, false},
};

typedef st_event_row event_rec;

static const struct {
    st_event_type type;
    st_cfg_key aliases;
} alias_keys[] = {
    {ST_EV_VIEW, ST_CFG_EVENTS_ALIAS_VIEW},   {ST_EV_SEARCH, ST_CFG_EVENTS_ALIAS_SEARCH},
    {ST_EV_CART, ST_CFG_EVENTS_ALIAS_CART},   {ST_EV_FAVORITE, ST_CFG_EVENTS_ALIAS_FAVORITE},
    {ST_EV_LIKE, ST_CFG_EVENTS_ALIAS_LIKE},   {ST_EV_COMMENT, ST_CFG_EVENTS_ALIAS_COMMENT},
    {ST_EV_SHARE, ST_CFG_EVENTS_ALIAS_SHARE},
};

static st_event_type classify(const st_config *cfg, st_sv text)
{
    for (size_t i = 0; i < ST_ARRAY_LEN(alias_keys); i++)
        if (st_cfg_list_has(cfg, alias_keys[i].aliases, text)) return alias_keys[i].type;
    for (int t = ST_EV_LOGIN; t < ST_EV__COUNT; t++)
        if (st_sv_eq_nocase(text, st_sv_cstr(st_event_type_name((st_event_type)t))))
            return (st_event_type)t;
    return ST_EV_OTHER;
}

/* Type of an event text; each distinct text is classified once per worker. */
static int event_type_of(st_worker *w, st_sv text, uint8_t *out)
{
    uint16_t id = st_dict_put(&w->evtypes, text);
    if (id == UINT16_MAX) return -1;
    if (id >= w->evtype_cap) {
        size_t old = w->evtype_cap;
        if (!ST_GROW(w->evtype_of, w->evtype_cap, (size_t)id + 1)) return -1;
        memset(w->evtype_of + old, 0xff, w->evtype_cap - old);
    }
    if (w->evtype_of[id] == 0xff) w->evtype_of[id] = (uint8_t)classify(w->load->ctx->config, text);
    *out = w->evtype_of[id];
    return 0;
}

static bool event_row(st_worker *w, const st_record *rec)
{
    int64_t parsed[F__COUNT] = {0};
    bool used[F__COUNT] = {false};
    st_sv user = st_load_field(w, rec, F_USER);
    if (user.len == 0)
        return st_load_reject(w, rec, (uint32_t)w->load->col[F_USER] + 1, ST_REASON_MISSING_USER_ID,
                              NULL);
    st_key_lookup user_key;
    st_load_key_begin(w, user, &user_key);
    int64_t ts;
    bool present;
    if (!st_load_ts(w, rec, F_TS, true, &ts, &present)) return true;
    parsed[F_TS] = ts, used[F_TS] = true;
    st_sv type_text = st_load_field(w, rec, F_TYPE);
    if (type_text.len == 0)
        return st_load_reject(w, rec, (uint32_t)w->load->col[F_TYPE] + 1,
                              ST_REASON_MISSING_EVENT_TYPE, NULL);
    uint8_t type;
    if (event_type_of(w, type_text, &type) != 0) return false;
    if (type == ST_EV_OTHER) st_load_repair(w, ST_REASON_EVENT_TYPE_OTHER);

    uint32_t key = st_load_key_end(w, &user_key, rec->line);
    event_rec *r = st_load_record(w);
    if (key == ST_INTERN_NONE || !r) return false;
    r->fp = st_load_fingerprint(w, rec, 0, parsed, used, user_key.hash);
    r->ts = ts;
    r->key = key;
    r->line = rec->line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line;
    r->type = type;
    return true;
}

static st_vmrows *event_table(st_dataset *ds)
{
    return &ds->events.vm;
}

static void event_remap(void *rows, size_t begin, size_t end, const uint32_t *key_map,
                        uint16_t *const dict_map[5])
{
    (void)dict_map;
    st_event_row *r = rows;
    for (size_t i = begin; i < end; i++)
        r[i].key = key_map[r[i].key];
}

const st_input_spec st_events_spec = {
    ST_IN_EVENTS,
    fields,
    F__COUNT,
    sizeof(event_rec),
    ST_CFG_EVENTS_FORMAT,
    ST_CFG_EVENTS_DELIMITER,
    ST_CFG_EVENTS_TS_FORMAT,
    event_row,
    NULL,
    NULL,
    event_table,
    event_remap,
    offsetof(st_event_row, key),
    0, /* the fingerprint by st_load_fingerprint alone */
};
