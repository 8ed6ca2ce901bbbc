/*
 * tool_clv.c — `strata clv fit|predict` as one library call: read a calibration summary or
 * a transaction log, fit BG/NBD and Gamma-Gamma, compare with a holdout when there is one,
 * optionally predict and write every person's values, and hand back the summary JSON, the
 * readable report and the warnings. The CLI only parses options and prints.
 */
#include "job/job.h"
#include "models/clv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct fitted {
    st_bgnbd bg;
    st_gammagamma gg;
    bool has_gg;
    st_clv_holdout holdout;
    bool has_holdout;
} fitted;

/* The input named by o; *duration is the holdout length in units when one is known. */
static strata_status read_input(strata_ctx *ctx, const strata_clv_opts *o, st_clv_unit unit,
                                st_clv_data *data, double *duration, st_buf *warn)
{
    strata_status st;
    *duration = 0;
    if (!!o->cbs_path == !!o->elog_path)
        return st_error(ctx, STRATA_EINVAL,
                        "give either a calibration summary or a transaction log");
    if (o->cbs_path) {
        *duration = o->holdout_length > 0 ? o->holdout_length : 0;
        st = st_clv_read_cbs(ctx, o->cbs_path, data);
        if (st == STRATA_OK && *duration > 0 && !data->has_x_star)
            return st_error(ctx, STRATA_EDATA, "a holdout length needs an x_star column in %s",
                            o->cbs_path);
    } else {
        if (o->calibration_end == STRATA_DAY_NONE)
            return st_error(ctx, STRATA_EINVAL, "a transaction log needs the calibration end");
        st_clv_elog_opts eo = {o->id_column,       o->date_column, o->amount_column,
                               o->calibration_end, o->holdout_end, unit};
        st = st_clv_read_elog(ctx, o->elog_path, &eo, data);
        if (o->holdout_end != STRATA_DAY_NONE)
            *duration = (double)(o->holdout_end - o->calibration_end) / (double)unit;
    }
    if (st != STRATA_OK) return st;
    if (data->skipped &&
        (st = st_buf_printf(warn, "%zu rows with empty values skipped (first at line %llu)\n",
                            data->skipped, (unsigned long long)data->first_skipped_line)) !=
            STRATA_OK)
        return st;
    if (data->cbs.n_late)
        st = st_buf_printf(
            warn, "%zu persons whose first purchase is after the calibration end left out\n",
            data->cbs.n_late);
    return st;
}

static strata_status fit_models(strata_ctx *ctx, const st_clv_data *data, double duration,
                                fitted *f, st_buf *warn)
{
    memset(f, 0, sizeof *f);
    const st_clv_cbs *c = &data->cbs;
    strata_status st = st_bgnbd_fit(ctx, c->x, c->t_x, c->T, c->n, NULL, &f->bg);
    if (st != STRATA_OK) return st;
    if (data->has_m) {
        st = st_gammagamma_fit(ctx, c->x, c->m, c->n, NULL, &f->gg);
        if (st == STRATA_OK)
            f->has_gg = true;
        else if ((st = st_buf_printf(warn, "no spend model, so no exp_aov or clv: %s\n",
                                     strata_errmsg(ctx))) != STRATA_OK)
            return st; /* a purchase model without a spend model is still useful: go on */
    }
    if (duration > 0 && data->has_x_star) {
        if ((st = st_clv_holdout_table(ctx, &f->bg, c, duration, &f->holdout)) != STRATA_OK)
            return st;
        f->has_holdout = true;
    }
    return STRATA_OK;
}

static strata_status text_of(st_buf *b, const st_clv_data *data, const fitted *f, st_clv_unit unit,
                             const st_clv_preds *preds)
{
    strata_status st = STRATA_OK;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (st == STRATA_OK) st = st_buf_printf(b, __VA_ARGS__);                                   \
    } while (0)
    const char *u = unit == ST_CLV_WEEKS ? "weeks" : "days";
    PUT("BG/NBD: %zu persons, time in %s\n", f->bg.n, u);
    PUT("  r %.4f   alpha %.4f   a %.4f   b %.4f\n", f->bg.r, f->bg.alpha, f->bg.a, f->bg.b);
    PUT("  log-likelihood %.4f  (%d iterations, %d of %d starts converged)\n", f->bg.ll,
        f->bg.iterations, f->bg.starts_converged, f->bg.starts);
    if (f->has_gg) {
        PUT("Gamma-Gamma: %zu persons with repeat purchases", f->gg.n);
        if (f->gg.n_excluded) PUT(" (%zu with spend <= 0 left out)", f->gg.n_excluded);
        PUT("\n  p %.4f   q %.4f   gamma %.4f   log-likelihood %.4f\n", f->gg.p, f->gg.q,
            f->gg.gamma, f->gg.ll);
        PUT("  population mean order value %.4f\n", f->gg.p * f->gg.gamma / (f->gg.q - 1));
    }
    if (f->has_holdout) {
        const st_clv_holdout *h = &f->holdout;
        PUT("Holdout, %g %s: repeat purchases per person by calibration frequency\n", h->duration,
            u);
        PUT("  %-4s %9s %9s %10s\n", "x", "persons", "actual", "predicted");
        for (int g = 0; g < ST_CLV_GROUPS; g++) {
            if (!h->persons[g]) continue;
            char label[8];
            snprintf(label, sizeof label, g == ST_CLV_GROUPS - 1 ? "%d+" : "%d", g);
            PUT("  %-4s %9zu %9.3f %10.3f\n", label, h->persons[g], h->actual_mean[g],
                h->predicted_mean[g]);
        }
        PUT("  %-4s %9zu %9.1f %10.1f  (totals)\n", "all", data->cbs.n, h->actual_total,
            h->predicted_total);
    }
    if (preds) {
        double alive = 0, e = 0, clv = 0;
        for (size_t i = 0; i < preds->n; i++) {
            alive += preds->p_alive[i];
            e += preds->exp_purchases[i];
            if (preds->clv) clv += preds->clv[i];
        }
        PUT("Predictions: %zu persons, mean P(alive) %.3f, expected purchases %.1f", preds->n,
            preds->n ? alive / (double)preds->n : 0, e);
        if (preds->clv) PUT(", total CLV %.2f", clv);
        PUT("\n");
    }
