/* cmd_report.c — `strata report`: render the self-contained HTML report from a summary.json. */
#include "cli.h"

#include <string.h>

static const cli_option options[] = {
    {"--summary", "FILE", "summary JSON written by `strata run` (required)", false},
    {"--out", "FILE", "HTML file to write (required)", false},
    {"--lang", "zh|en", "language of the report (default: the summary's, then config `lang`)",
     false},
    {"--config", "FILE", "YAML configuration (see `strata config`)", false},
    {"--set", "KEY=VALUE", "set one configuration key (repeatable)", true},
    {"--quiet", NULL, "no progress bars", false},
    {"--json", NULL, "print what was written as JSON", false},
};
static const cli_command command = {
    "report", "strata report --summary FILE --out FILE [--lang zh|en]",
    "Render one self-contained HTML file from a summary: tier pyramid with person and\n"
    "revenue shares, R x F heatmap coloured by monetary value, Pareto curve, segment and\n"
    "class tables, distributions and the data-quality summary. ECharts, styles and data are\n"
    "inlined, so the file opens offline and can be mailed as it is. A section appears only\n"
    "when the summary has its data.",
    "  strata report --summary out/summary.json --out out/report.html\n"
    "  strata report --summary out/summary.json --out out/report_zh.html --lang zh\n",
    options, sizeof options / sizeof options[0], 0};

/* Print s as a JSON string literal (paths may hold quotes or backslashes). */
static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int cmd_report(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    const char *summary = cli_get(&p, "--summary");
    const char *out = cli_get(&p, "--out");
    const char *lang = cli_get(&p, "--lang");
    if (!summary || !out) {
        fprintf(stderr, "strata report: needs --summary FILE and --out FILE (see --help)\n");
        return 64;
    }
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        fprintf(stderr, "strata report: --lang must be zh or en, got '%s'\n", lang);
        return 64;
    }
    strata_ctx *ctx;
    if ((code = cli_context("report", &p, &ctx)) != 0) return code;
    strata_status st = strata_report_render(ctx, summary, out, lang);
    if (st != STRATA_OK) {
        code = cli_fail("report", ctx, st);
    } else if (cli_has(&p, "--json")) {
        fputs("{\"summary\":", stdout);
        print_json_string(summary);
        fputs(",\"out\":", stdout);
        print_json_string(out);
        printf(",\"lang\":\"%s\"}\n", lang ? lang : "auto");
    } else if (!cli_has(&p, "--quiet")) {
        fprintf(stderr, "wrote %s\n", out);
    }
    strata_ctx_free(ctx);
    return code;
}
