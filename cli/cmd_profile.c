/* cmd_profile.c — `strata profile`: one person's profile from a store. */
#include "cli.h"

static const cli_option options[] = {
    {"--db", "FILE", "SQLite store written by `strata run --db` (required)", false},
    {"--as-of", "YYYY-MM-DD", "snapshot to read (default: the latest)", false},
    {"--json", NULL, "print the profile as JSON (default: one field per line)", false},
};
static const cli_command command = {
    "profile", "strata profile --db FILE [--as-of YYYY-MM-DD] [--json] USER_ID",
    "Print one person's profile: RFM, tier, segment, lifecycle and every other column.\n"
    "Any id linked to the person through identities finds the same profile.\n"
    "Exit code 1 when the person is not in the store.",
    "  strata profile --db out/strata.db u1234\n"
    "  strata profile --db out/strata.db --json 17850\n",
    options, sizeof options / sizeof options[0], 1};

/* Print a flat JSON object one "key: value" per line for people. */
static void print_lines(const char *json)
{
    const char *p = json;
    while (*p && *p != '{') p++;
    if (*p) p++;
    int in_str = 0;
    putchar(' ');
    for (; *p; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\' && p[1]) {
                putchar(p[1]);
                p++;
                continue;
            }
            if (c == '"') in_str = 0;
            else putchar(c);
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == ':') fputs(": ", stdout);
        else if (c == ',') fputs("\n ", stdout);
        else if (c == '}') break;
        else putchar(c);
    }
    putchar('\n');
}

int cmd_profile(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    const char *db = cli_get(&p, "--db");
    if (!db || p.npositional != 1) {
        fprintf(stderr, "strata profile: needs --db FILE and one USER_ID (see --help)\n");
        return 64;
    }
    int32_t as_of = STRATA_DAY_NONE;
    const char *as_of_text = cli_get(&p, "--as-of");
    if (as_of_text && strata_day_parse(as_of_text, &as_of) != STRATA_OK) {
        fprintf(stderr, "strata profile: --as-of expects YYYY-MM-DD, got '%s'\n", as_of_text);
        return 64;
    }
    strata_ctx *ctx;
    if ((code = cli_context("profile", &p, &ctx)) != 0) return code;
    char *json = NULL;
    strata_status st = strata_store_profile_json(ctx, db, p.positional[0], as_of, &json);
    if (st == STRATA_OK) {
        if (cli_has(&p, "--json")) printf("%s\n", json);
        else print_lines(json);
    } else {
        code = cli_fail("profile", ctx, st);
    }
    strata_free(json);
    strata_ctx_free(ctx);
    return code;
}
