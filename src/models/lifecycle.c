/*
 * lifecycle.c — rule-based labels: lifecycle stage, behaviour type, interaction level and
 * the "181" core level. Thresholds come from the lifecycle.*, behavior.*, interaction.* and
 * core.* configuration keys; the rules, in order (first match wins):
 *
 * lifecycle (buyers):   churned  recency_days > churned_days
 *                       silent   recency_days > silent_days
 *                       new      first valid order within new_days (D − first_order_day ≤ new_days)
 *                       mature   frequency ≥ mature_orders
 *                       growing  otherwise
 * lifecycle (prospects, by days since last activity): churned / silent as above, else new;
 *                       never active → churned.
 * behavior_type:        price_sensitive  coupon_rate ≥ behavior.coupon_rate
 *                       brand_loyal      frequency ≥ loyal_min_orders and top brand share of
 *                                        spend ≥ behavior.brand_share
 *                       decision_driven  (views + searches) / frequency ≥ browse_per_order
 *                       other            otherwise, and every prospect
 * interaction_level:    likes + comments + shares + favorites ≥ interaction.high → high,
 *                       ≥ interaction.medium → medium, else low
 * core_level ("181"):   activity = events + valid orders in the last 90 days. Nobody with
 *                       activity 0 is core. core if the share of persons with strictly higher
 *                       activity < core.top; browse if activity is 0 or the share with strictly
 *                       lower activity < core.bottom; normal otherwise.
 */
#include "core/config.h"
#include "models/labels.h"
#include "models/rfm.h"

#include <math.h>

/* The thresholds, read from the configuration once: parsing them per person showed in the
 * profile (strtod eight times a person). */
typedef struct label_rules {
    int64_t churned_days, silent_days, new_days, mature_orders, loyal_orders;
    int64_t interaction_high, interaction_medium;
    double coupon_rate, brand_share, browse_per_order;
} label_rules;

static label_rules rules_of(const st_config *cfg)
{
    return (label_rules){
        .churned_days = st_cfg_int(cfg, ST_CFG_LIFECYCLE_CHURNED_DAYS),
        .silent_days = st_cfg_int(cfg, ST_CFG_LIFECYCLE_SILENT_DAYS),
        .new_days = st_cfg_int(cfg, ST_CFG_LIFECYCLE_NEW_DAYS),
        .mature_orders = st_cfg_int(cfg, ST_CFG_LIFECYCLE_MATURE_ORDERS),
        .loyal_orders = st_cfg_int(cfg, ST_CFG_BEHAVIOR_LOYAL_ORDERS),
        .interaction_high = st_cfg_int(cfg, ST_CFG_INTERACTION_HIGH),
        .interaction_medium = st_cfg_int(cfg, ST_CFG_INTERACTION_MEDIUM),
        .coupon_rate = st_cfg_num(cfg, ST_CFG_BEHAVIOR_COUPON_RATE),
        .brand_share = st_cfg_num(cfg, ST_CFG_BEHAVIOR_BRAND_SHARE),
        .browse_per_order = st_cfg_num(cfg, ST_CFG_BEHAVIOR_BROWSE_PER_ORDER),
    };
}

static uint8_t lifecycle_of(const st_profile *p, int32_t D, const label_rules *r)
{
    if (p->frequency == 0) {
        if (p->last_active_day == STRATA_DAY_NONE) return ST_LC_CHURNED;
        int64_t idle = (int64_t)D - p->last_active_day;
        return idle > r->churned_days  ? ST_LC_CHURNED
               : idle > r->silent_days ? ST_LC_SILENT
                                       : ST_LC_NEW;
    }
    if (p->recency_days > r->churned_days) return ST_LC_CHURNED;
    if (p->recency_days > r->silent_days) return ST_LC_SILENT;
    if ((int64_t)D - p->first_order_day <= r->new_days) return ST_LC_NEW;
    if (p->frequency >= r->mature_orders) return ST_LC_MATURE;
    return ST_LC_GROWING;
}

static uint8_t behavior_of(const st_profile *p, const label_rules *r)
{
    if (p->frequency == 0) return ST_BT_OTHER;
    if (p->coupon_rate >= r->coupon_rate) return ST_BT_PRICE_SENSITIVE;
    if (p->frequency >= r->loyal_orders && isfinite(p->top_brand_share) &&
        p->top_brand_share >= r->brand_share)
        return ST_BT_BRAND_LOYAL;
    double browse = (double)(p->views + p->searches) / p->frequency;
    if (browse >= r->browse_per_order) return ST_BT_DECISION_DRIVEN;
    return ST_BT_OTHER;
}

static uint8_t interaction_of(const st_profile *p, const label_rules *r)
{
    uint64_t n = (uint64_t)p->likes + p->comments + p->shares + p->favorites;
    if (n >= (uint64_t)r->interaction_high) return ST_LV_HIGH;
    if (n >= (uint64_t)r->interaction_medium) return ST_LV_MEDIUM;
    return ST_LV_LOW;
}

strata_status st_behavior_labels(strata_ctx *ctx, st_profiles *ps)
{
    const st_config *cfg = ctx->config;
    double top = st_cfg_num(cfg, ST_CFG_CORE_TOP), bottom = st_cfg_num(cfg, ST_CFG_CORE_BOTTOM);
    if (top < 0 || top > 1 || bottom < 0 || bottom > 1)
        return st_error(ctx, STRATA_ECONFIG,
                        "core.top and core.bottom must be shares between 0 and 1");
    label_rules rules = rules_of(cfg);
    for (size_t i = 0; i < ps->n; i++) {
        st_profile *p = &ps->rows[i];
        p->lifecycle = lifecycle_of(p, ps->as_of_day, &rules);
        p->behavior_type = behavior_of(p, &rules);
        p->interaction_level = interaction_of(p, &rules);
    }
    /* core level: ranks of activity over all persons */
    size_t n = ps->n;
    int64_t *vals = st_malloc((n + 1) * sizeof *vals);
    uint32_t *below = st_malloc((n + 1) * sizeof *below);
    uint32_t *higher = st_malloc((n + 1) * sizeof *higher);
    strata_status st = STRATA_ENOMEM;
    if (!vals || !below || !higher) goto done;
    for (size_t i = 0; i < n; i++)
        vals[i] = ps->rows[i].activity_90;
    if ((st = st_rank_counts(vals, n, below, higher)) != STRATA_OK) goto done;
    for (size_t i = 0; i < n; i++) {
        st_profile *p = &ps->rows[i];
        double above = (double)higher[i] / (double)n, lower = (double)below[i] / (double)n;
        if (p->activity_90 > 0 && above < top)
            p->core_level = ST_CORE_CORE;
        else if (p->activity_90 == 0 || lower < bottom)
            p->core_level = ST_CORE_BROWSE;
        else
            p->core_level = ST_CORE_NORMAL;
    }
done:
    st_free(vals);
    st_free(below);
    st_free(higher);
    return st;
}
