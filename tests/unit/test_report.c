/*
 * test_report.c — unit tests of src/report/report.c: the HTML report written from the
 * summary fixture holds the embedded ECharts and the summary byte for byte, the label table
 * of the chosen language, safely escaped data, and fails cleanly (EIO naming the path,
 * EPARSE naming line and column, ENOMEM under fault injection with nothing leaked).
 * Whether the page renders is tested in a real browser by tests/cli/report_chromium.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "report/labels.h"
#include "report/report.h"
#include "report_assets.h"

static char tmpdir[] = "/tmp/strata-test-report-XXXXXX";

static char *path_in_tmp(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

/* Whole file into a malloc'd NUL-terminated buffer (test code: plain libc). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *data = malloc(cap + 1);
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) data = realloc(data, (cap *= 2) + 1);
    }
    fclose(f);
    data[n] = '\0';
    if (len) *len = n;
    return data;
}

static size_t count(const char *hay, size_t len, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = hay; (p = memmem(p, len - (size_t)(p - hay), needle, k)); p += k) n++;
    return n;
}

static const char *fixture_path(void)
{
    return STRATA_SOURCE_DIR "/tests/data/summary_fixture.json";
}

/* The text between <script type="application/json" id="ID"> and the next </script>. */
static char *json_block(const char *html, const char *id)
{
    char open[128];
    snprintf(open, sizeof open, "<script type=\"application/json\" id=\"%s\">", id);
    const char *start = strstr(html, open);
    if (!start) return NULL;
    start += strlen(open);
    const char *end = strstr(start, "</script>");
    if (!end) return NULL;
    return strndup(start, (size_t)(end - start));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fixture_en_holds_echarts_data_and_labels(void **state)
{
    (void)state;
    size_t before = strata_memory_used();
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("en.html");
    assert_int_equal(strata_report_render(ctx, fixture_path(), out, "en"), STRATA_OK);
    strata_ctx_free(ctx);
    assert_int_equal(strata_memory_used(), before);

    size_t len, fixture_len;
    char *html = slurp(out, &len);
    char *fixture = slurp(fixture_path(), &fixture_len);
    assert_non_null(html);
    assert_non_null(fixture);
    /* The whole ECharts build, our script and CSS are inlined byte for byte. */
    assert_true(st_asset_echarts_js_len > 500000);
    assert_non_null(memmem(html, len, st_asset_echarts_js, st_asset_echarts_js_len));
    assert_non_null(memmem(html, len, st_asset_report_js, st_asset_report_js_len));
    assert_non_null(memmem(html, len, st_asset_report_css, st_asset_report_css_len));
    /* The fixture has no '<' or U+2028/9, so the data block is the fixture unchanged. */
    char *data = json_block(html, "strata-summary");
    assert_non_null(data);
    assert_string_equal(data, fixture);
    /* Page size = template minus its six markers plus every part; nothing else added. */
    char *meta = json_block(html, "strata-meta");
    assert_non_null(meta);
    size_t markers = strlen("{{LANG}}{{CSS}}{{SUMMARY}}{{META}}{{ECHARTS}}{{APP}}");
    assert_int_equal(len, st_asset_template_html_len - markers + 2 + st_asset_report_css_len +
                              fixture_len + strlen(meta) + st_asset_echarts_js_len +
                              st_asset_report_js_len);
    assert_non_null(strstr(html, "<html lang=\"en\">"));
    assert_non_null(strstr(meta, "\"lang\":\"en\""));
    assert_non_null(strstr(meta, "\"champions\":\"Champions\""));
    assert_non_null(strstr(meta, "\"prospect\":\"Prospects (no order)\""));
    assert_non_null(strstr(meta, "\"T1\":\"T1 top 5%\""));
    assert_non_null(strstr(meta, "\"missing_user_id\":\"Missing user id\""));
    /* Model sections: model kinds, churn features and metric keys are labelled. */
    assert_non_null(strstr(meta, "\"xgboost\":\"Gradient-boosted trees (XGBoost)\""));
    assert_non_null(strstr(meta, "\"days_since_active\":\"Days since last active\""));
    assert_non_null(strstr(meta, "\"p_alive_mean\":\"Mean P(alive)\""));
    assert_non_null(strstr(meta, "\"silhouette\":\"Silhouette score\""));
    /* Paths, hashes and cluster names are data, not labels. */
    assert_null(strstr(meta, "Online Retail"));
    assert_null(strstr(meta, "recent frequent big spenders"));
    /* Exactly the page's own five script elements end; no network reference anywhere. */
    assert_int_equal(count(html, len, "</script"), 5);
    assert_int_equal(count(html, len, "src=\"http"), 0);
    assert_int_equal(count(html, len, "href=\"http"), 0);
    assert_int_equal(count(html, len, "{{SUMMARY}}"), 0);
    free(meta);
    free(data);
    free(fixture);
    free(html);
}

static void fixture_zh_has_chinese_labels(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("zh.html");
    assert_int_equal(strata_report_render(ctx, fixture_path(), out, "zh"), STRATA_OK);
    strata_ctx_free(ctx);
    char *html = slurp(out, NULL);
    assert_non_null(html);
    char *meta = json_block(html, "strata-meta");
    assert_non_null(meta);
    assert_non_null(strstr(html, "<html lang=\"zh-CN\">"));
    assert_non_null(strstr(meta, "\"lang\":\"zh\""));
    assert_non_null(strstr(meta, "\"champions\":\"冠军客户\""));
    assert_non_null(strstr(meta, "\"T1\":\"T1 头部5%\""));
    assert_non_null(strstr(meta, "\"important_value\":\"重要价值\""));
    assert_non_null(strstr(meta, "\"churned\":\"流失期\""));
    assert_non_null(strstr(meta, "\"missing_user_id\":\"缺少用户ID\""));
    assert_non_null(strstr(meta, "\"xgboost\":\"梯度提升树(XGBoost)\""));
    assert_non_null(strstr(meta, "\"logistic\":\"逻辑回归\""));
    assert_non_null(strstr(meta, "\"clv\":\"客户终身价值(CLV)\""));
    assert_non_null(strstr(meta, "\"positive_rate\":\"流失率\""));
    assert_non_null(strstr(meta, "\"monetary_90\":\"近90天消费金额\""));
    /* A page word the summary never names, from the report's fixed key list. */
    assert_non_null(strstr(meta, "\"data_quality\":\"数据质量\""));
    /* Each key once, although "persons" occurs in every tier, segment and cell. */
    assert_int_equal(count(meta, strlen(meta), "\"persons\":"), 1);
    free(meta);
    free(html);
}

/* Every feature of the batch job's churn model (CHURN_FEATURES in src/job/models.c) and every
 * model word the report shows has an English and a Chinese name, so no raw key reaches a zh
 * page. The Chinese name must hold non-ASCII text; exact names are checked for a few, which
 * also catches an earlier duplicate row for the key (st_label takes the first). */
static void model_words_have_en_and_zh_labels(void **state)
{
    (void)state;
    static const char *const keys[] = {
        /* CHURN_FEATURES */
        "recency_days", "frequency", "monetary", "aov", "tenure_days", "purchase_interval_days",
        "refund_rate", "coupon_rate", "category_count", "purchase_days", "orders_90",
        "monetary_90", "views", "searches", "carts", "favorites", "likes", "comments", "shares",
        "active_days_30", "active_days_90", "days_since_active",
        /* model kinds, sections, measures */
        "xgboost", "logistic", "clv", "churn", "clusters", "auc", "pr_auc", "log_loss", "brier",
        "precision", "recall", "f1", "accuracy", "positive_rate", "cutoff", "horizon_days",
        "churn_prob", "user_id", "rfm_segment", "p_alive_mean", "clv_sum", "clv_mean",
        "log_likelihood", "population_mean_aov", "p50", "p90", "p99", "k", "silhouette",
        "low", "medium", "high",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *en = st_label(keys[i], "en"), *zh = st_label(keys[i], "zh");
        if (!strcmp(en, keys[i]) || !strcmp(zh, keys[i]))
            fail_msg("label '%s' missing: en '%s', zh '%s'", keys[i], en, zh);
        bool non_ascii = false;
        for (const char *p = zh; *p; p++) non_ascii |= (unsigned char)*p >= 0x80;
        if (!non_ascii) fail_msg("label '%s': zh '%s' has no Chinese", keys[i], zh);
    }
    assert_string_equal(st_label("days_since_active", "zh"), "距上次活跃天数");
    assert_string_equal(st_label("logistic", "en"), "Logistic regression");
    assert_string_equal(st_label("high", "zh"), "高");
    assert_string_equal(st_label("silhouette", "zh"), "轮廓系数");
}

/* A model the job could not fit is {"skipped": reason}; the page still gets its section
 * words, and the reason stays data. */
static void skipped_model_sections(void **state)
{
    (void)state;
    size_t before = strata_memory_used();
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("skipped.html");
    const char summary[] = "{\"clv\":{\"skipped\":\"too few\"},\"churn\":{\"skipped\":\"too few\"},"
                           "\"clusters\":{\"skipped\":\"n < k\"}}";
    assert_int_equal(st_report_write(ctx, summary, strlen(summary), "zh", out), STRATA_OK);
    strata_ctx_free(ctx);
    assert_int_equal(strata_memory_used(), before);
    char *html = slurp(out, NULL);
    assert_non_null(html);
    char *meta = json_block(html, "strata-meta");
    char *data = json_block(html, "strata-summary");
    assert_non_null(meta);
    assert_non_null(data);
    assert_non_null(strstr(meta, "\"clv\":\"客户终身价值(CLV)\""));
    assert_non_null(strstr(meta, "\"churn\":\"流失\""));
    assert_non_null(strstr(meta, "\"clusters\":\"聚类\""));
    assert_null(strstr(meta, "too few"));
    assert_non_null(strstr(data, "\"skipped\":\"n \\u003c k\""));
    free(meta);
    free(data);
    free(html);
}

/* lang NULL: the summary's "lang" wins, then the configuration. */
static void language_defaults(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("auto.html");
    const char with_lang[] = "{\"lang\":\"zh\",\"counts\":{\"persons\":1}}";
    const char without[] = "{\"counts\":{\"persons\":1}}";
    char *html;

    assert_int_equal(st_report_write(ctx, with_lang, strlen(with_lang), NULL, out), STRATA_OK);
    html = slurp(out, NULL);
    assert_non_null(strstr(html, "\"persons\":\"人数\""));
    free(html);

    assert_int_equal(st_report_write(ctx, without, strlen(without), NULL, out), STRATA_OK);
    html = slurp(out, NULL);
    assert_non_null(strstr(html, "\"persons\":\"Persons\""));
    free(html);

    assert_int_equal(strata_config_set(ctx, "lang", "zh"), STRATA_OK);
    assert_int_equal(st_report_write(ctx, without, strlen(without), "", out), STRATA_OK);
    html = slurp(out, NULL);
    assert_non_null(strstr(html, "\"lang\":\"zh\""));
    free(html);

    /* An explicit language beats both. */
    assert_int_equal(st_report_write(ctx, with_lang, strlen(with_lang), "en", out), STRATA_OK);
    html = slurp(out, NULL);
    assert_non_null(strstr(html, "\"persons\":\"Persons\""));
    free(html);

    assert_int_equal(st_report_write(ctx, without, strlen(without), "fr", out), STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "'fr'"));
    strata_ctx_free(ctx);
}

