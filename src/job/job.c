/*
 * job.c — the batch job: ingest → clean → identity → profile → RFM/tiers/labels, in that
 * order, each stage timed. The job owns every stage's output until strata_job_free().
 */
#include "job/job.h"
#include "core/config.h"
#include "models/churn.h"
#include "models/kmeans.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

double st_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

strata_status strata_job_create(strata_ctx *ctx, strata_job **out)
{
    *out = NULL;
    strata_job *job = st_calloc(1, sizeof *job);
    if (!job) return STRATA_ENOMEM;
    job->ctx = ctx;
    job->as_of_day = STRATA_DAY_NONE;
    st_dataset_init(&job->ds);
    st_identity_init(&job->identity);
    st_profiles_init(&job->profiles);
    *out = job;
    return STRATA_OK;
}

static void *release_first_half(void *ds)
{
    st_vmrows_release(&((st_dataset *)ds)->orders.vm, 0, 2);
    return NULL;
}

void strata_job_free(strata_job *job)
{
    if (!job) return;
    /* half the order rows' pages go back on a thread of its own while the other half and the
     * rest are freed here: returning 10M rows (400 MB) and the profiles (180 MB) one after
     * the other kept one core busy for ~0.05 s at the end of a run while the other idled */
    pthread_t rows_freer;
    bool freeing = job->ds.orders.vm.base &&
                   pthread_create(&rows_freer, NULL, release_first_half, &job->ds) == 0;
    if (freeing) st_vmrows_release(&job->ds.orders.vm, 1, 2);
    st_identity_clear(&job->identity);
    st_grouping_clear(&job->order_groups);
    st_grouping_clear(&job->event_groups);
    st_free(job->attrs);
    st_profiles_clear(&job->profiles);
    if (freeing) pthread_join(rows_freer, NULL);
    st_tz_free(job->ds.tz);
    st_dataset_clear(&job->ds);
    cJSON_Delete(job->summary);
    st_free(job->sums);
    cJSON_Delete(job->clv_section);
    cJSON_Delete(job->churn_section);
    cJSON_Delete(job->cluster_section);
    strata_churn_model_free(job->churn_model);
    st_kmeans_free(job->clusters);
    st_free(job);
}

int32_t strata_job_as_of(const strata_job *job)
{
    return job->as_of_day;
}

size_t strata_job_person_count(const strata_job *job)
{
    return job->profiles.n;
}

strata_status strata_job_save_models(strata_job *job, const char *dir)
{
    char path[4096];
    strata_status st = STRATA_OK;
    if (job->churn_model) {
        snprintf(path, sizeof path, "%s/churn_model.bin", dir);
        st = strata_churn_model_save(job->ctx, job->churn_model, path);
    }
    if (st == STRATA_OK && job->clusters) {
        snprintf(path, sizeof path, "%s/clusters.json", dir);
        st = st_kmeans_save(job->ctx, job->clusters, path);
    }
    return st;
}

st_profile_view st_job_view(const strata_job *job)
{
    st_profile_view v = {&job->profiles, &job->ds.keys, job->identity.canonical_key,
                         &job->ds.categories, NULL};
    return v;
}

/* Weights and tier cuts from the configuration, validated. */
static strata_status scoring_config(strata_ctx *ctx, double weights[3], double cuts[4])
{
    const st_config *cfg = ctx->config;
    weights[0] = st_cfg_num(cfg, ST_CFG_RFM_WEIGHT_R);
    weights[1] = st_cfg_num(cfg, ST_CFG_RFM_WEIGHT_F);
    weights[2] = st_cfg_num(cfg, ST_CFG_RFM_WEIGHT_M);
    double sum = weights[0] + weights[1] + weights[2];
    if (weights[0] < 0 || weights[1] < 0 || weights[2] < 0 || fabs(sum - 1.0) > 1e-9)
        return st_error(ctx, STRATA_ECONFIG,
                        "rfm.weights r, f, m must be non-negative and sum to 1 (they sum to %g)", sum);
    int n = st_cfg_list_nums(cfg, ST_CFG_TIERS_CUTS, cuts, 4);
    bool ok = n == 4;
    for (int i = 0; ok && i < 4; i++) ok = cuts[i] > 0 && cuts[i] <= 1 && (i == 0 || cuts[i] > cuts[i - 1]);
    if (!ok)
        return st_error(ctx, STRATA_ECONFIG,
                        "tiers.cuts must be four increasing shares in (0, 1], e.g. 0.05,0.20,0.50,0.80");
    return STRATA_OK;
}

typedef struct label_job {
    strata_ctx *ctx;
    st_profiles *profiles;
    strata_status status;
} label_job;

static void *touch_thread(void *arg)
{
    st_profiles *ps = arg;
    st_memory_touch(ps->rows, ps->cap * sizeof *ps->rows);
    return NULL;
}

static void *label_thread(void *arg)
{
    label_job *j = arg;
    j->status = st_behavior_labels(j->ctx, j->profiles);
    return NULL;
}

