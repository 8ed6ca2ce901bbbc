#!/usr/bin/env bash
# report_chromium.sh — black-box test of `strata report`: render the summary fixture in en
# and zh (and a copy whose data strings try to break out of the page), open each file in
# headless Chromium and fail unless the page recorded no script error and every chart holds
# a drawn, non-empty chart (report.js writes data-charts-* on <body>; the template's first
# script writes data-script-errors on <html>). Negative controls prove the checks can fail.
# Usage: bash report_chromium.sh STRATA_BIN SOURCE_DIR BINARY_DIR   (exit 77 = skipped)
set -euo pipefail
strata=${1:?strata binary}
src=${2:?source dir}
fixture=$src/tests/data/summary_fixture.json
# The fixture's charts: pyramid, heatmap, Pareto, segments, class8, 4 distributions.
expect_charts=9
expect_sections="counts tiers rfm_heatmap pareto segments class8 distributions quality"

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

# check_page html_file -> 0 when the page rendered completely, else prints why and returns 1
check_page() {
  local html=$1 dom=$1.dom why=""
  dump_dom "$html" "$dom"
  local html_tag body_tag
  html_tag=$(grep -o -m1 '<html[^>]*>' "$dom" | head -1 || true)
  body_tag=$(grep -o -m1 '<body[^>]*>' "$dom" | head -1 || true)
  [ -n "$html_tag" ] || { echo "  no DOM from chromium: $(tail -3 "$dom.err")"; return 1; }
  local errors ready charts ok empty sections
  errors=$(attr "$html_tag" data-script-errors)
  ready=$(attr "$body_tag" data-report-ready)
  charts=$(attr "$body_tag" data-charts)
  ok=$(attr "$body_tag" data-charts-ok)
  empty=$(attr "$body_tag" data-charts-empty)
  sections=$(attr "$body_tag" data-sections)
  [ "$errors" = 0 ] || why="$why script errors=${errors:-?} ($(attr "$html_tag" data-script-error));"
  [ "$ready" = 1 ] || why="$why report never finished;"
  [ "$empty" = 0 ] || why="$why empty charts=${empty:-?};"
  [ "$charts" = "$expect_charts" ] && [ "$ok" = "$expect_charts" ] ||
    why="$why charts=${charts:-?} ok=${ok:-?}, expected $expect_charts;"
  [ "$sections" = "$expect_sections" ] || why="$why sections '$sections';"
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
grep -q '<html lang="zh-CN"' "$work/report_zh.html.dom" || fail "zh: html lang is not zh-CN"
grep -q '冠军客户' "$work/report_zh.html.dom" || fail "zh: segment label 冠军客户 not shown"
grep -q '价值金字塔' "$work/report_zh.html.dom" || fail "zh: section title 价值金字塔 not shown"
grep -q "Can't lose them" "$work/report_en.html.dom" || fail "en: segment label not shown"
grep -q 'Missing user id' "$work/report_en.html.dom" || fail "en: quality reason not shown"
grep -q '135,080' "$work/report_en.html.dom" || fail "en: rejected count 135,080 not shown"
grep -q '£8,300,066' "$work/report_en.html.dom" || fail "en: revenue £8,300,066 not shown"

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
echo "report_chromium: en, zh and hostile reports rendered with $expect_charts charts each, no script errors"
