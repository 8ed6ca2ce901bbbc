/*
 * job.h — the batch job's state (private to src/job/): one strata_job holds every stage's
 * output for one run, in data-flow order. job.c runs the stages; summary.c builds
 * summary.json and the human summary; output.c writes profiles.csv and quality.json.
 */
#ifndef ST_JOB_H
#define ST_JOB_H

#include "identity/identity.h"
#include "ingest/clean.h"
#include "ingest/ingest.h"
#include "models/rfm.h"
#include "profile/columns.h"
#include "profile/profile.h"

#include <cjson/cJSON.h>

struct strata_job {
    strata_ctx *ctx;
    strata_inputs inputs; /* paths borrowed from the caller for the job's lifetime */
    int32_t as_of_day;
    double started_at; /* wall clock, seconds since the epoch */
    double seconds[8]; /* stage timings */
    st_dataset ds;
    st_identity identity;
    st_grouping order_groups, event_groups;
    st_user_attrs *attrs;
    st_outlier_report outliers;
    st_profiles profiles;
    st_rfm_means means;
    /* models: summary sections (or {"skipped": reason}) and the fitted models */
    cJSON *clv_section, *churn_section, *cluster_section;
    struct strata_churn_model *churn_model;
    struct st_kmeans *clusters;
    cJSON *summary; /* cached by st_job_summary */
    struct profile_sums *sums; /* its one pass over the profiles, for the human summary too */
    bool ran;
};

enum {
    ST_STAGE_LOAD,
    ST_STAGE_IDENTITY,
    ST_STAGE_CLEAN,
    ST_STAGE_PROFILE,
    ST_STAGE_SCORE,
    ST_STAGE_MODELS
};

st_profile_view st_job_view(const strata_job *job);
/* CLV, churn and clusters (models.c), after RFM and tiers. */
strata_status st_job_models(strata_job *job, const double weights[3], const double cuts[4]);
/* summary.json as a cJSON tree, built on first use after the run. Borrowed from job; NULL on
 * ENOMEM. */
const cJSON *st_job_summary(strata_job *job);
/* quality.json as a cJSON tree. */
cJSON *st_job_quality(const strata_job *job);
/* Write a cJSON tree to a file, pretty-printed. */
strata_status st_write_json(strata_ctx *ctx, const cJSON *tree, const char *path);
/* text and a newline to path; STRATA_EIO names the path */
strata_status st_write_text(strata_ctx *ctx, const char *text, const char *path);
/* {name: section}, shaped like summary.json; takes section (freed on failure); NULL on ENOMEM */
cJSON *st_json_wrap(const char *name, cJSON *section);
/* compact JSON text of tree, freed with strata_free(); NULL on ENOMEM or a NULL tree */
char *st_json_text(const cJSON *tree);
double st_wall_seconds(void);

#endif
