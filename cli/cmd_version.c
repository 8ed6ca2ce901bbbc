/* cmd_version.c — `strata version`. */
#include "cli.h"

static const cli_option options[] = {{"--json", NULL, "print as JSON", false}};
static const cli_command command = {
    "version", "strata version [--json]", "Print the version of strata.",
    "  strata version\n", options, 1, 0};

int cmd_version(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    if (cli_has(&p, "--json")) printf("{\"version\":\"%s\"}\n", STRATA_VERSION);
    else printf("strata %s\n", STRATA_VERSION);
    return 0;
}
