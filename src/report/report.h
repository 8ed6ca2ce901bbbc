/*
 * report.h — the self-contained HTML report (internal interface). The report is the last
 * output of the data flow: it reads nothing but the summary JSON the job writes
 * (summary.json; tests/data/summary_fixture.json is a full example) and turns it into one
 * HTML file that opens offline: template.html with report.css, echarts.min.js (installed
 * from npm at build time), report.js, the summary and the zh/en label table inlined. The
 * assets are compiled into the library by assets.cmake; report.js renders each section
 * only when its key is present in the summary.
 */
#ifndef ST_REPORT_H
#define ST_REPORT_H

#include "core/core.h"

/* Largest summary the report accepts (the job's summaries are kilobytes). */
#define ST_REPORT_MAX_SUMMARY ((size_t)256 << 20)

/* Write the report for summary_json (len bytes of UTF-8 JSON, not necessarily
 * NUL-terminated) to path, in lang "en" or "zh"; NULL or "" takes the summary's "lang" key,
 * then the configuration key `lang`.
 * The summary is validated (STRATA_EPARSE naming the line and column) and inlined in a
 * <script type="application/json"> element with every '<' written as \u003c and U+2028/2029
 * as \u2028/\u2029, so no data string can end the element. Labels (st_label) of every key
 * and string value in the summary are passed to the page as JSON.
 * Fails with STRATA_EINVAL for another lang, STRATA_EIO naming the path when the file cannot
 * be written (no partial file is left), STRATA_ENOMEM. Cost: linear in len plus ~1 MB. */
strata_status st_report_write(strata_ctx *ctx, const char *summary_json, size_t len,
                              const char *lang, const char *path);

#endif
