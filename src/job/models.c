/*
 * models.c — the model stage of the batch job: lifetime value (BG/NBD + Gamma-Gamma),
 * churn (features at a cutoff, labels from the horizon after it, XGBoost or logistic) and
 * k-means clusters. Each model fills its profile columns and a summary section; a model that
 * cannot be fitted on this data (too few buyers, a single class) is skipped with the reason
 * in the summary instead of failing the run.
 *
 * Order matters: CLV first (value.source may be clv, and churn ranks persons worth saving by
 * it), then churn, then clusters.
 */
#include "core/config.h"
#include "job/job.h"
#include "models/churn.h"
#include "models/clv.h"
#include "models/kmeans.h"
#include "models/labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

static void skip(cJSON **section, const char *reason)
{
    cJSON_Delete(*section);
    *section = cJSON_CreateObject();
    if (*section) cJSON_AddStringToObject(*section, "skipped", reason);
}

/* ---- lifetime value ---- */

static strata_status run_clv(strata_job *job)
{
    strata_ctx *ctx = job->ctx;
    st_profiles *ps = &job->profiles;
    st_clv_unit unit = strcmp(st_cfg_str(ctx->config, ST_CFG_CLV_TIME_UNIT), "days") ? ST_CLV_WEEKS : ST_CLV_DAYS;
    double u = (double)unit;
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++) n += ps->rows[p].purchase_days > 0;
    st_clv_cbs cbs;
    strata_status st = st_clv_cbs_alloc(&cbs, n, true);
    if (st != STRATA_OK) return st;
    n = 0;
    for (size_t p = 0; p < ps->n; p++) {
        const st_profile *r = &ps->rows[p];
        if (r->purchase_days == 0) continue;
        cbs.person[n] = (uint32_t)p;
        cbs.x[n] = r->purchase_days - 1;
        cbs.t_x[n] = (r->last_order_day - r->first_order_day) / u;
        /* T runs to the end of the last day before the as-of date, so it is never 0 */
        cbs.T[n] = (ps->as_of_day - r->first_order_day) / u;
        cbs.m[n] = r->purchase_days > 1 ? (double)r->repeat_spend / 1e6 / (r->purchase_days - 1) : 0;
        n++;
    }
    /* the gradient test on the mean log-likelihood: 1e-6 is far below what moves any
     * prediction, and the default 1e-7 refuses well-converged fits on large samples */
    st_clv_fit_opts fit = {st_threads(ctx), 0, 1e-6};
    st_bgnbd model;
    st_gammagamma spend;
    st_clv_preds preds;
    memset(&preds, 0, sizeof preds);
    st = st_bgnbd_fit(ctx, cbs.x, cbs.t_x, cbs.T, cbs.n, &fit, &model);
    if (st == STRATA_EDATA || st == STRATA_EMODEL) {
        skip(&job->clv_section, strata_errmsg(ctx));
        st_clv_cbs_clear(&cbs);
        return STRATA_OK;
    }
    bool have_spend = false;
    if (st == STRATA_OK) {
        strata_status sst = st_gammagamma_fit(ctx, cbs.x, cbs.m, cbs.n, &fit, &spend);
        have_spend = sst == STRATA_OK;
        if (sst == STRATA_ENOMEM) st = sst;
    }
    st_clv_predict_opts opts;
    st_clv_predict_defaults(&opts, unit);
    opts.horizon = (double)st_cfg_int(ctx->config, ST_CFG_CLV_HORIZON_DAYS) / u;
    opts.months = (int)st_cfg_int(ctx->config, ST_CFG_CLV_MONTHS);
    opts.discount = st_cfg_num(ctx->config, ST_CFG_CLV_DISCOUNT_MONTHLY);
    opts.threads = st_threads(ctx);
    if (st == STRATA_OK) st = st_clv_predict(ctx, &model, have_spend ? &spend : NULL, &cbs, &opts, &preds);
    if (st == STRATA_OK) {
        for (size_t i = 0; i < cbs.n; i++) {
            st_profile *r = &ps->rows[cbs.person[i]];
            r->p_alive = preds.p_alive[i];
            r->exp_purchases = preds.exp_purchases[i];
            if (have_spend) r->exp_aov = preds.exp_aov[i], r->clv = preds.clv[i];
        }
        cJSON_Delete(job->clv_section);
        job->clv_section = st_clv_summary_json(&model, have_spend ? &spend : NULL, &cbs, &preds, &opts, NULL, unit);
        if (!job->clv_section) st = STRATA_ENOMEM;
        else if (!have_spend)
            cJSON_AddStringToObject(job->clv_section, "gamma_gamma_skipped", strata_errmsg(ctx));
    }
    st_clv_preds_clear(&preds);
    st_clv_cbs_clear(&cbs);
    return st;
}

