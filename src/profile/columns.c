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

static inline void set_int(st_value *v, int64_t i)
{
    v->type = ST_V_INT;
    v->i = i;
}

static inline void set_opt_int(st_value *v, int64_t i, bool present)
{
    if (present) set_int(v, i);
}

static inline __attribute__((always_inline)) void set_real(st_value *v, double d, int digits)
{
    if (!isfinite(d)) return;
    v->type = ST_V_REAL;
    v->d = d;
    v->digits = digits;
}

static inline __attribute__((always_inline)) void set_label(st_value *v, st_vocab vocab,
                                                            unsigned id)
{
    if (!id) return;
    v->type = ST_V_LABEL;
    size_t len;
    const char *key = st_vocab_key_n(vocab, id, &len);
    v->s = st_sv_make(key, len);
}

static inline void set_day(st_value *v, int32_t day)
{
    if (day == STRATA_DAY_NONE) return;
    v->type = ST_V_DATE;
    v->i = day;
}

/* One function per column, inlined where called: st_profile_csv_row calls them in column
 * order, so each value's type is known where it is formatted and the per-column switch and
 * type dispatch fold away (they were a third of the instructions of writing profiles.csv). */
#define COLUMN(name)                                                                               \
    static inline __attribute__((always_inline)) void col_##name(                                  \
        const st_profile_view *view, size_t p, const st_profile *r, st_value *v)
#define UNUSED_VIEW (void)view, (void)p

/* one line per column reads as the table it is */
/* clang-format off */
COLUMN(user_id)
{
    v->type = ST_V_TEXT;
    v->s = st_intern_str(view->keys, view->canonical_key[p]);
    (void)r;
}
COLUMN(first_order_date) { UNUSED_VIEW; set_day(v, r->first_order_day); }
COLUMN(last_order_date) { UNUSED_VIEW; set_day(v, r->last_order_day); }
COLUMN(recency_days) { UNUSED_VIEW; set_opt_int(v, r->recency_days, r->frequency > 0); }
COLUMN(frequency) { UNUSED_VIEW; set_int(v, r->frequency); }
COLUMN(monetary) { UNUSED_VIEW; v->type = ST_V_MONEY, v->i = r->monetary; }
COLUMN(aov)
{
    UNUSED_VIEW;
    if (r->frequency > 0) v->type = ST_V_MONEY, v->i = r->aov;
}
COLUMN(tenure_days) { UNUSED_VIEW; set_opt_int(v, r->tenure_days, r->tenure_days != ST_NONE_I32); }
COLUMN(purchase_interval_days) { UNUSED_VIEW; set_real(v, r->purchase_interval_days, 2); }
COLUMN(refund_rate) { UNUSED_VIEW; set_real(v, r->refund_rate, 4); }
COLUMN(coupon_rate) { UNUSED_VIEW; set_real(v, r->coupon_rate, 4); }
COLUMN(top_category)
{
    (void)p;
    if (r->top_category) v->type = ST_V_TEXT, v->s = st_dict_name(view->categories, r->top_category);
}
COLUMN(category_count) { UNUSED_VIEW; set_int(v, r->category_count); }
COLUMN(views) { UNUSED_VIEW; set_int(v, r->views); }
COLUMN(searches) { UNUSED_VIEW; set_int(v, r->searches); }
COLUMN(carts) { UNUSED_VIEW; set_int(v, r->carts); }
COLUMN(favorites) { UNUSED_VIEW; set_int(v, r->favorites); }
COLUMN(likes) { UNUSED_VIEW; set_int(v, r->likes); }
COLUMN(comments) { UNUSED_VIEW; set_int(v, r->comments); }
COLUMN(shares) { UNUSED_VIEW; set_int(v, r->shares); }
COLUMN(active_days_30) { UNUSED_VIEW; set_int(v, r->active_days_30); }
COLUMN(active_days_90) { UNUSED_VIEW; set_int(v, r->active_days_90); }
COLUMN(last_active_date) { UNUSED_VIEW; set_day(v, r->last_active_day); }
COLUMN(r_score) { UNUSED_VIEW; set_opt_int(v, r->r_score, r->r_score); }
COLUMN(f_score) { UNUSED_VIEW; set_opt_int(v, r->f_score, r->f_score); }
COLUMN(m_score) { UNUSED_VIEW; set_opt_int(v, r->m_score, r->m_score); }
COLUMN(rfm_cell)
{
    UNUSED_VIEW;
    if (r->r_score) set_int(v, r->r_score * 100 + r->f_score * 10 + r->m_score);
}
COLUMN(rfm_segment) { UNUSED_VIEW; set_label(v, ST_VOCAB_SEGMENT, r->rfm_segment); }
COLUMN(rfm_class8) { UNUSED_VIEW; set_label(v, ST_VOCAB_CLASS8, r->rfm_class8); }
COLUMN(value_score) { UNUSED_VIEW; set_real(v, r->value_score, 4); }
COLUMN(tier) { UNUSED_VIEW; set_label(v, ST_VOCAB_TIER, r->tier); }
COLUMN(cluster) { UNUSED_VIEW; set_opt_int(v, r->cluster, r->cluster >= 0); }
COLUMN(churn_prob) { UNUSED_VIEW; set_real(v, r->churn_prob, 4); }
COLUMN(churn_risk) { UNUSED_VIEW; set_label(v, ST_VOCAB_RISK, r->churn_risk); }
COLUMN(p_alive) { UNUSED_VIEW; set_real(v, r->p_alive, 4); }
COLUMN(exp_purchases) { UNUSED_VIEW; set_real(v, r->exp_purchases, 4); }
COLUMN(exp_aov) { UNUSED_VIEW; set_real(v, r->exp_aov, 2); }
COLUMN(clv) { UNUSED_VIEW; set_real(v, r->clv, 2); }
COLUMN(lifecycle) { UNUSED_VIEW; set_label(v, ST_VOCAB_LIFECYCLE, r->lifecycle); }
COLUMN(behavior_type) { UNUSED_VIEW; set_label(v, ST_VOCAB_BEHAVIOR, r->behavior_type); }
COLUMN(interaction_level) { UNUSED_VIEW; set_label(v, ST_VOCAB_INTERACTION, r->interaction_level); }
COLUMN(core_level) { UNUSED_VIEW; set_label(v, ST_VOCAB_CORE, r->core_level); }
/* clang-format on */

