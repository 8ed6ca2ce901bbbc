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

void st_profile_column_value(const st_profile_view *view, size_t p, size_t col, st_value *v)
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

strata_status st_value_format(st_buf *b, const st_value *v)
{
    char day[11];
    switch (v->type) {
    case ST_V_NULL: return STRATA_OK;
    case ST_V_INT: return st_buf_i64(b, v->i);
    case ST_V_REAL: return st_buf_double(b, v->d, v->digits);
    case ST_V_MONEY: return st_buf_micros(b, v->i);
    case ST_V_DATE: strata_day_format((int32_t)v->i, day); return st_buf_puts(b, day);
    case ST_V_TEXT:
    case ST_V_LABEL: return st_buf_append(b, v->s.ptr, v->s.len);
    }
    return STRATA_OK;
}