/* ---- churn ---- */

/* The features of a person, all from the person's own rows before the day the profile was
 * built for. Names are profile columns or documented here. */
#define CHURN_FEATURES(X)                                                                      \
    X(recency_days, r->frequency ? r->recency_days : NAN)                                      \
    X(frequency, r->frequency)                                                                 \
    X(monetary, r->monetary / 1e6)                                                             \
    X(aov, r->frequency ? r->aov / 1e6 : NAN)                                                  \
    X(tenure_days, r->tenure_days == ST_NONE_I32 ? NAN : r->tenure_days)                       \
    X(purchase_interval_days, r->purchase_interval_days)                                       \
    X(refund_rate, r->refund_rate)                                                             \
    X(coupon_rate, r->coupon_rate)                                                             \
    X(category_count, r->category_count)                                                       \
    X(purchase_days, r->purchase_days)                                                         \
    X(orders_90, r->orders_90)                                                                 \
    X(monetary_90, r->monetary_90 / 1e6)                                                       \
    X(views, r->views)                                                                         \
    X(searches, r->searches)                                                                   \
    X(carts, r->carts)                                                                         \
    X(favorites, r->favorites)                                                                 \
    X(likes, r->likes)                                                                         \
    X(comments, r->comments)                                                                   \
    X(shares, r->shares)                                                                       \
    X(active_days_30, r->active_days_30)                                                       \
    X(active_days_90, r->active_days_90)                                                       \
    X(days_since_active, r->last_active_day == STRATA_DAY_NONE ? NAN : (double)(D - r->last_active_day))

static const char *const churn_feature_names[] = {
#define X(name, expr) #name,
    CHURN_FEATURES(X)
#undef X
};
#define NCHURN (sizeof churn_feature_names / sizeof churn_feature_names[0])

static void churn_row(float *out, const st_profile *r, int32_t D)
{
    size_t j = 0;
#define X(name, expr) out[j++] = (float)(expr);
    CHURN_FEATURES(X)
#undef X
}

static strata_status churn_data(st_churn_data *data, const st_profiles *ps, const uint32_t *who,
                                size_t n, const uint8_t *label)
{
    strata_status st = st_churn_data_init(data, n, NCHURN, label != NULL);
    for (size_t j = 0; j < NCHURN && st == STRATA_OK; j++)
        st = st_churn_data_set_feature(data, j, ST_CHURN_NUMERIC, churn_feature_names[j], NULL);
    if (st != STRATA_OK) return st;
    for (size_t i = 0; i < n; i++) {
        churn_row(data->x + i * NCHURN, &ps->rows[who[i]], ps->as_of_day);
        if (label) data->label[i] = label[i];
    }
    return STRATA_OK;
}

static strata_status worth_saving(strata_job *job, const double *prob, const uint32_t *who,
                                  size_t n, double high, cJSON *section)
{
    double *value = st_malloc((n + 1) * sizeof *value);
    size_t *rows = st_malloc(20 * sizeof *rows);
    if (!value || !rows) {
        st_free(value), st_free(rows);
        return STRATA_ENOMEM;
    }
    const st_profiles *ps = &job->profiles;
    bool by_clv = cJSON_GetObjectItemCaseSensitive(job->clv_section, "bgnbd") != NULL;
    for (size_t i = 0; i < n; i++) {
        const st_profile *r = &ps->rows[who[i]];
        value[i] = by_clv && isfinite(r->clv) ? r->clv : r->monetary / 1e6;
    }
    size_t k = st_churn_worth_saving(prob, value, n, high, 20, rows);
    cJSON *list = cJSON_AddArrayToObject(section, "worth_saving");
    cJSON_AddStringToObject(section, "worth_saving_value", by_clv ? "clv" : "monetary");
    for (size_t i = 0; list && i < k; i++) {
        const st_profile *r = &ps->rows[who[rows[i]]];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        st_sv id = st_intern_str(&job->ds.keys, job->identity.canonical_key[who[rows[i]]]);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)ST_MIN(id.len, 255), id.ptr);
        cJSON_AddStringToObject(o, "user_id", buf);
        cJSON_AddNumberToObject(o, "churn_prob", round(prob[rows[i]] * 1e4) / 1e4);
        cJSON_AddNumberToObject(o, "value", round(value[rows[i]] * 100) / 100);
        cJSON_AddStringToObject(o, "tier", st_vocab_key(ST_VOCAB_TIER, r->tier));
        cJSON_AddStringToObject(o, "rfm_segment", st_vocab_key(ST_VOCAB_SEGMENT, r->rfm_segment));
        cJSON_AddItemToArray(list, o);
    }
    st_free(value);
    st_free(rows);
    return STRATA_OK;
}