static strata_status load_inputs(strata_job *job, const strata_inputs *in)
{
    const char *paths[ST_IN__COUNT] = {in->orders, in->events, in->users, in->identities};
    for (int k = 0; k < ST_IN__COUNT; k++) {
        if (!paths[k]) continue;
        strata_status st = st_dataset_load(job->ctx, &job->ds, (st_input_kind)k, paths[k]);
        if (st != STRATA_OK) return st;
    }
    return STRATA_OK;
}

strata_status strata_job_run(strata_job *job, const strata_inputs *in, int32_t as_of_day,
                             const char *rejects_path)
{
    strata_ctx *ctx = job->ctx;
    if (job->ran) return st_error(ctx, STRATA_EINVAL, "a job runs once; create a new one");
    if (!in || !in->orders) return st_error(ctx, STRATA_EINVAL, "an orders file is required");
    job->ran = true;
    job->inputs = *in;
    job->started_at = st_wall_seconds();
    double weights[3], cuts[4];
    strata_status st = scoring_config(ctx, weights, cuts);
    if (st != STRATA_OK) return st;
    unsigned threads = st_threads(ctx);

    double t = mono();
    if ((st = load_inputs(job, in)) != STRATA_OK) return st;
    job->seconds[ST_STAGE_LOAD] = mono() - t, t = mono();

    /* exact duplicates of users and links are keyed by raw id: drop them before identity */
    st = st_dedupe_users(&job->ds);
    if (st == STRATA_OK) st = st_dedupe_links(&job->ds);
    if (st != STRATA_OK) return st_error(ctx, st, "removing duplicate users and links: out of memory");
    int64_t max_links = st_cfg_int(ctx->config, ST_CFG_IDENT_MAX_LINKS);
    if (max_links < 0) return st_error(ctx, STRATA_ECONFIG, "identity.max_links must be ≥ 0");
    st = st_identity_resolve(&job->ds, (uint32_t)ST_MIN(max_links, (int64_t)UINT32_MAX), &job->identity);
    if (st != STRATA_OK) return st_error(ctx, st, "identity resolution: out of memory");
    st_identity_apply(&job->identity, &job->ds, threads);
    size_t npersons = job->identity.npersons;
    job->seconds[ST_STAGE_IDENTITY] = mono() - t, t = mono();

    /* the profile array is allocated now and its pages faulted in on a thread of its own: the
     * top of the person sort (clean.c) keeps only one core busy meanwhile */
    if (st_profiles_reserve(&job->profiles, npersons) != STRATA_OK)
        return st_error(ctx, STRATA_ENOMEM, "profiles: out of memory");
    pthread_t toucher;
    bool touching =
        threads > 1 && pthread_create(&toucher, NULL, touch_thread, &job->profiles) == 0;
    st_progress(ctx, "cleaning", 0, 3);
    job->as_of_day = as_of_day;
    st = st_clean_orders(ctx, &job->ds, npersons, &job->as_of_day, &job->order_groups, &job->outliers);
    if (touching) pthread_join(toucher, NULL);
    if (st == STRATA_OK) st = st_clean_events(&job->ds, npersons, job->as_of_day, &job->event_groups, threads);
    if (st == STRATA_OK) st = st_merge_users(&job->ds, npersons, &job->attrs);
    if (st == STRATA_ENOMEM) return st_error(ctx, st, "cleaning: out of memory");
    if (st != STRATA_OK) return st;
    st_progress(ctx, "cleaning", 3, 3);
    if (rejects_path && (st = st_dataset_write_rejects(ctx, &job->ds, rejects_path)) != STRATA_OK)
        return st;
    job->seconds[ST_STAGE_CLEAN] = mono() - t, t = mono();

    st_progress(ctx, "profiles", 0, npersons);
    st = st_profiles_build(&job->profiles, &job->ds, npersons, &job->order_groups,
                           &job->event_groups, job->attrs, job->as_of_day, STRATA_DAY_NONE, threads);
    if (st != STRATA_OK) return st_error(ctx, st, "building profiles: out of memory");
    st_progress(ctx, "profiles", npersons, npersons);
    job->seconds[ST_STAGE_PROFILE] = mono() - t, t = mono();

    /* the rule labels read profile fields the scores never write: on a thread of their own
     * meanwhile (their activity rank is a sort as long as each of the r/f/m ones) */
    label_job labels = {ctx, &job->profiles, STRATA_OK};
    pthread_t labeler;
    bool labeling = threads > 1 && pthread_create(&labeler, NULL, label_thread, &labels) == 0;
    st = st_rfm_score(&job->profiles, &job->means, threads);
    if (st == STRATA_OK) st = st_value_tier(&job->profiles, weights, cuts, false, threads);
    if (labeling)
        pthread_join(labeler, NULL);
    else
        label_thread(&labels);
    if (st == STRATA_OK) st = labels.status;
    if (st == STRATA_ENOMEM) return st_error(ctx, st, "scoring: out of memory");
    job->seconds[ST_STAGE_SCORE] = mono() - t, t = mono();
    if (st == STRATA_OK) st = st_job_models(job, weights, cuts);
    if (st == STRATA_ENOMEM) return st_error(ctx, st, "models: out of memory");
    job->seconds[ST_STAGE_MODELS] = mono() - t;
    return st;
}
