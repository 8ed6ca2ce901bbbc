/*
 * status.c — the status table (generated from STRATA_STATUS_MAP in strata.h) and the
 * context: last error text, progress callback, thread count, configuration.
 */
#include "core/core.h"
#include "core/config.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

typedef struct status_row {
    strata_status code;
    const char *name, *message;
    int exit_code, http;
} status_row;

static const status_row status_rows[] = {
#define ROW(name, num, msg, exit_code, http) {STRATA_##name, #name, msg, exit_code, http},
    STRATA_STATUS_MAP(ROW)
#undef ROW
};

static const status_row *status_find(strata_status status)
{
    for (size_t i = 0; i < ST_ARRAY_LEN(status_rows); i++)
        if (status_rows[i].code == status) return &status_rows[i];
    return NULL;
}

const char *strata_status_name(strata_status status)
{
    const status_row *r = status_find(status);
    return r ? r->name : "EUNKNOWN";
}

const char *strata_status_message(strata_status status)
{
    const status_row *r = status_find(status);
    return r ? r->message : "unknown error";
}

int strata_status_exit_code(strata_status status)
{
    const status_row *r = status_find(status);
    return r ? r->exit_code : 70;
}

int strata_status_http(strata_status status)
{
    const status_row *r = status_find(status);
    return r ? r->http : 500;
}

/* JSON documents (summaries, model sections) are allocated by cJSON; routing it through the
 * counting allocator keeps the memory figures and the fault-injection tests complete. */
static pthread_once_t json_hooks_once = PTHREAD_ONCE_INIT;

static void install_json_hooks(void)
{
    cJSON_Hooks hooks = {st_malloc, st_free};
    cJSON_InitHooks(&hooks);
}

strata_status strata_ctx_create(strata_ctx **out)
{
    pthread_once(&json_hooks_once, install_json_hooks);
    *out = NULL;
    strata_ctx *ctx = st_calloc(1, sizeof *ctx);
    if (!ctx) return STRATA_ENOMEM;
    strata_status st = st_config_create(&ctx->config);
    if (st != STRATA_OK) {
        st_free(ctx);
        return st;
    }
    *out = ctx;
    return STRATA_OK;
}

void strata_ctx_free(strata_ctx *ctx)
{
    if (!ctx) return;
    st_config_free(ctx->config);
    st_free(ctx);
}

const char *strata_errmsg(const strata_ctx *ctx)
{
    return ctx ? ctx->errmsg : "no context";
}

strata_status st_error(strata_ctx *ctx, strata_status status, const char *fmt, ...)
{
    if (!ctx) return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

void strata_set_progress(strata_ctx *ctx, strata_progress_fn fn, void *user_data)
{
    ctx->progress = fn;
    ctx->progress_ud = user_data;
}

void st_progress(strata_ctx *ctx, const char *stage, uint64_t done, uint64_t total)
{
    if (ctx && ctx->progress) ctx->progress(ctx->progress_ud, stage, done, total);
}

void strata_set_threads(strata_ctx *ctx, unsigned threads)
{
    ctx->threads = threads;
}

unsigned st_threads(const strata_ctx *ctx)
{
    if (ctx && ctx->threads) return ctx->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)ST_MIN(n, 64) : 1;
}