/* Persons with a valid order before the cutoff, their features as of the cutoff (from rows
 * before it only) and their labels: churned = no valid order in [cutoff, as-of). */
static strata_status cutoff_set(strata_job *job, int32_t cutoff, st_churn_data *data,
                                size_t *positives)
{
    st_profiles *ps = &job->profiles;
    st_profiles past;
    st_profiles_init(&past);
    strata_status st = st_profiles_build(&past, &job->ds, ps->n, &job->order_groups,
                                         &job->event_groups, job->attrs, cutoff, cutoff,
                                         st_threads(job->ctx));
    uint32_t *who = st_malloc((ps->n + 1) * sizeof *who);
    uint8_t *label = st_malloc(ps->n + 1);
    if (st == STRATA_OK && (!who || !label)) st = STRATA_ENOMEM;
    size_t n = 0;
    *positives = 0;
    for (size_t p = 0; p < ps->n && st == STRATA_OK; p++) {
        if (past.rows[p].frequency == 0) continue;
        who[n] = (uint32_t)p;
        label[n] = !(ps->rows[p].frequency > 0 && ps->rows[p].last_order_day >= cutoff);
        *positives += label[n];
        n++;
    }
    if (st == STRATA_OK) st = churn_data(data, &past, who, n, label);
    st_free(who);
    st_free(label);
    st_profiles_clear(&past);
    return st;
}

/* Every buyer and their features as of the as-of date. *who (caller frees) maps rows to
 * persons. */
static strata_status present_set(strata_job *job, st_churn_data *data, uint32_t **who_out,
                                 size_t *n_out)
{
    st_profiles *ps = &job->profiles;
    uint32_t *who = st_malloc((ps->n + 1) * sizeof *who);
    if (!who) return STRATA_ENOMEM;
    size_t m = 0;
    for (size_t p = 0; p < ps->n; p++)
        if (ps->rows[p].frequency > 0) who[m++] = (uint32_t)p;
    strata_status st = churn_data(data, ps, who, m, NULL);
    if (st != STRATA_OK) {
        st_free(who);
        return st;
    }
    *who_out = who;
    *n_out = m;
    return STRATA_OK;
}

/* A model made from a table has other features than the job's. */
static strata_status check_features(strata_ctx *ctx, const strata_churn_model *model)
{
    bool ok = st_churn_model_features(model) == NCHURN;
    for (size_t j = 0; ok && j < NCHURN; j++) {
        const st_churn_feature *f = st_churn_model_feature(model, j);
        ok = f->kind == ST_CHURN_NUMERIC && !strcmp(f->column, churn_feature_names[j]);
    }
    return ok ? STRATA_OK
              : st_error(ctx, STRATA_EMODEL, "the churn model was trained on other features "
                                             "(a table?); train it with `strata churn train --orders`");
}

static int32_t churn_cutoff(strata_job *job, int64_t *horizon)
{
    *horizon = st_cfg_int(job->ctx->config, ST_CFG_CHURN_HORIZON_DAYS);
    return st_churn_default_cutoff(job->profiles.as_of_day, (int32_t)*horizon);
}

