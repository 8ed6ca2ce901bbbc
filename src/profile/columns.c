/*
 * columns.c — the profile column table (see columns.h).
 */
#include "profile/columns.h"
#include "models/labels.h"

#include <math.h>

#define PROFILE_COLUMNS(X)                                                                     \
    X(user_id) X(first_order_date) X(last_order_date) X(recency_days) X(frequency)            \
    X(monetary) X(aov) X(tenure_days) X(purchase_interval_days) X(refund_rate)                \
    X(coupon_rate) X(top_category) X(category_count) X(views) X(searches) X(carts)            \
    X(favorites) X(likes) X(comments) X(shares) X(active_days_30) X(active_days_90)           \
    X(last_active_date) X(r_score) X(f_score) X(m_score) X(rfm_cell) X(rfm_segment)           \
    X(rfm_class8) X(value_score) X(tier) X(cluster) X(churn_prob) X(churn_risk) X(p_alive)    \
    X(exp_purchases) X(exp_aov) X(clv) X(lifecycle) X(behavior_type) X(interaction_level)     \
    X(core_level)

enum {
#define X(name) COL_##name,
    PROFILE_COLUMNS(X)
#undef X
        COL__COUNT
};

static const char *const names[COL__COUNT] = {
#define X(name) #name,
    PROFILE_COLUMNS(X)
#undef X
};

size_t st_profile_column_count(void)
{
    return COL__COUNT;
}

const char *st_profile_column_name(size_t col)
{
    return col < COL__COUNT ? names[col] : "";
}

static void set_int(st_value *v, int64_t i)
{
    v->type = ST_V_INT;
    v->i = i;
}

static void set_opt_int(st_value *v, int64_t i, bool present)
{
    if (present) set_int(v, i);
}

static void set_real(st_value *v, double d, int digits)
{
    if (!isfinite(d)) return;
    v->type = ST_V_REAL;
    v->d = d;
    v->digits = digits;
}

static void set_label(st_value *v, st_vocab vocab, unsigned id)
{
    if (!id) return;
    v->type = ST_V_LABEL;
    v->s = st_sv_make(st_vocab_key(vocab, id), st_vocab_key_len(vocab, id));
}

static void set_day(st_value *v, int32_t day)
{
    if (day == STRATA_DAY_NONE) return;
    v->type = ST_V_DATE;
    v->i = day;
}

/* inline so that st_profile_csv_row's loop over the columns compiles to straight code */
static inline void column_value(const st_profile_view *view, size_t p, size_t col, st_value *v)
{
    const st_profile *r = &view->ps->rows[p];
    v->type = ST_V_NULL; /* the other fields are read only for the type set below */
    bool scored = r->frequency > 0;
    switch (col) {
    case COL_user_id:
        v->type = ST_V_TEXT;
        v->s = st_intern_str(view->keys, view->canonical_key[p]);
        break;
    case COL_first_order_date: set_day(v, r->first_order_day); break;
    case COL_last_order_date: set_day(v, r->last_order_day); break;
    case COL_recency_days: set_opt_int(v, r->recency_days, scored); break;
    case COL_frequency: set_int(v, r->frequency); break;
    case COL_monetary: v->type = ST_V_MONEY, v->i = r->monetary; break;
    case COL_aov:
        if (scored) v->type = ST_V_MONEY, v->i = r->aov;
        break;
    case COL_tenure_days: set_opt_int(v, r->tenure_days, r->tenure_days != ST_NONE_I32); break;
    case COL_purchase_interval_days: set_real(v, r->purchase_interval_days, 2); break;
    case COL_refund_rate: set_real(v, r->refund_rate, 4); break;
    case COL_coupon_rate: set_real(v, r->coupon_rate, 4); break;
    case COL_top_category:
        if (r->top_category) v->type = ST_V_TEXT, v->s = st_dict_name(view->categories, r->top_category);
        break;
    case COL_category_count: set_int(v, r->category_count); break;
    case COL_views: set_int(v, r->views); break;
    case COL_searches: set_int(v, r->searches); break;
    case COL_carts: set_int(v, r->carts); break;
    case COL_favorites: set_int(v, r->favorites); break;
    case COL_likes: set_int(v, r->likes); break;
    case COL_comments: set_int(v, r->comments); break;
    case COL_shares: set_int(v, r->shares); break;
    case COL_active_days_30: set_int(v, r->active_days_30); break;
    case COL_active_days_90: set_int(v, r->active_days_90); break;
    case COL_last_active_date: set_day(v, r->last_active_day); break;
    case COL_r_score: set_opt_int(v, r->r_score, r->r_score); break;
    case COL_f_score: set_opt_int(v, r->f_score, r->f_score); break;
    case COL_m_score: set_opt_int(v, r->m_score, r->m_score); break;
    case COL_rfm_cell:
        if (r->r_score) set_int(v, r->r_score * 100 + r->f_score * 10 + r->m_score);
        break;
    case COL_rfm_segment: set_label(v, ST_VOCAB_SEGMENT, r->rfm_segment); break;
    case COL_rfm_class8: set_label(v, ST_VOCAB_CLASS8, r->rfm_class8); break;
    case COL_value_score: set_real(v, r->value_score, 4); break;
    case COL_tier: set_label(v, ST_VOCAB_TIER, r->tier); break;
    case COL_cluster: set_opt_int(v, r->cluster, r->cluster >= 0); break;
    case COL_churn_prob: set_real(v, r->churn_prob, 4); break;
    case COL_churn_risk: set_label(v, ST_VOCAB_RISK, r->churn_risk); break;
    case COL_p_alive: set_real(v, r->p_alive, 4); break;
    case COL_exp_purchases: set_real(v, r->exp_purchases, 4); break;
    case COL_exp_aov: set_real(v, r->exp_aov, 2); break;
    case COL_clv: set_real(v, r->clv, 2); break;
    case COL_lifecycle: set_label(v, ST_VOCAB_LIFECYCLE, r->lifecycle); break;
    case COL_behavior_type: set_label(v, ST_VOCAB_BEHAVIOR, r->behavior_type); break;
    case COL_interaction_level: set_label(v, ST_VOCAB_INTERACTION, r->interaction_level); break;
    case COL_core_level: set_label(v, ST_VOCAB_CORE, r->core_level); break;
    default: break;
    }
}

