/*
 * main.c — the `strata` program: dispatches to the command table in commands.def and holds
 * the shared option parsing, help and progress-bar code.
 */
#include "cli.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct command_row {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command_row;

static const command_row commands[] = {
#define X(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef X
};

static void usage(FILE *f)
{
    fprintf(f,
            "strata %s — customer value tiering engine (用户价值分层系统)\n\n"
            "Usage: strata <command> [options]\n\nCommands:\n",
            STRATA_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun `strata <command> --help` for the options of a command.\n"
               "Example: strata run --orders orders.csv --out out --db out/strata.db\n");
}

/* A plain input file is memory-mapped while it is read, and a mapped file that another
 * process truncates or rewrites in place faults the reading thread with SIGBUS. Say what
 * happened instead of dying with "Bus error", and exit as for an I/O error. Only
 * async-signal-safe calls here. */
static void on_sigbus(int sig)
{
    (void)sig;
    static const char msg[] =
        "strata: an input file shrank while it was being read (bus error): do not truncate or "
        "rewrite inputs during a run; replace them by renaming\n";
    ssize_t written = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)written;
    _exit(74);
}

int main(int argc, char **argv)
{
    struct sigaction bus;
    memset(&bus, 0, sizeof bus);
    bus.sa_handler = on_sigbus;
    sigemptyset(&bus.sa_mask);
    sigaction(SIGBUS, &bus, NULL);
    /* A fixed mmap threshold stops glibc from raising it after large frees, which otherwise
     * keeps freed row chunks in the heap and doubles the peak memory of a run. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "strata: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 64;
}

/* ---- option parsing ---- */

static int option_index(const cli_command *cmd, const char *name, size_t len)
{
    for (int i = 0; i < cmd->noptions; i++)
        if (strlen(cmd->options[i].name) == len && !strncmp(cmd->options[i].name, name, len))
            return i;
    return -1;
}

void cli_print_help(const cli_command *cmd, FILE *f)
{
    fprintf(f, "Usage: %s\n\n%s\n\nOptions:\n", cmd->synopsis, cmd->description);
    for (int i = 0; i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->value ? " " : "",
                 o->value ? o->value : "");
        fprintf(f, "  %-24s %s\n", left, o->help);
    }
    fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
    if (cmd->examples) fprintf(f, "\nExamples:\n%s", cmd->examples);
}

bool cli_parse(const cli_command *cmd, int argc, char **argv, cli_parsed *out, int *exit_code)
{
    memset(out, 0, sizeof *out);
    out->options = cmd->options;
    out->noptions = cmd->noptions;
    *exit_code = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_print_help(cmd, stdout);
            return false;
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            int k = option_index(cmd, a, len);
            if (k < 0 || k >= 64) {
                fprintf(stderr, "strata %s: unknown option '%.*s' (see --help)\n", cmd->name,
                        (int)len, a);
                *exit_code = 64;
                return false;
            }
            const cli_option *o = &cmd->options[k];
            const char *val = "";
            if (o->value) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    fprintf(stderr, "strata %s: option %s needs a value (%s)\n", cmd->name, o->name,
                            o->value);
                    *exit_code = 64;
                    return false;
                }
            } else if (eq) {
                fprintf(stderr, "strata %s: option %s takes no value\n", cmd->name, o->name);
                *exit_code = 64;
                return false;
            }
            if (out->nvalues[k] > 0 && !o->repeatable) out->nvalues[k] = 0;
            if (out->nvalues[k] >= CLI_MAX_VALUES) {
                fprintf(stderr, "strata %s: too many %s options\n", cmd->name, o->name);
                *exit_code = 64;
                return false;
            }
            out->values[k][out->nvalues[k]++] = val;
        } else {
            if (out->npositional >= cmd->max_positional || out->npositional >= CLI_MAX_POSITIONAL) {
                fprintf(stderr, "strata %s: unexpected argument '%s' (see --help)\n", cmd->name, a);
                *exit_code = 64;
                return false;
            }
            out->positional[out->npositional++] = a;
        }
    }
    return true;
}

static int find_parsed(const cli_parsed *p, const char *name)
{
    for (int i = 0; i < p->noptions && i < 64; i++)
        if (!strcmp(p->options[i].name, name)) return i;
    return -1;
}

const char *cli_get(const cli_parsed *p, const char *name)
{
    int k = find_parsed(p, name);
    return (k < 0 || p->nvalues[k] == 0) ? NULL : p->values[k][p->nvalues[k] - 1];
}

bool cli_has(const cli_parsed *p, const char *name)
{
    return cli_count(p, name) > 0;
}

