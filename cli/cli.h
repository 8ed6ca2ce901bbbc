/*
 * cli.h — shared plumbing of the `strata` program: the command table, option parsing with
 * generated --help, the terminal progress bar and output helpers. Commands use only
 * strata.h beyond this file.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include "strata.h"

#include <stdbool.h>
#include <stdio.h>

#define X(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef X

/* One option of a command. takes_value: "--x VALUE" or "--x=VALUE"; repeatable options
 * collect every value. */
typedef struct cli_option {
    const char *name;  /* "--orders" */
    const char *value; /* metavariable shown in help ("FILE"), NULL for a flag */
    const char *help;
    bool repeatable;
} cli_option;

#define CLI_MAX_VALUES 64
#define CLI_MAX_POSITIONAL 16

typedef struct cli_parsed {
    const cli_option *options;
    int noptions;
    const char *values[64][CLI_MAX_VALUES];
    int nvalues[64];
    const char *positional[CLI_MAX_POSITIONAL];
    int npositional;
} cli_parsed;

typedef struct cli_command {
    const char *name;     /* "run" */
    const char *synopsis; /* "strata run --orders FILE [options]" */
    const char *description;
    const char *examples; /* shown under "Examples:" */
    const cli_option *options;
    int noptions;
    int max_positional;
} cli_command;

/* Parse argv (argv[0] = command name). Prints help and returns 0 in *exit_code for --help;
 * prints the error and returns 64 for bad usage. Returns true when the command should run. */
bool cli_parse(const cli_command *cmd, int argc, char **argv, cli_parsed *out, int *exit_code);
const char *cli_get(const cli_parsed *p, const char *name); /* last value or NULL */
bool cli_has(const cli_parsed *p, const char *name);
int cli_count(const cli_parsed *p, const char *name);
const char *cli_get_at(const cli_parsed *p, const char *name, int i);
void cli_print_help(const cli_command *cmd, FILE *f);

/* Parse an unsigned integer option with 1k/1m suffixes; prints an error on failure. */
bool cli_u64(const char *opt, const char *text, uint64_t *out);
bool cli_double(const char *opt, const char *text, double *out);

/* Report a library failure: "strata run: EPARSE: orders.csv:12:3: ..." and return the
 * exit code for it. */
int cli_fail(const char *cmd, strata_ctx *ctx, strata_status st);
/* End a command that made a summary JSON, a readable text and warnings (each may be NULL):
 * the warnings on stderr as "strata CMD: line", then the JSON (as_json) or the text on
 * stdout, or the failure; frees the three texts and ctx. Returns the exit code. */
int cli_finish(const char *cmd, strata_ctx *ctx, strata_status st, char *json, char *text,
               char *warnings, bool as_json);

/* Create a context and apply the shared options (--config, --set key=value, --threads,
 * --quiet). Progress bars go to stderr when it is a terminal. Returns 0, or an exit code
 * after printing the error. */
int cli_context(const char *cmd, const cli_parsed *p, strata_ctx **out);

/* Options every data command shares, to splice into option tables. */
#define CLI_COMMON_OPTIONS                                                                         \
    {"--config", "FILE", "YAML configuration (see `strata config`)", false},                       \
        {"--set", "KEY=VALUE", "set one configuration key (repeatable)", true},                    \
        {"--threads", "N", "worker threads (default: all cores)", false},                          \
        {"--quiet", NULL, "no progress bars", false},                                              \
    {                                                                                              \
        "--json", NULL, "machine-readable JSON on stdout", false                                   \
    }

#endif