void st_profile_column_value(const st_profile_view *view, size_t p, size_t col, st_value *v)
{
    column_value(view, p, col, v);
}

int st_profile_column_find(const char *name)
{
    for (int c = 0; c < COL__COUNT; c++)
        if (!strcmp(names[c], name)) return c;
    return -1;
}

double st_value_number(const st_value *v)
{
    switch (v->type) {
    case ST_V_INT:
    case ST_V_DATE: return (double)v->i;
    case ST_V_REAL: return v->d;
    case ST_V_MONEY: return (double)v->i / 1e6;
    case ST_V_LABEL:
    default: return NAN;
    }
}

/* A value's text into out (room for ST_FMT_NUMBER_MAX bytes, or the text's length); NULL
 * where st_buf_double needs printf. */
static char *format_into(char *out, const st_value *v)
{
    switch (v->type) {
    case ST_V_NULL: return out;
    case ST_V_INT: return st_fmt_i64(out, v->i);
    case ST_V_REAL: return st_fmt_double(out, v->d, v->digits);
    case ST_V_MONEY: return st_fmt_micros(out, v->i);
    case ST_V_DATE: {
        char day[11];
        strata_day_format((int32_t)v->i, day);
        memcpy(out, day, 10);
        return out + 10;
    }
    case ST_V_TEXT:
    case ST_V_LABEL: memcpy(out, v->s.ptr, v->s.len); return out + v->s.len;
    }
    return out;
}

strata_status st_value_format(st_buf *b, const st_value *v)
{
    if (v->type == ST_V_REAL) return st_buf_double(b, v->d, v->digits);
    size_t room = v->type == ST_V_TEXT || v->type == ST_V_LABEL ? v->s.len : ST_FMT_NUMBER_MAX;
    strata_status st = st_buf_reserve(b, room);
    if (st != STRATA_OK) return st;
    b->len = (size_t)(format_into(b->data + b->len, v) - b->data);
    b->data[b->len] = '\0';
    return STRATA_OK;
}

static bool csv_needs_quotes(st_sv s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == ',' || s.ptr[i] == '"' || s.ptr[i] == '\n' || s.ptr[i] == '\r') return true;
    return false;
}

strata_status st_profile_csv_row(st_buf *b, const st_profile_view *view, size_t p)
{
    /* numbers and dates fit ST_FMT_NUMBER_MAX; the two text columns are reserved at their
     * length (quoted ones go through st_buf_csv_field), longer labels through st_buf_append */
    st_value v;
    size_t room = COL__COUNT * (ST_FMT_NUMBER_MAX + 1) + 1;
    column_value(view, p, COL_user_id, &v);
    room += v.s.len;
    column_value(view, p, COL_top_category, &v);
    if (v.type == ST_V_TEXT) room += v.s.len;
    strata_status st = st_buf_reserve(b, room);
    if (st != STRATA_OK) return st;
    char *out = b->data + b->len;
    for (size_t c = 0; c < COL__COUNT; c++) {
        if (c) *out++ = ',';
        column_value(view, p, c, &v);
        if ((v.type == ST_V_TEXT && csv_needs_quotes(v.s)) ||
            (v.type == ST_V_LABEL && v.s.len > ST_FMT_NUMBER_MAX)) {
            b->len = (size_t)(out - b->data);
            st = v.type == ST_V_TEXT ? st_buf_csv_field(b, v.s.ptr, v.s.len)
                                     : st_buf_append(b, v.s.ptr, v.s.len);
            if (st == STRATA_OK) st = st_buf_reserve(b, room);
            if (st != STRATA_OK) return st;
            out = b->data + b->len;
            continue;
        }
        char *end = format_into(out, &v);
        if (!end) { /* a real number printf must write */
            b->len = (size_t)(out - b->data);
            if ((st = st_buf_double(b, v.d, v.digits)) != STRATA_OK) return st;
            if ((st = st_buf_reserve(b, room)) != STRATA_OK) return st;
            end = b->data + b->len;
        }
        out = end;
    }
    *out++ = '\n';
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
    return STRATA_OK;
}