static void data_strings_cannot_close_the_script(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("escape.html");
    /* A path with </script>, an HTML comment opener and raw U+2028 / U+2029 bytes. */
    const char summary[] = "{\"inputs\":[{\"kind\":\"orders\",\"path\":\"a</script><script>"
                           "alert(1)</SCRIPT>\xe2\x80\xa8|\xe2\x80\xa9\"}],\"note\":\"<!-- x\"}";
    const char expected[] = "{\"inputs\":[{\"kind\":\"orders\",\"path\":\"a\\u003c/script>"
                            "\\u003cscript>alert(1)\\u003c/SCRIPT>\\u2028|\\u2029\"}],"
                            "\"note\":\"\\u003c!-- x\"}";
    assert_int_equal(st_report_write(ctx, summary, strlen(summary), "en", out), STRATA_OK);
    size_t len;
    char *html = slurp(out, &len);
    char *data = json_block(html, "strata-summary");
    assert_string_equal(data, expected);
    assert_null(strstr(html, "alert(1)</"));
    assert_int_equal(count(html, len, "</script"), 5);
    assert_null(memmem(html, len, "\xe2\x80\xa8", 3));
    free(data);
    free(html);
    strata_ctx_free(ctx);
}

static void bad_output_path_is_eio_naming_it(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *bad = "/nonexistent-strata-dir/sub/report.html";
    assert_int_equal(strata_report_render(ctx, fixture_path(), bad, "en"), STRATA_EIO);
    assert_non_null(strstr(strata_errmsg(ctx), bad));
    /* A directory is not writable as a file either. */
    assert_int_equal(strata_report_render(ctx, fixture_path(), tmpdir, "en"), STRATA_EIO);
    assert_non_null(strstr(strata_errmsg(ctx), tmpdir));
    /* A missing summary is an input error naming the summary. */
    assert_int_equal(strata_report_render(ctx, "/nonexistent-strata.json", path_in_tmp("x.html"),
                                          "en"),
                     STRATA_ENOINPUT);
    assert_non_null(strstr(strata_errmsg(ctx), "/nonexistent-strata.json"));
    assert_int_equal(access(path_in_tmp("x.html"), F_OK), -1);
    strata_ctx_free(ctx);
}

