#!/usr/bin/env bash
# report_chromium.sh — black-box test of `strata report`: render the summary fixture in en
# and zh (and copies whose data strings try to break out of the page, whose model sections
# are {"skipped": ...}, or whose model sections lack their optional parts), open each file in
# headless Chromium and fail unless the page recorded no script error and every chart holds
# a drawn, non-empty chart, section by section (report.js writes data-charts-* and
# data-section-charts on <body>; the template's first script writes data-script-errors on
# <html>). Negative controls prove the checks can fail.
# The fixture is the Online Retail run (tests/data/online_retail) with the job's model
# sections; clv.holdout comes from a BG/NBD fit on the same data calibrated to 2011-09-09
# with the 13 weeks after it held out (the job itself writes no holdout).
# Usage: bash report_chromium.sh STRATA_BIN SOURCE_DIR BINARY_DIR   (exit 77 = skipped)
set -euo pipefail
strata=${1:?strata binary}
src=${2:?source dir}
fixture=$src/tests/data/summary_fixture.json
# The fixture's charts: pyramid, heatmap, Pareto, segments, class8, 4 distributions;
# clv: P(alive) histogram, CLV histogram, P(alive) heatmap, holdout; churn: calibration,
# top features of each of the two models, risk by tier; clusters: shares, silhouette by k.
base_sections="counts tiers rfm_heatmap pareto segments class8 distributions"
base_charts="counts:0 tiers:1 rfm_heatmap:1 pareto:1 segments:1 class8:1 distributions:4"
expect_charts=19
expect_sections="$base_sections clv churn clusters quality"
expect_section_charts="$base_charts clv:4 churn:4 clusters:2 quality:0"

