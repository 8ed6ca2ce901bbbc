/* job.c — the batch job (placeholder while the stages are being written). */
#include "core/core.h"

#define NOT_YET(ctx) st_error((ctx), STRATA_EINTERNAL, "the batch job is not implemented yet")

strata_status strata_job_create(strata_ctx *ctx, strata_job **out)
{
    *out = NULL;
    return NOT_YET(ctx);
}
void strata_job_free(strata_job *job)
{
    (void)job;
}
strata_status strata_job_run(strata_job *job, const strata_inputs *inputs, int32_t as_of_day,
                             const char *rejects_path)
{
    (void)job, (void)inputs, (void)as_of_day, (void)rejects_path;
    return STRATA_EINTERNAL;
}
#define OUT_STUB(name)                                                                         \
    strata_status name(strata_job *job, const char *path)                                      \
    {                                                                                          \
        (void)job, (void)path;                                                                 \
        return STRATA_EINTERNAL;                                                               \
    }
OUT_STUB(strata_job_write_profiles)
OUT_STUB(strata_job_write_summary)
OUT_STUB(strata_job_write_quality)
OUT_STUB(strata_job_store)
strata_status strata_job_write_report(strata_job *job, const char *path, const char *lang)
{
    (void)job, (void)path, (void)lang;
    return STRATA_EINTERNAL;
}
strata_status strata_job_summary_json(strata_job *job, char **out)
{
    (void)job, *out = NULL;
    return STRATA_EINTERNAL;
}
strata_status strata_job_summary_text(strata_job *job, const char *lang, char **out)
{
    (void)job, (void)lang, *out = NULL;
    return STRATA_EINTERNAL;
}
strata_status strata_store_profile_json(strata_ctx *ctx, const char *db_path, const char *user_id,
                                        int32_t as_of_day, char **out_json)
{
    (void)db_path, (void)user_id, (void)as_of_day, *out_json = NULL;
    return NOT_YET(ctx);
}