static void malformed_summary_names_line_and_column(void **state)
{
    (void)state;
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{\n  \"a\": [1, 2,,]\n}", "line 2, column 14: unexpected character"},
        {"[1, 2]", "line 1, column 1: the summary must be a JSON object"},
        {"{\"a\": 1} x", "line 1, column 10: text after the JSON value"},
        {"{\"a\": 01}", "line 1, column 8: expected ',' or '}'"},
        {"{\"a\": \"x\ty\"}", "line 1, column 9: control character in a string"},
        {"{\"a\": \"\\q\"}", "line 1, column 8: bad escape in a string"},
        {"{\"a\": \"\\u12G4\"}", "line 1, column 8: bad \\u escape"},
        {"{\"a\": \"abc", "line 1, column 11: unterminated string"},
        {"{\"a\": tru}", "line 1, column 7: unexpected character"},
        {"{\"a\" 1}", "line 1, column 6: expected ':'"},
        {"{\"a\": -}", "line 1, column 8: bad number"},
        {"{\"a\": 1.}", "line 1, column 9: bad number"},
        {"", "line 1, column 1: unexpected end of input"},
        {"{\"a\": 1,}", "line 1, column 9: expected a member name"},
    };
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("bad.html");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strata_status st = st_report_write(ctx, cases[i].json, strlen(cases[i].json), "en", out);
        if (st != STRATA_EPARSE || !strstr(strata_errmsg(ctx), cases[i].message))
            fail_msg("case %zu '%s': status %d, message '%s'", i, cases[i].json, (int)st,
                     strata_errmsg(ctx));
        assert_int_equal(access(out, F_OK), -1);
    }
    /* Nesting is bounded: 64 levels pass, 65 fail. */
    char deep[200];
    for (int levels = 64; levels <= 65; levels++) {
        size_t n = 0;
        deep[n++] = '{', deep[n++] = '"', deep[n++] = 'a', deep[n++] = '"', deep[n++] = ':';
        for (int i = 1; i < levels; i++) deep[n++] = '[';
        for (int i = 1; i < levels; i++) deep[n++] = ']';
        deep[n++] = '}';
        strata_status st = st_report_write(ctx, deep, n, "en", out);
        assert_int_equal(st, levels == 64 ? STRATA_OK : STRATA_EPARSE);
    }
    /* Valid corner cases: escapes, numbers, literals, empty containers. */
    const char ok[] = " {\"a\":[true,false,null,-0.5e+3,0,12.25E-2,{},[]],\"b\":\"\\u00e9\\n\\\"\"} ";
    assert_int_equal(st_report_write(ctx, ok, strlen(ok), "en", out), STRATA_OK);
    /* Through the file API the error names the file. */
    const char *bad_file = path_in_tmp("bad.json");
    FILE *f = fopen(bad_file, "wb");
    fputs("{\"counts\": {\"persons\": }}", f);
    fclose(f);
    assert_int_equal(strata_report_render(ctx, bad_file, out, "en"), STRATA_EPARSE);
    assert_non_null(strstr(strata_errmsg(ctx), bad_file));
    assert_non_null(strstr(strata_errmsg(ctx), "line 1, column 24"));
    strata_ctx_free(ctx);
}

