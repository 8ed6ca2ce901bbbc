/* fuzz_config.c — the YAML configuration loader on arbitrary bytes: it must return OK or
 * ECONFIG with a message naming a position, never crash or leak; every key it accepts must
 * read back through the typed getters. */
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strata_ctx *ctx;
    if (strata_ctx_create(&ctx) != STRATA_OK) return 0;
    strata_status st = st_config_load_buffer(ctx, "fuzz.yaml", (const char *)data, size);
    if (st != STRATA_OK && st != STRATA_ECONFIG && st != STRATA_ENOMEM) abort();
    if (st == STRATA_ECONFIG && strncmp(strata_errmsg(ctx), "fuzz.yaml", 9) != 0) abort();
    for (int k = 0; k < ST_CFG__COUNT; k++) {
        const char *v = st_cfg_str(ctx->config, (st_cfg_key)k);
        if (!v) abort();
        (void)st_cfg_int(ctx->config, (st_cfg_key)k);
        (void)st_cfg_num(ctx->config, (st_cfg_key)k);
        (void)st_cfg_bool(ctx->config, (st_cfg_key)k);
        double nums[8];
        (void)st_cfg_list_nums(ctx->config, (st_cfg_key)k, nums, 8);
    }
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) {
        strata_config_dump(ctx, devnull);
        fclose(devnull);
    }
    strata_ctx_free(ctx);
    return 0;
}
