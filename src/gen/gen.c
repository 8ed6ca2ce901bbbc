/* gen.c — synthetic data generator (placeholder until implemented). */
#include "core/core.h"

strata_status strata_gen(strata_ctx *ctx, const strata_gen_opts *opts)
{
    (void)opts;
    return st_error(ctx, STRATA_EINTERNAL, "strata gen is not implemented yet");
}
