#!/usr/bin/env bash
# clv.sh — `strata clv fit|predict` end to end on the CDNOW sample (tests/data/cdnow): the
# published BG/NBD and Gamma-Gamma estimates from the summary table and from the raw
# transaction log, customer 1's 1.226 expected purchases, the holdout table recomputed here
# with awk from the x.star column, the predictions file (one row per person, CLV of
# customer 1 as computed independently by tests/data/cdnow/reference_clv.py), extreme
# frequencies, skipped rows, and bad input with the right exit codes.
# Usage: bash clv.sh STRATA_BIN SOURCE_DIR BINARY_DIR
set -euo pipefail
strata=${1:?strata binary}
src=${2:?source dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cbs="$src/tests/data/cdnow/cdnow_sample_cbs.csv.gz"
elog="$src/tests/data/cdnow/cdnow_sample_elog.csv.gz"
[ -f "$cbs" ] && [ -f "$elog" ] || { echo "missing CDNOW fixtures"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
# near VALUE WANT TOL
near() { awk -v v="$1" -v w="$2" -v t="$3" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(d <= t) }'; }
# json_num FILE KEY: the first "KEY":number in a JSON file
json_num() { grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -1 | cut -d: -f2; }

check_published() { # FILE (JSON summary)
  local f=$1
  near "$(json_num "$f" r)" 0.243 0.0005 || fail "r $(json_num "$f" r)"
  near "$(json_num "$f" alpha)" 4.414 0.0005 || fail "alpha"
  near "$(json_num "$f" a)" 0.793 0.0005 || fail "a"
  near "$(json_num "$f" b)" 2.426 0.0005 || fail "b"
  near "$(json_num "$f" log_likelihood)" -9582.4 0.05 || fail "LL"
  near "$(json_num "$f" p)" 6.25 0.005 || fail "p"
  near "$(json_num "$f" q)" 3.74 0.005 || fail "q"
  near "$(json_num "$f" gamma)" 15.44 0.005 || fail "gamma"
}

# ---- fit on the summary table, and on the transaction log ----
"$strata" clv fit --cbs "$cbs" --unit weeks --holdout-length 39 --json --quiet >"$work/fit.json"
check_published "$work/fit.json"
"$strata" clv fit --elog "$elog" --id-column sampleid --calibration-end 1997-09-30 \
  --holdout-end 1998-06-30 --unit weeks --json --quiet >"$work/fit_elog.json"
check_published "$work/fit_elog.json"
grep -q '"transactions":6919' "$work/fit_elog.json" || fail "elog transactions"
grep -q '"persons":2357' "$work/fit_elog.json" || fail "elog persons"

# holdout table: actual means per frequency group recomputed from x.star
gzip -dc "$cbs" | awk -F, 'NR > 1 { g = $2 >= 7 ? 7 : $2; n[g]++; s[g] += $5 }
  END { for (g = 0; g < 8; g++) printf "%d %d %.6f\n", g, n[g], s[g] / n[g] }' >"$work/want.txt"
for f in fit.json fit_elog.json; do
  grep -o '"x":"[0-9+]*","persons":[0-9]*,"actual":[-0-9.eE+]*' "$work/$f" |
    sed 's/"x":"\([0-9]*\)+*","persons":\([0-9]*\),"actual":\(.*\)/\1 \2 \3/' >"$work/got.txt"
  [ "$(wc -l <"$work/got.txt")" -eq 8 ] || fail "$f: 8 holdout groups expected"
  paste -d' ' "$work/want.txt" "$work/got.txt" | while read -r g n a g2 n2 a2; do
    [ "$g" = "$g2" ] && [ "$n" = "$n2" ] || fail "$f: group $g persons $n vs $n2"
    near "$a" "$a2" 1e-6 || fail "$f: group $g actual $a vs $a2"
  done
done
grep -q '"actual_total":1882' "$work/fit.json" || fail "1882 holdout purchases"

# the summary has the shape of summary.json: `strata report` renders it (holdout chart)
grep -q '^{"clv":{' "$work/fit.json" || fail "summary shaped like summary.json"
"$strata" report --summary "$work/fit.json" --out "$work/report.html" --lang en >/dev/null 2>&1 ||
  fail "strata report cannot render the clv summary"

# the text output names the parameters and the holdout table
"$strata" clv fit --cbs "$cbs" --unit weeks --holdout-length 39 --quiet >"$work/fit.txt"
grep -q "r 0.2426   alpha 4.4136   a 0.7929   b 2.4259" "$work/fit.txt" || fail "text params"
grep -q "^  7+ *64 *6.359" "$work/fit.txt" || fail "text holdout row 7+"

# ---- predict ----
"$strata" clv predict --cbs "$cbs" --unit weeks --horizon 39 --out "$work/preds.csv" \
  --summary "$work/sum.json" --quiet >/dev/null
[ "$(wc -l <"$work/preds.csv")" -eq 2358 ] || fail "one prediction per person"
head -1 "$work/preds.csv" | grep -qx 'id,x,t_x,T,p_alive,exp_purchases,exp_aov,clv' || fail "header"
row1=$(grep '^1,' "$work/preds.csv")
near "$(echo "$row1" | cut -d, -f6)" 1.226 0.0005 || fail "customer 1 E[X(39)]: $row1"
# reference_clv.py: P(alive) 0.72662, exp_aov 24.6539, CLV 36.2740 (12 months of 4.345 weeks,
# 1 %/month) at parameters equal to ours within 1e-5
near "$(echo "$row1" | cut -d, -f5)" 0.72662 0.00005 || fail "customer 1 P(alive)"
near "$(echo "$row1" | cut -d, -f7)" 24.6539 0.0005 || fail "customer 1 exp_aov"
near "$(echo "$row1" | cut -d, -f8)" 36.2740 0.001 || fail "customer 1 clv"
# the summary's totals are the sums of the file's columns
sum_clv=$(awk -F, 'NR > 1 { s += $8 } END { printf "%.4f", s }' "$work/preds.csv")
near "$(json_num "$work/sum.json" clv_sum)" "$sum_clv" 0.01 || fail "clv_sum vs file"
grep -q '"p_alive_heatmap"' "$work/sum.json" || fail "heatmap"
# every value finite, P(alive) within [0, 1]
awk -F, 'NR > 1 && !($5 >= 0 && $5 <= 1 && $6 >= 0 && $8 >= 0) { bad++ } END { exit bad > 0 }' \
  "$work/preds.csv" || fail "non-finite or out-of-range predictions"

# ---- extreme frequencies, empty values skipped and counted ----
{ echo "id,x,t_x,T"; gzip -dc "$cbs" | awk -F, 'NR > 1 { print $1 "," $2 "," $3 "," $4 }'
  echo "heavy,300,38,38.5"; echo "heavier,10000,38.6,38.6"; echo "blank,,1,2"; } >"$work/big.csv"
"$strata" clv predict --cbs "$work/big.csv" --unit weeks --out "$work/big_preds.csv" --quiet \
  2>"$work/err.txt" >/dev/null
grep -q "1 rows with empty values skipped (first at line 2361)" "$work/err.txt" || fail "skip count"
head -1 "$work/big_preds.csv" | grep -qx 'id,x,t_x,T,p_alive,exp_purchases' || fail "header without m"
awk -F, '$1 == "heavier" { exit !($5 > 0.99 && $6 > 100) } ' "$work/big_preds.csv" || fail "x = 10000"
grep -q '^heavy,300,' "$work/big_preds.csv" || fail "x = 300 row"
if grep -qi 'nan\|inf' "$work/big_preds.csv"; then fail "non-finite output"; fi

# ---- bad input and usage ----
code() { set +e; "$@" >/dev/null 2>"$work/err.txt"; echo $?; set -e; }
[ "$(code "$strata" clv fit --cbs "$work/none.csv")" = 66 ] || fail "missing file: 66"
[ "$(code "$strata" clv fit --cbs "$cbs" --unit months)" = 64 ] || fail "bad unit: 64"
[ "$(code "$strata" clv fit --elog "$elog")" = 64 ] || fail "elog without calibration end: 64"
[ "$(code "$strata" clv fit)" = 64 ] || fail "no input: 64"
[ "$(code "$strata" clv predict --cbs "$cbs")" = 64 ] || fail "predict without --out: 64"
[ "$(code "$strata" clv frobnicate)" = 64 ] || fail "unknown subcommand: 64"
printf 'x,t_x,T\n1,5,10\n2,12,10\n' >"$work/bad.csv"
[ "$(code "$strata" clv fit --cbs "$work/bad.csv")" = 64 ] || fail "t_x > T: EINVAL 64"
grep -q "row 2: t_x must be between 0 and T" "$work/err.txt" || fail "message names the row"
printf 'x,t_x,T\n1,5,10\n2,abc,10\n' >"$work/bad.csv"
[ "$(code "$strata" clv fit --cbs "$work/bad.csv")" = 65 ] || fail "not a number: EPARSE 65"
grep -q "bad.csv:3:2: not a number 'abc'" "$work/err.txt" || fail "message names line and column"
printf 'x,t_x\n1,5\n' >"$work/bad.csv"
[ "$(code "$strata" clv fit --cbs "$work/bad.csv")" = 65 ] || fail "missing column: 65"
printf 'x,t_x,T\n0,0,10\n0,0,4\n' >"$work/bad.csv"
[ "$(code "$strata" clv fit --cbs "$work/bad.csv")" = 65 ] || fail "no repeat buyers: EDATA 65"
[ "$(code "$strata" clv fit --help)" = 0 ] || fail "--help"
"$strata" clv predict --help | grep -q "Examples:" || fail "help has examples"
echo "clv: CDNOW published estimates reproduced from cbs and elog; predictions checked"