/* Every allocation failing in turn ends in ENOMEM, no leak and no file. */
static void allocation_failures_are_clean(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *out = path_in_tmp("oom.html");
    size_t before = strata_memory_used();
    int failures = 0;
    for (uint64_t nth = 1; nth < 1000; nth++) {
        remove(out);
        strata_memory_fail_after(nth);
        strata_status st = strata_report_render(ctx, fixture_path(), out, "zh");
        strata_memory_fail_after(0);
        assert_int_equal(strata_memory_used(), before);
        if (st == STRATA_OK) break;
        assert_int_equal(st, STRATA_ENOMEM);
        assert_int_equal(access(out, F_OK), -1);
        failures++;
    }
    assert_true(failures >= 3); /* the read buffer, the label table, the meta JSON */
    assert_int_equal(access(out, F_OK), 0);
    strata_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixture_en_holds_echarts_data_and_labels),
        cmocka_unit_test(fixture_zh_has_chinese_labels),
        cmocka_unit_test(model_words_have_en_and_zh_labels),
        cmocka_unit_test(skipped_model_sections),
        cmocka_unit_test(language_defaults),
        cmocka_unit_test(data_strings_cannot_close_the_script),
        cmocka_unit_test(bad_output_path_is_eio_naming_it),
        cmocka_unit_test(malformed_summary_names_line_and_column),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