/* Score the present, fill churn_prob / churn_risk, and the risk and worth-saving sections. */
static strata_status score_present(strata_job *job, const strata_churn_model *model,
                                   cJSON *section, double **prob_out, uint32_t **who_out,
                                   size_t *n_out)
{
    strata_ctx *ctx = job->ctx;
    double medium, high;
    strata_status st = st_churn_risk_thresholds(ctx, &medium, &high);
    if (st != STRATA_OK) return st;
    st_churn_data present;
    memset(&present, 0, sizeof present);
    uint32_t *who = NULL, *tier = NULL;
    double *prob = NULL;
    size_t m = 0;
    st = present_set(job, &present, &who, &m);
    if (st == STRATA_OK) {
        prob = st_malloc((m + 1) * sizeof *prob);
        tier = st_malloc((m + 1) * sizeof *tier);
        if (!prob || !tier) st = STRATA_ENOMEM;
    }
    if (st == STRATA_OK) st = st_churn_predict(ctx, model, present.x, m, NCHURN, prob);
    if (st == STRATA_OK) {
        for (size_t i = 0; i < m; i++) {
            st_profile *r = &job->profiles.rows[who[i]];
            r->churn_prob = prob[i];
            r->churn_risk = (uint8_t)(ST_CHURNRISK_LOW + st_churn_risk_of(prob[i], medium, high));
            tier[i] = r->tier ? (uint32_t)(r->tier - ST_TIER_T1) : 0;
        }
        char tier_text[5][3] = {"T1", "T2", "T3", "T4", "T5"};
        char *tier_names[5] = {tier_text[0], tier_text[1], tier_text[2], tier_text[3], tier_text[4]};
        cJSON *risk = st_churn_risk_json(prob, m, medium, high, tier, tier_names, 5);
        if (!risk) st = STRATA_ENOMEM;
        else cJSON_AddItemToObject(section, "present", risk);
    }
    if (st == STRATA_OK) st = worth_saving(job, prob, who, m, high, section);
    st_churn_data_clear(&present);
    st_free(tier);
    if (st == STRATA_OK && prob_out) {
        *prob_out = prob, *who_out = who, *n_out = m;
    } else {
        st_free(prob);
        st_free(who);
    }
    return st;
}

/* What `strata churn` prints needs to know what was measured: the command, the source and
 * the label definition. */
static void add_churn_context(const strata_job *job, cJSON *o, const char *command,
                              int32_t cutoff, int64_t horizon)
{
    char day[11], label[160];
    strata_day_format(cutoff, day);
    snprintf(label, sizeof label, "churned = no valid order in the %lld days after %s",
             (long long)horizon, day);
    cJSON_AddStringToObject(o, "command", command);
    cJSON_AddStringToObject(o, "table", job->inputs.orders ? job->inputs.orders : "");
    cJSON_AddStringToObject(o, "label", label);
    cJSON_AddStringToObject(o, "cutoff", day);
    cJSON_AddNumberToObject(o, "horizon_days", (double)horizon);
}

static strata_status run_churn(strata_job *job)
{
    strata_ctx *ctx = job->ctx;
    int64_t horizon = 0;
    int32_t cutoff = churn_cutoff(job, &horizon);
    if (horizon < 1 || horizon > 3650)
        return st_error(ctx, STRATA_ECONFIG, "churn.horizon_days must be between 1 and 3650");
    double medium, high;
    strata_status st = st_churn_risk_thresholds(ctx, &medium, &high);
    if (st != STRATA_OK) return st;
    st_churn_data train;
    memset(&train, 0, sizeof train);
    st_churn_fit_result fit;
    memset(&fit, 0, sizeof fit);
    strata_churn_model *model = NULL;
    size_t positives = 0;
    st = cutoff_set(job, cutoff, &train, &positives);
    if (st != STRATA_OK) goto done;
    size_t n = train.rows;
    if (n < 50 || positives < 10 || n - positives < 10) {
        char why[160];
        snprintf(why, sizeof why, "too few persons to train on: %zu with an order before the cutoff, %zu of them churned", n, positives);
        skip(&job->churn_section, why);
        goto done;
    }
    st_churn_params params;
    st_churn_params_default(ctx, &params);
    st = st_churn_fit(ctx, &train, &params, &fit);
    if (st == STRATA_EDATA || st == STRATA_EMODEL) {
        skip(&job->churn_section, strata_errmsg(ctx));
        st = STRATA_OK;
        goto done;
    }
    if (st != STRATA_OK) goto done;
    cJSON_Delete(job->churn_section);
    job->churn_section = st_churn_fit_summary_json(ctx, &train, &fit);
    if (!job->churn_section) {
        st = STRATA_ENOMEM;
        goto done;
    }
    add_churn_context(job, job->churn_section, "train", cutoff, horizon);
    cJSON_AddNumberToObject(job->churn_section, "seed", (double)params.seed);
    model = st_churn_fit_take_chosen(&fit);
    st = score_present(job, model, job->churn_section, NULL, NULL, NULL);
done:
    if (st == STRATA_OK && model) {
        strata_churn_model_free(job->churn_model);
        job->churn_model = model;
        model = NULL;
    }
    strata_churn_model_free(model);
    st_churn_fit_result_clear(&fit);
    st_churn_data_clear(&train);
    return st;
}