#undef PUT
    return st;
}

/* {"clv": ...}, shaped like summary.json so `strata report --summary` renders it. */
static cJSON *summary_of(const st_clv_data *data, const fitted *f, st_clv_unit unit,
                         const st_clv_preds *preds, const st_clv_predict_opts *po)
{
    cJSON *j = st_clv_summary_json(&f->bg, f->has_gg ? &f->gg : NULL, &data->cbs, preds, po,
                                   f->has_holdout ? &f->holdout : NULL, unit);
    cJSON *input = j ? cJSON_CreateObject() : NULL;
    if (input && cJSON_AddItemToObject(j, "input", input)) {
        cJSON_AddNumberToObject(input, "persons", (double)data->cbs.n);
        cJSON_AddNumberToObject(input, "rows_skipped", (double)data->skipped);
        cJSON_AddNumberToObject(input, "persons_after_calibration", (double)data->cbs.n_late);
        if (data->transactions)
            cJSON_AddNumberToObject(input, "transactions", (double)data->transactions);
    } else {
        cJSON_Delete(input);
    }
    return st_json_wrap("clv", j);
}

strata_status strata_clv_run(strata_ctx *ctx, const strata_clv_opts *o, char **out_json,
                             char **out_text, char **out_warnings)
{
    *out_json = *out_text = *out_warnings = NULL;
    st_clv_unit unit = o->weeks ? ST_CLV_WEEKS : ST_CLV_DAYS;
    st_clv_predict_opts po;
    st_clv_predict_defaults(&po, unit);
    if (!isnan(o->horizon)) po.horizon = o->horizon;
    if (o->months >= 0) po.months = o->months;
    if (!isnan(o->month_length)) po.month_length = o->month_length;
    if (!isnan(o->discount)) po.discount = o->discount;
    bool predict = o->predictions_path != NULL;

    st_clv_data data;
    memset(&data, 0, sizeof data);
    fitted f;
    st_clv_preds preds;
    memset(&preds, 0, sizeof preds);
    st_buf warn, text;
    st_buf_init(&warn, 0);
    st_buf_init(&text, 0);
    double duration;
    strata_status st = read_input(ctx, o, unit, &data, &duration, &warn);
    if (st == STRATA_OK) st = fit_models(ctx, &data, duration, &f, &warn);
    if (st == STRATA_OK && predict) {
        st = st_clv_predict(ctx, &f.bg, f.has_gg ? &f.gg : NULL, &data.cbs, &po, &preds);
        if (st == STRATA_OK) st = st_clv_write_predictions(ctx, o->predictions_path, &data, &preds);
    }
    if (st == STRATA_OK) {
        cJSON *summary = summary_of(&data, &f, unit, predict ? &preds : NULL, predict ? &po : NULL);
        if (!(*out_json = st_json_text(summary))) st = STRATA_ENOMEM;
        cJSON_Delete(summary);
    }
    if (st == STRATA_OK && o->summary_path) st = st_write_text(ctx, *out_json, o->summary_path);
    if (st == STRATA_OK) st = text_of(&text, &data, &f, unit, predict ? &preds : NULL);
    if (st == STRATA_OK && !(*out_text = st_buf_take(&text))) st = STRATA_ENOMEM;
    if (st != STRATA_OK) {
        strata_free(*out_json);
        *out_json = NULL;
    }
    /* warnings even on failure: they say what was read before it */
    *out_warnings = warn.len ? st_buf_take(&warn) : NULL;
    st_buf_clear(&warn);
    st_buf_clear(&text);
    st_clv_preds_clear(&preds);
    st_clv_data_clear(&data);
    return st;
}