void st_profile_column_value(const st_profile_view *view, size_t p, size_t col, st_value *v)
{
    const st_profile *r = &view->ps->rows[p];
    v->type = ST_V_NULL; /* the other fields are read only for the type set below */
    switch (col) {
#define X(name)                                                                                    \
    case COL_##name:                                                                               \
        col_##name(view, p, r, v);                                                                 \
        break;
        PROFILE_COLUMNS(X)
#undef X
    default: break;
    }
}

int st_profile_column_find(const char *name)
{
    for (int c = 0; c < COL__COUNT; c++)
        if (!strcmp(names[c], name)) return c;
    return -1;
}

/* Dates of profiles fall in a few years: their texts are made once, for 45 years of days
 * (formatted in well under a millisecond). */
#define DAY_TEXTS_SPAN 16384

strata_status st_day_texts_build(st_day_texts *t, const st_profiles *ps)
{
    memset(t, 0, sizeof *t);
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    if (ps->as_of_day != STRATA_DAY_NONE) {
        /* every date of a profile is before the as-of day: the span ending there, without a
         * pass over all profiles for their range (180 MB read on one core at 1M persons) */
        hi = ps->as_of_day - 1;
        lo = (int32_t)ST_MAX((int64_t)hi - (DAY_TEXTS_SPAN - 1), (int64_t)INT32_MIN + 1);
    } else {
        for (size_t p = 0; p < ps->n; p++) {
            const st_profile *r = &ps->rows[p];
            int32_t days[3] = {r->first_order_day, r->last_order_day, r->last_active_day};
            for (int k = 0; k < 3; k++)
                if (days[k] != STRATA_DAY_NONE) lo = ST_MIN(lo, days[k]), hi = ST_MAX(hi, days[k]);
        }
        if (lo > hi) return STRATA_OK;
    }
    /* a wider span keeps its first DAY_TEXTS_SPAN days; the rest are formatted one by one */
    size_t n = (size_t)ST_MIN((int64_t)hi - lo + 1, (int64_t)DAY_TEXTS_SPAN);
    t->text = st_malloc(n * sizeof *t->text);
    if (!t->text) return STRATA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char day[11];
        strata_day_format((int32_t)(lo + (int64_t)i), day);
        memcpy(t->text[i], day, 10);
    }
    t->first = lo;
    t->n = n;
    return STRATA_OK;
}