const strata_churn_model *strata_job_churn_model(const strata_job *job)
{
    return job->churn_model;
}

static strata_status json_out(cJSON *tree, char **out)
{
    char *text = tree ? cJSON_PrintUnformatted(tree) : NULL;
    cJSON_Delete(tree);
    if (!text) return STRATA_ENOMEM;
    *out = st_strdup(text);
    cJSON_free(text);
    return *out ? STRATA_OK : STRATA_ENOMEM;
}

strata_status strata_job_churn_eval(strata_job *job, const strata_churn_model *model,
                                    char **out_json)
{
    *out_json = NULL;
    strata_ctx *ctx = job->ctx;
    if (!job->ran) return st_error(ctx, STRATA_EINVAL, "the job has not run");
    strata_status st = check_features(ctx, model);
    if (st != STRATA_OK) return st;
    int64_t horizon = 0;
    int32_t cutoff = churn_cutoff(job, &horizon);
    st_churn_data data;
    memset(&data, 0, sizeof data);
    size_t positives = 0;
    double *prob = NULL;
    cJSON *out = NULL;
    st = cutoff_set(job, cutoff, &data, &positives);
    if (st == STRATA_OK && data.rows == 0)
        st = st_error(ctx, STRATA_EDATA, "nobody had a valid order before the cutoff");
    if (st == STRATA_OK && !(prob = st_malloc(data.rows * sizeof *prob))) st = STRATA_ENOMEM;
    if (st == STRATA_OK) st = st_churn_predict(ctx, model, data.x, data.rows, NCHURN, prob);
    cJSON *metrics = NULL;
    if (st == STRATA_OK)
        st = st_churn_metrics_json(prob, data.label, data.rows, st_churn_model_threshold(model), &metrics);
    if (st == STRATA_OK && !(out = cJSON_CreateObject())) st = STRATA_ENOMEM;
    if (st == STRATA_OK) {
        cJSON_AddStringToObject(metrics, "model", st_churn_kind_name(st_churn_model_kind(model)));
        cJSON_AddNumberToObject(metrics, "rows", (double)data.rows);
        cJSON_AddNumberToObject(metrics, "positives", (double)positives);
        add_churn_context(job, out, "eval", cutoff, horizon);
        cJSON_AddItemToObject(out, "metrics", metrics);
        metrics = NULL;
        cJSON *m = cJSON_AddObjectToObject(out, "model");
        cJSON_AddStringToObject(m, "kind", st_churn_kind_name(st_churn_model_kind(model)));
        st = json_out(out, out_json);
        out = NULL;
    }
    cJSON_Delete(metrics);
    cJSON_Delete(out);
    st_free(prob);
    st_churn_data_clear(&data);
    return st;
}