int cli_count(const cli_parsed *p, const char *name)
{
    int k = find_parsed(p, name);
    return k < 0 ? 0 : p->nvalues[k];
}

const char *cli_get_at(const cli_parsed *p, const char *name, int i)
{
    int k = find_parsed(p, name);
    return (k < 0 || i >= p->nvalues[k]) ? NULL : p->values[k][i];
}

bool cli_u64(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-') goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1000, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1000000, end++;
    if (errno || *end || v > UINT64_MAX / mult) goto bad;
    *out = v * mult;
    return true;
bad:
    fprintf(stderr, "strata: %s expects a non-negative integer (like 1000 or 10m), got '%s'\n", opt,
            text ? text : "");
    return false;
}

bool cli_double(const char *opt, const char *text, double *out)
{
    char *end;
    if (text && *text) {
        double v = strtod(text, &end);
        if (!*end) {
            *out = v;
            return true;
        }
    }
    fprintf(stderr, "strata: %s expects a number, got '%s'\n", opt, text ? text : "");
    return false;
}

int cli_fail(const char *cmd, strata_ctx *ctx, strata_status st)
{
    const char *detail = ctx ? strata_errmsg(ctx) : "";
    fprintf(stderr, "strata %s: %s: %s\n", cmd, strata_status_message(st),
            *detail ? detail : strata_status_name(st));
    return strata_status_exit_code(st);
}

int cli_finish(const char *cmd, strata_ctx *ctx, strata_status st, char *json, char *text,
               char *warnings, bool as_json)
{
    for (const char *p = warnings; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "strata %s: %.*s\n", cmd, len, p);
        p = nl ? nl + 1 : p + len;
    }
    int code = 0;
    if (st != STRATA_OK)
        code = cli_fail(cmd, ctx, st);
    else if (as_json)
        printf("%s\n", json);
    else
        fputs(text, stdout);
    strata_free(json);
    strata_free(text);
    strata_free(warnings);
    strata_ctx_free(ctx);
    return code;
}

/* ---- progress bar: one line on stderr, redrawn at most 10 times a second ---- */

typedef struct progress_state {
    char stage[64];
    struct timespec last, start;
} progress_state;

static progress_state progress;

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_bar(void *ud, const char *stage, uint64_t done, uint64_t total)
{
    (void)ud;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool new_stage = strncmp(progress.stage, stage, sizeof progress.stage) != 0;
    bool finished = total && done >= total;
    if (new_stage) {
        snprintf(progress.stage, sizeof progress.stage, "%s", stage);
        progress.start = now;
    } else if (!finished && elapsed(&progress.last, &now) < 0.1) {
        return;
    }
    progress.last = now;
    if (total) {
        int width = 30, filled = (int)((double)done / (double)total * width);
        if (filled > width) filled = width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r  %-18s [%s] %5.1f%%  %.1fs", stage, bar,
                100.0 * (double)done / (double)total, elapsed(&progress.start, &now));
    } else {
        fprintf(stderr, "\r  %-18s %llu  %.1fs", stage, (unsigned long long)done,
                elapsed(&progress.start, &now));
    }
    if (finished) fputs("\n", stderr);
    fflush(stderr);
}

int cli_context(const char *cmd, const cli_parsed *p, strata_ctx **out)
{
    strata_ctx *ctx = NULL;
    *out = NULL;
    strata_status st = strata_ctx_create(&ctx);
    if (st != STRATA_OK) return cli_fail(cmd, NULL, st);
    const char *config = cli_get(p, "--config");
    if (config && (st = strata_config_load(ctx, config)) != STRATA_OK) goto fail;
    for (int i = 0; i < cli_count(p, "--set"); i++) {
        const char *kv = cli_get_at(p, "--set", i);
        const char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "strata %s: --set expects KEY=VALUE, got '%s'\n", cmd, kv);
            strata_ctx_free(ctx);
            return 64;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if ((st = strata_config_set(ctx, key, eq + 1)) != STRATA_OK) goto fail;
    }
    const char *threads = cli_get(p, "--threads");
    if (threads) {
        uint64_t n;
        if (!cli_u64("--threads", threads, &n) || n > 256) {
            strata_ctx_free(ctx);
            return 64;
        }
        strata_set_threads(ctx, (unsigned)n);
    }
    if (!cli_has(p, "--quiet") && isatty(STDERR_FILENO))
        strata_set_progress(ctx, progress_bar, NULL);
    *out = ctx;
    return 0;
fail:;
    int code = cli_fail(cmd, ctx, st);
    strata_ctx_free(ctx);
    return code;
}