find_browser() {
  local b
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
  done
  return 1
}
browser=$(find_browser || true)
if [ -z "$browser" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing the Debian package" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium) \
    >/dev/null 2>&1 || true
  browser=$(find_browser || true)
fi
if [ -z "$browser" ]; then
  echo "SKIP: no chromium available"
  exit 77
fi
# JSON edits of the fixture (standard library only; any python3 will do)
python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "SKIP: no python3 to derive the skipped and partial summaries"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

dump_dom() { # html_file dom_file
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" --virtual-time-budget=5000 \
    --dump-dom "file://$1" >"$2" 2>"$2.err" || true
}

attr() { # tag name -> value of attribute name in the tag text, empty when absent
  printf '%s' "$1" | grep -o " $2=\"[^\"]*\"" | head -1 | sed 's/^[^"]*"//; s/"$//' || true
}

# check_page html_file [charts sections section_charts] -> 0 when the page rendered
# completely with the expected charts (default: the fixture's), else prints why, returns 1
check_page() {
  local html=$1 dom=$1.dom why=""
  local want_charts=${2:-$expect_charts} want_sections=${3:-$expect_sections}
  local want_section_charts=${4:-$expect_section_charts}
  dump_dom "$html" "$dom"
  # what the page shows: the DOM without the inlined scripts (the summary and the label
  # table hold every name, so a grep of the whole DOM would find text the page never drew)
  "$python" -c 'import re, sys; t = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(re.sub(r"<script\b.*?</script>", "", t, flags=re.S))' \
    "$dom" "$dom.visible" || true
  local html_tag body_tag
  html_tag=$(grep -o -m1 '<html[^>]*>' "$dom" | head -1 || true)
  body_tag=$(grep -o -m1 '<body[^>]*>' "$dom" | head -1 || true)
  [ -n "$html_tag" ] || { echo "  no DOM from chromium: $(tail -3 "$dom.err")"; return 1; }
  local errors ready charts ok empty sections section_charts
  errors=$(attr "$html_tag" data-script-errors)
  ready=$(attr "$body_tag" data-report-ready)
  charts=$(attr "$body_tag" data-charts)
  ok=$(attr "$body_tag" data-charts-ok)
  empty=$(attr "$body_tag" data-charts-empty)
  sections=$(attr "$body_tag" data-sections)
  section_charts=$(attr "$body_tag" data-section-charts)
  [ "$errors" = 0 ] || why="$why script errors=${errors:-?} ($(attr "$html_tag" data-script-error));"
  [ "$ready" = 1 ] || why="$why report never finished;"
  [ "$empty" = 0 ] || why="$why empty charts=${empty:-?};"
  [ "$charts" = "$want_charts" ] && [ "$ok" = "$want_charts" ] ||
    why="$why charts=${charts:-?} ok=${ok:-?}, expected $want_charts;"
  [ "$sections" = "$want_sections" ] || why="$why sections '$sections';"
  [ "$section_charts" = "$want_section_charts" ] ||
    why="$why drawn charts by section '$section_charts', expected '$want_section_charts';"
  if [ -n "$why" ]; then
    echo "  $html:$why"
    return 1
  fi
  return 0
}

no_network_refs() { # file
  if grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"']?[[:space:]]*(https?:)?//" "$1"; then
    grep -Eio "(src|href)[[:space:]]*=[[:space:]]*[\"']?[[:space:]]*(https?:)?//.{0,60}" "$1" | head -3
    return 1
  fi
}

render() { # lang summary out
  "$strata" report --quiet --summary "$2" --out "$3" --lang "$1" ||
    fail "strata report --lang $1 exited $?"
}

# ---- the fixture in both languages ----
for lang in en zh; do
  page=$work/report_$lang.html
  render "$lang" "$fixture" "$page"
  [ -s "$page" ] || { fail "$lang: no report written"; continue; }
  no_network_refs "$page" || fail "$lang: network reference in src/href"
  check_page "$page" || fail "$lang: page did not render completely"
  no_network_refs "$page.dom" || fail "$lang: network reference in the rendered DOM"
  grep -q 'data-chart-ok="1"' "$page.dom" || fail "$lang: no chart marked drawn"
done
has() { # lang text what
  grep -qF -- "$2" "$work/report_$1.html.dom.visible" || fail "$1: $3 ('$2') not shown"
}
grep -q '<html lang="zh-CN"' "$work/report_zh.html.dom" || fail "zh: html lang is not zh-CN"
has zh '冠军客户' "segment label"
has zh '价值金字塔' "section title"
has en "Can't lose them" "segment label"
has en 'Missing user id' "quality reason"
has en '135,080' "rejected count"
has en '£8,300,066' "revenue"
# model sections: titles, labels of data keys, values read from the fixture
has en 'Customer lifetime value (BG/NBD + Gamma-Gamma)' "clv title"
has zh '客户终身价值(BG/NBD + Gamma-Gamma)' "clv title"
has en '9.8903' "BG/NBD alpha 9.89033"
has en '£415.37' "Gamma-Gamma population mean order value"
has en 'In total: actual 4,466, predicted 3,376.' "holdout totals"
has zh '合计：实际 4,466，预测 3,376。' "holdout totals"
has en 'Gradient-boosted trees (XGBoost) ✓ chosen' "chosen churn model"
has zh '梯度提升树(XGBoost) ✓ 选用' "chosen churn model"
has zh '逻辑回归' "logistic model"
has en 'Days since last active' "churn feature label"
has zh '距上次活跃天数' "churn feature label"
has en '<td>231 (34.3%)</td>' "true positives of the confusion matrix"
has en '<td>1</td><td class="text">17566</td><td>60.3%</td><td>£2,900</td>' "first person worth saving"
has zh '最值得挽回的用户' "worth-saving title"
has en 'recent frequent big spenders' "cluster name (en)"
has zh '近期活跃高频高消费客户' "cluster name (zh)"
if grep -qF 'recent frequent big spenders' "$work/report_zh.html.dom.visible"; then
  fail "zh: English cluster name shown"
fi
has en '£4,156' "mean monetary of cluster 0"
has en '0.427 · chosen k' "silhouette of the chosen k"

# ---- model sections skipped, and model sections without their optional parts ----
"$python" - "$fixture" "$work/skipped.json" "$work/partial.json" <<'PY'
import json, sys
src, skipped_out, partial_out = sys.argv[1:4]
s = json.load(open(src, encoding="utf-8"))
for key in ("clv", "churn", "clusters"):
    s[key] = {"skipped": "reason-%s: too few persons" % key}
json.dump(s, open(skipped_out, "w", encoding="utf-8"), ensure_ascii=False)
p = json.load(open(src, encoding="utf-8"))
for key in ("holdout", "clv_histogram", "gamma_gamma"):
    del p["clv"][key]
p["clv"]["gamma_gamma_skipped"] = "reason-gg: q <= 1"
del p["churn"]["present"]["by_tier"]
p["churn"]["worth_saving"] = []
p["clusters"]["silhouette"] = []
json.dump(p, open(partial_out, "w", encoding="utf-8"), ensure_ascii=False)
PY
render en "$work/skipped.json" "$work/skipped.html"
check_page "$work/skipped.html" 9 "$expect_sections" "$base_charts clv:0 churn:0 clusters:0 quality:0" ||
  fail "skipped: page did not render completely"
for key in clv churn clusters; do
  grep -q "class=\"note skipped\">Not computed: reason-$key: too few persons<" "$work/skipped.html.dom.visible" ||
    fail "skipped: the reason for $key is not shown"
done
render zh "$work/partial.json" "$work/partial.html"
# clv: P(alive) histogram and heatmap; churn: calibration, 2 x features, overall risk; clusters: shares
check_page "$work/partial.html" 16 "$expect_sections" "$base_charts clv:2 churn:4 clusters:1 quality:0" ||
  fail "partial: page did not render completely"
grep -qF '未拟合 Gamma-Gamma 模型，因此没有 CLV： reason-gg: q &lt;= 1' "$work/partial.html.dom.visible" ||
  fail "partial: the Gamma-Gamma reason is not shown"
grep -qF '没有高风险用户。' "$work/partial.html.dom.visible" || fail "partial: empty worth-saving list not said"

# ---- data strings that try to end the script element or run code ----
payload="</script><script>document.documentElement.setAttribute('data-pwned','1')</script><!--$(printf '\xe2\x80\xa8')x"
hostile=$work/hostile.json
sed "0,/Online Retail.csv/s||${payload//&/\\&}|" "$fixture" >"$hostile"
grep -q 'data-pwned' "$hostile" || fail "could not build the hostile summary"
render en "$hostile" "$work/hostile.html"
check_page "$work/hostile.html" || fail "hostile: page did not render completely"
if grep -q 'data-pwned="1"' "$work/hostile.html.dom"; then fail "hostile: data ran as script"; fi
grep -q '&lt;/script&gt;&lt;script&gt;document.documentElement' "$work/hostile.html.dom" ||
  fail "hostile: the path was not shown as text"

# ---- negative controls: the checks above must catch a broken page ----
cp "$work/report_en.html" "$work/throws.html"
sed -i 's|<main id="report">|<script>null.boom();</script><main id="report">|' "$work/throws.html"
if check_page "$work/throws.html" >/dev/null; then fail "control: a script error went unnoticed"; fi
grep -q 'data-script-errors="1"' "$work/throws.html.dom" || fail "control: error not recorded"
cp "$work/report_en.html" "$work/empty.html"
# same options, every series emptied: the page must count every chart as empty
sed -i 's|instance.setOption(option);|option.series.forEach(function (s) { s.data = []; }); &|' \
  "$work/empty.html"
if check_page "$work/empty.html" >/dev/null; then fail "control: empty charts went unnoticed"; fi
grep -q "data-charts-empty=\"$expect_charts\"" "$work/empty.html.dom" ||
  fail "control: empty charts not counted"

if [ "$failures" -ne 0 ]; then
  echo "report_chromium: $failures check(s) failed"
  exit 1
fi
echo "report_chromium: en, zh, hostile, skipped and partial reports rendered with every chart drawn, no script errors"