strata_status strata_job_churn_score(strata_job *job, const strata_churn_model *model,
                                     const char *out_csv, char **out_json)
{
    *out_json = NULL;
    strata_ctx *ctx = job->ctx;
    if (!job->ran) return st_error(ctx, STRATA_EINVAL, "the job has not run");
    strata_status st = check_features(ctx, model);
    if (st != STRATA_OK) return st;
    cJSON *section = cJSON_CreateObject();
    double *prob = NULL;
    uint32_t *who = NULL;
    size_t m = 0;
    st = section ? score_present(job, model, section, &prob, &who, &m) : STRATA_ENOMEM;
    FILE *f = NULL;
    if (st == STRATA_OK && !(f = st_fopen_new(out_csv)))
        st = st_error(ctx, STRATA_EIO, "%s: cannot write: %s", out_csv, strerror(errno));
    if (st == STRATA_OK) {
        st_buf b;
        st_buf_init(&b, 0);
        st_buf_puts(&b, "user_id,churn_prob,churn_risk\n");
        for (size_t i = 0; i < m && st == STRATA_OK; i++) {
            const st_profile *r = &job->profiles.rows[who[i]];
            st_sv id = st_intern_str(&job->ds.keys, job->identity.canonical_key[who[i]]);
            st = st_buf_csv_field(&b, id.ptr, id.len);
            if (st == STRATA_OK) st = st_buf_putc(&b, ',');
            if (st == STRATA_OK) st = st_buf_double(&b, prob[i], 4);
            if (st == STRATA_OK) st = st_buf_printf(&b, ",%s\n", st_vocab_key(ST_VOCAB_RISK, r->churn_risk));
            if (st == STRATA_OK && b.len > (1u << 20)) {
                if (fwrite(b.data, 1, b.len, f) != b.len) st = STRATA_EIO;
                st_buf_reset(&b);
            }
        }
        if (st == STRATA_OK && b.len && fwrite(b.data, 1, b.len, f) != b.len) st = STRATA_EIO;
        st_buf_clear(&b);
        if (st_fclose_new(f, out_csv, st == STRATA_OK) != 0 && st == STRATA_OK) st = STRATA_EIO;
        if (st == STRATA_EIO)
            st = st_error(ctx, st, "%s: write failed: %s", out_csv, strerror(errno));
    }
    if (st == STRATA_OK) {
        int64_t horizon = 0;
        double mean = 0;
        for (size_t i = 0; i < m; i++) mean += prob[i] / (double)m;
        add_churn_context(job, section, "score", churn_cutoff(job, &horizon), horizon);
        cJSON_AddStringToObject(section, "out", out_csv);
        cJSON_AddNumberToObject(section, "rows", (double)m);
        cJSON_AddNumberToObject(section, "mean_churn_prob", mean);
        cJSON *km = cJSON_AddObjectToObject(section, "model");
        cJSON_AddStringToObject(km, "kind", st_churn_kind_name(st_churn_model_kind(model)));
        cJSON *risk = cJSON_DetachItemFromObjectCaseSensitive(section, "present");
        if (risk) cJSON_AddItemToObject(section, "risk", risk);
        cJSON *ws = cJSON_GetObjectItemCaseSensitive(section, "worth_saving"), *row;
        cJSON_ArrayForEach(row, ws) cJSON_AddStringToObject(row, "id", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "user_id")));
        cJSON *vc = cJSON_DetachItemFromObjectCaseSensitive(section, "worth_saving_value");
        if (vc) cJSON_AddItemToObject(section, "value_column", vc);
        st = json_out(section, out_json);
        section = NULL;
    }
    cJSON_Delete(section);
    st_free(prob);
    st_free(who);
    return st;
}

/* ---- clusters ---- */

