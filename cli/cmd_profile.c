/* cmd_profile.c — `strata profile`: one person's profile from a store. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <string.h>

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

/* A flat JSON object for people: one "key:  value" per line, the values aligned; strings
 * without quotes, numbers exactly as in --json. */
static int print_lines(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        fprintf(stderr, "strata profile: the store gave a malformed profile\n");
        return 74;
    }
    int width = 0;
    for (const cJSON *f = o->child; f; f = f->next)
        if ((int)strlen(f->string) > width) width = (int)strlen(f->string);
    for (const cJSON *f = o->child; f; f = f->next) {
        printf("%s:%*s ", f->string, width - (int)strlen(f->string), "");
        if (cJSON_IsString(f)) {
            puts(f->valuestring);
        } else {
            char *text = cJSON_PrintUnformatted(f);
            puts(text ? text : "?");
            cJSON_free(text);
        }
    }
    cJSON_Delete(o);
    return 0;
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
        else code = print_lines(json);
    } else {
        code = cli_fail("profile", ctx, st);
    }
    strata_free(json);
    strata_ctx_free(ctx);
    return code;
}