void st_day_texts_clear(st_day_texts *t)
{
    st_free(t->text);
    memset(t, 0, sizeof *t);
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
 * where st_buf_double needs printf. Dates come from `days` when it holds them. */
static inline __attribute__((always_inline)) char *format_into(char *out, const st_value *v,
                                                               const st_day_texts *days)
{
    switch (v->type) {
    case ST_V_NULL: return out;
    case ST_V_INT:
        if ((uint64_t)v->i < 10) { /* most counts of most persons */
            *out = (char)('0' + v->i);
            return out + 1;
        }
        return st_fmt_i64(out, v->i);
    case ST_V_REAL: return st_fmt_double(out, v->d, v->digits);
    case ST_V_MONEY: return st_fmt_micros(out, v->i);
    case ST_V_DATE: {
        if (days && (uint64_t)(v->i - days->first) < days->n) {
            memcpy(out, days->text[v->i - days->first], 10);
            return out + 10;
        }
        char day[11];
        strata_day_format((int32_t)v->i, day);
        memcpy(out, day, 10);
        return out + 10;
    }
    case ST_V_TEXT:
    case ST_V_LABEL:
        /* labels and most ids are short: no memcpy call for each of the ten a row has */
        if (v->s.len <= 16)
            st_short_copy(out, v->s.ptr, v->s.len);
        else
            memcpy(out, v->s.ptr, v->s.len);
        return out + v->s.len;
    }
    return out;
}

strata_status st_value_format(st_buf *b, const st_value *v)
{
    if (v->type == ST_V_REAL) return st_buf_double(b, v->d, v->digits);
    size_t room = v->type == ST_V_TEXT || v->type == ST_V_LABEL ? v->s.len : ST_FMT_NUMBER_MAX;
    strata_status st = st_buf_reserve(b, room);
    if (st != STRATA_OK) return st;
    b->len = (size_t)(format_into(b->data + b->len, v, NULL) - b->data);
    b->data[b->len] = '\0';
    return STRATA_OK;
}

static bool csv_needs_quotes(st_sv s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == ',' || s.ptr[i] == '"' || s.ptr[i] == '\n' || s.ptr[i] == '\r') return true;
    return false;
}

/* One value into a row being written at out, with room reserved; NULL (and *st) when the
 * buffer could not grow. */
static inline __attribute__((always_inline)) char *put_csv_value(st_buf *b, char *out,
                                                                 const st_value *v, size_t room,
                                                                 const st_day_texts *days,
                                                                 strata_status *st)
{
    if ((v->type == ST_V_TEXT && csv_needs_quotes(v->s)) ||
        (v->type == ST_V_LABEL && v->s.len > ST_FMT_NUMBER_MAX)) {
        b->len = (size_t)(out - b->data);
        *st = v->type == ST_V_TEXT ? st_buf_csv_field(b, v->s.ptr, v->s.len)
                                   : st_buf_append(b, v->s.ptr, v->s.len);
        if (*st == STRATA_OK) *st = st_buf_reserve(b, room);
        return *st == STRATA_OK ? b->data + b->len : NULL;
    }
    char *end = format_into(out, v, days);
    if (!end) { /* a real number printf must write */
        b->len = (size_t)(out - b->data);
        if ((*st = st_buf_double(b, v->d, v->digits)) != STRATA_OK) return NULL;
        if ((*st = st_buf_reserve(b, room)) != STRATA_OK) return NULL;
        end = b->data + b->len;
    }
    return end;
}

strata_status st_profile_csv_row(st_buf *b, const st_profile_view *view, size_t p)
{
    /* numbers and dates fit ST_FMT_NUMBER_MAX; the two text columns are reserved at their
     * length (quoted ones go through st_buf_csv_field), longer labels through st_buf_append */
    const st_profile *r = &view->ps->rows[p];
    st_value v = {.type = ST_V_NULL};
    size_t room = COL__COUNT * (ST_FMT_NUMBER_MAX + 1) + 1;
    col_user_id(view, p, r, &v);
    room += v.s.len;
    v.type = ST_V_NULL;
    col_top_category(view, p, r, &v);
    if (v.type == ST_V_TEXT) room += v.s.len;
    strata_status st = st_buf_reserve(b, room);
    if (st != STRATA_OK) return st;
    char *out = b->data + b->len;
#define X(name)                                                                                    \
    if (COL_##name) *out++ = ',';                                                                  \
    v.type = ST_V_NULL;                                                                            \
    col_##name(view, p, r, &v);                                                                    \
    if (!(out = put_csv_value(b, out, &v, room, view->days, &st))) return st;
    PROFILE_COLUMNS(X)
#undef X
    *out++ = '\n';
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
    return STRATA_OK;
}