static strata_status run_clusters(strata_job *job)
{
    strata_ctx *ctx = job->ctx;
    st_profiles *ps = &job->profiles;
    const char *names[ST_KMEANS_MAX_D];
    int cols[ST_KMEANS_MAX_D], d = 0;
    for (const char *p = st_cfg_str(ctx->config, ST_CFG_CLUSTER_FEATURES); *p;) {
        const char *comma = strchr(p, ',');
        st_sv item = st_sv_trim(st_sv_make(p, comma ? (size_t)(comma - p) : strlen(p)));
        p += item.len + (size_t)(item.ptr - p) + (comma ? 1 : 0);
        if (comma) p = comma + 1;
        if (item.len == 0) continue;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)ST_MIN(item.len, 63), item.ptr);
        int c = st_profile_column_find(name);
        if (c < 0 || d == ST_KMEANS_MAX_D)
            return st_error(ctx, STRATA_ECONFIG, "cluster.features: '%s' is not a numeric profile column", name);
        names[d] = st_profile_column_name((size_t)c);
        cols[d++] = c;
    }
    if (d == 0) return st_error(ctx, STRATA_ECONFIG, "cluster.features is empty");
    st_profile_view view = st_job_view(job);
    double *rows = st_malloc((ps->n + 1) * (size_t)d * sizeof *rows);
    uint32_t *who = st_malloc((ps->n + 1) * sizeof *who);
    uint32_t *labels = st_malloc((ps->n + 1) * sizeof *labels);
    strata_status st = STRATA_ENOMEM;
    st_kmeans *model = NULL;
    if (!rows || !who || !labels) goto done;
    size_t n = 0;
    for (size_t p = 0; p < ps->n; p++) {
        bool ok = true;
        for (int j = 0; j < d && ok; j++) {
            st_value v;
            st_profile_column_value(&view, p, (size_t)cols[j], &v);
            if (v.type == ST_V_TEXT || v.type == ST_V_LABEL) {
                st = st_error(ctx, STRATA_ECONFIG, "cluster.features: '%s' is not numeric", names[j]);
                goto done;
            }
            double x = st_value_number(&v);
            ok = isfinite(x);
            rows[n * (size_t)d + (size_t)j] = x;
        }
        if (ok) who[n++] = (uint32_t)p; /* persons with an empty feature get no cluster */
    }
    st_kmeans_opts opts;
    st_kmeans_opts_default(&opts);
    opts.k = (int)st_cfg_int(ctx->config, ST_CFG_CLUSTER_K);
    opts.k_max = (int)st_cfg_int(ctx->config, ST_CFG_CLUSTER_K_MAX);
    opts.seed = (uint64_t)st_cfg_int(ctx->config, ST_CFG_CLUSTER_SEED);
    opts.threads = st_threads(ctx);
    st = st_kmeans_fit(ctx, rows, n, d, names, &opts, &model, labels);
    if (st == STRATA_EDATA || st == STRATA_EINVAL) {
        skip(&job->cluster_section, strata_errmsg(ctx));
        st = STRATA_OK;
        goto done;
    }
    if (st != STRATA_OK) goto done;
    for (size_t i = 0; i < n; i++) ps->rows[who[i]].cluster = (int32_t)labels[i];
    cJSON_Delete(job->cluster_section);
    job->cluster_section = st_kmeans_summary_json(model);
    if (!job->cluster_section) st = STRATA_ENOMEM;
    st_kmeans_free(job->clusters);
    job->clusters = model;
    model = NULL;
done:
    st_kmeans_free(model);
    st_free(rows);
    st_free(who);
    st_free(labels);
    return st;
}

strata_status st_job_models(strata_job *job, const double weights[3], const double cuts[4])
{
    strata_ctx *ctx = job->ctx;
    const st_config *cfg = ctx->config;
    strata_status st = STRATA_OK;
    bool clv_value = !strcmp(st_cfg_str(cfg, ST_CFG_VALUE_SOURCE), "clv");
    if (clv_value && !st_cfg_bool(cfg, ST_CFG_MODELS_CLV))
        return st_error(ctx, STRATA_ECONFIG, "value.source: clv needs models.clv: true");
    if (st_cfg_bool(cfg, ST_CFG_MODELS_CLV)) {
        st_progress(ctx, "lifetime value", 0, 1);
        st = run_clv(job);
        st_progress(ctx, "lifetime value", 1, 1);
        if (st != STRATA_OK) return st;
        if (clv_value) {
            if (!cJSON_GetObjectItemCaseSensitive(job->clv_section, "gamma_gamma"))
                return st_error(ctx, STRATA_EMODEL, "value.source: clv, but the CLV model could not be fitted on this data");
            st = st_value_tier(&job->profiles, weights, cuts, true, st_threads(job->ctx));
            if (st != STRATA_OK) return st;
        }
    }
    if (st_cfg_bool(cfg, ST_CFG_MODELS_CHURN)) {
        st_progress(ctx, "churn model", 0, 1);
        st = run_churn(job);
        st_progress(ctx, "churn model", 1, 1);
        if (st != STRATA_OK) return st;
    }
    if (st_cfg_bool(cfg, ST_CFG_MODELS_CLUSTERS)) {
        st_progress(ctx, "clusters", 0, 1);
        st = run_clusters(job);
        st_progress(ctx, "clusters", 1, 1);
    }
    return st;
}
