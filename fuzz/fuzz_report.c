/* fuzz_report.c — the report writer's JSON validation and escaping on arbitrary bytes: it
 * must accept valid JSON, refuse the rest with EPARSE (or ELIMIT), and never crash or leak.
 * The page goes to /dev/null. */
#include "report/report.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strata_ctx *ctx;
    if (strata_ctx_create(&ctx) != STRATA_OK) return 0;
    strata_status st = st_report_write(ctx, (const char *)data, size, size % 2 ? "zh" : "en", "/dev/null");
    if (st != STRATA_OK && st != STRATA_EPARSE && st != STRATA_ELIMIT && st != STRATA_ENOMEM) abort();
    strata_ctx_free(ctx);
    return 0;
}
