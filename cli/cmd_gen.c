/* cmd_gen.c — `strata gen`: deterministic synthetic data for demos, tests and benchmarks. */
#include "cli.h"

#include <string.h>

static const cli_option options[] = {
    {"--users", "N", "persons to simulate (default 10000; suffixes k, m)", false},
    {"--orders", "N", "about this many orders in total (default 10 per person)", false},
    {"--events", "N", "about this many behaviour events (default 0 = no events file)", false},
    {"--seed", "S", "random seed; the same seed writes the same files (default 1)", false},
    {"--dirt", "SHARE", "share of rows with injected problems, e.g. 0.01 (default 0)", false},
    {"--start", "YYYY-MM-DD", "first day of the simulated period (default 2024-01-01)", false},
    {"--days", "N", "length of the period in days (default 730)", false},
    {"--out", "DIR", "directory to write orders.csv, events.csv, users.csv, identities.csv", false},
    {"--quiet", NULL, "no progress bars", false},
    {"--json", NULL, "print what was written as JSON", false},
};
static const cli_command command = {
    "gen", "strata gen --users N --orders M [--events K] --seed S --out DIR",
    "Write realistic synthetic data: heavy-tailed spend, gamma-distributed purchase rates,\n"
    "dropout, refunds and coupon orders, multi-line orders, behaviour events, users with\n"
    "consent flags and acquisition channels, and identity links that join several ids of\n"
    "one person. --dirt injects duplicates, missing fields, bad dates and absurd amounts.",
    "  strata gen --users 20000 --orders 120000 --events 300000 --seed 7 --out out/sample\n"
    "  strata gen --users 1m --orders 10m --seed 1 --out bench/work\n",
    options, sizeof options / sizeof options[0], 0};

int cmd_gen(int argc, char **argv)
{
    cli_parsed p;
    int code;
    if (!cli_parse(&command, argc, argv, &p, &code)) return code;
    strata_gen_opts o = {.users = 10000, .seed = 1, .start_day = STRATA_DAY_NONE};
    const char *v;
    if ((v = cli_get(&p, "--users")) && !cli_u64("--users", v, &o.users)) return 64;
    o.orders = o.users * 10;
    if ((v = cli_get(&p, "--orders")) && !cli_u64("--orders", v, &o.orders)) return 64;
    if ((v = cli_get(&p, "--events")) && !cli_u64("--events", v, &o.events)) return 64;
    if ((v = cli_get(&p, "--seed")) && !cli_u64("--seed", v, &o.seed)) return 64;
    if ((v = cli_get(&p, "--dirt")) && (!cli_double("--dirt", v, &o.dirt) || o.dirt < 0 || o.dirt > 0.5)) {
        fprintf(stderr, "strata gen: --dirt must be between 0 and 0.5\n");
        return 64;
    }
    if ((v = cli_get(&p, "--start")) && strata_day_parse(v, &o.start_day) != STRATA_OK) {
        fprintf(stderr, "strata gen: --start expects YYYY-MM-DD, got '%s'\n", v);
        return 64;
    }
    uint64_t days = 0;
    if ((v = cli_get(&p, "--days")) && (!cli_u64("--days", v, &days) || days < 30 || days > 36500)) {
        fprintf(stderr, "strata gen: --days must be between 30 and 36500\n");
        return 64;
    }
    o.days = (int32_t)days;
    o.out_dir = cli_get(&p, "--out");
    if (!o.out_dir) {
        fprintf(stderr, "strata gen: --out DIR is required (see --help)\n");
        return 64;
    }
    if (o.users == 0) {
        fprintf(stderr, "strata gen: --users must be at least 1\n");
        return 64;
    }
    strata_ctx *ctx;
    if ((code = cli_context("gen", &p, &ctx)) != 0) return code;
    strata_status st = strata_gen(ctx, &o);
    if (st != STRATA_OK) code = cli_fail("gen", ctx, st);
    else if (cli_has(&p, "--json")) {
        fputs("{\"out\":\"", stdout);
        for (const char *c = o.out_dir; *c; c++) {
            if (*c == '"' || *c == '\\') putchar('\\');
            if ((unsigned char)*c >= 0x20) putchar(*c);
        }
        printf("\",\"users\":%llu,\"orders\":%llu,\"events\":%llu,\"seed\":%llu}\n",
               (unsigned long long)o.users, (unsigned long long)o.orders,
               (unsigned long long)o.events, (unsigned long long)o.seed);
    } else if (!cli_has(&p, "--quiet")) {
        fprintf(stderr, "wrote %s/orders.csv, ", o.out_dir);
        if (o.events) fprintf(stderr, "%s/events.csv, ", o.out_dir);
        fprintf(stderr, "%s/users.csv, %s/identities.csv\n", o.out_dir, o.out_dir);
    }
    strata_ctx_free(ctx);
    return code;
}
