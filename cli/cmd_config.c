/* cmd_config.c — `strata config`: every configuration key, its value and its meaning. */
#include "cli.h"

static const cli_option options[] = {CLI_COMMON_OPTIONS};
static const cli_command command = {
    "config", "strata config [--config FILE] [--set KEY=VALUE]...",
    "Print every configuration key as YAML, with its current value (defaults, then the file,\n"
    "then --set) and a comment saying what it does. The output is itself a valid config.",
    "  strata config > my.yaml\n"
    "  strata config --config examples/online_retail.yaml --set lang=zh\n",
    options, sizeof options / sizeof options[0], 0};

int cmd_config(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    strata_ctx *ctx;
    if ((code = cli_context("config", &p, &ctx)) != 0) return code;
    strata_status st = strata_config_dump(ctx, stdout);
    code = st == STRATA_OK ? 0 : cli_fail("config", ctx, st);
    strata_ctx_free(ctx);
    return code;
}
