#!/usr/bin/env bash
# churn_telco.sh — `strata churn` end to end on the IBM Telco churn data (tests/data/telco):
# train must reach AUC >= 0.80 on the held-out split (published results are about 0.84), the
# saved model must score every customer, `churn eval`'s AUC must match an AUC computed here
# independently (awk, Mann-Whitney with tied ranks) from the scores file, training must be
# deterministic, and damaged model files and bad usage must fail with the right exit codes.
# Usage: bash churn_telco.sh STRATA_BIN SOURCE_DIR BINARY_DIR
set -euo pipefail
strata=${1:?strata binary}
src=${2:?source dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$src/tests/data/telco/telco_customer_churn.csv.gz"
[ -f "$data" ] || { echo "missing $data"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# ---- train: both models measured on the held-out split, the better one saved ----
"$strata" churn train --table "$data" --label Churn --id customerID --threads 2 --quiet \
  --model "$work/a.model" --json >"$work/train.json"
aucs=$(grep -o '"auc":[0-9.eE+-]*' "$work/train.json" | cut -d: -f2)
[ "$(echo "$aucs" | wc -l)" -eq 2 ] || fail "expected the AUC of two models, got: $aucs"
for a in $aucs; do
  awk -v a="$a" 'BEGIN { exit !(a >= 0.80 && a <= 1) }' || fail "held-out AUC $a < 0.80"
done
grep -q '"rows":7043' "$work/train.json" || fail "rows"
grep -q '"positives":1869' "$work/train.json" || fail "positives"
grep -q '"test":1409' "$work/train.json" || fail "test split size (round(0.2*1869)+round(0.2*5174))"
grep -q '"chosen":"\(xgboost\|logistic\)"' "$work/train.json" || fail "chosen"
grep -q '"feature":"Contract=Month-to-month"' "$work/train.json" || fail "one-hot features"
# customerID is the id: never a feature, never reported as left out
if grep -q 'customerID=' "$work/train.json"; then fail "id used as a feature"; fi
echo "telco held-out AUC: $(echo $aucs | tr ' ' '/') (xgboost/logistic)"

# the text report names every section
"$strata" churn train --table "$data" --label Churn --id customerID --threads 2 --quiet \
  --model "$work/b.model" >"$work/train.txt"
for s in "measured on the test split" "confusion matrix" "calibration by deciles" \
         "top features of xgboost" "top features of logistic" "churn risk"; do
  grep -q "$s" "$work/train.txt" || fail "train report lacks '$s'"
done
# same seed and threads: the same model file, byte for byte
cmp -s "$work/a.model" "$work/b.model" || fail "training is not deterministic"

# ---- score every customer ----
"$strata" churn score --table "$data" --model "$work/a.model" --out "$work/scores.csv" \
  --value TotalCharges --tier Contract --quiet --json >"$work/score.json"
[ "$(head -1 "$work/scores.csv")" = "id,churn_prob,churn_risk" ] || fail "scores header"
[ "$(wc -l <"$work/scores.csv")" -eq 7044 ] || fail "scores rows"
awk -F, 'NR > 1 && !($2 >= 0 && $2 <= 1 && ($3 == "low" && $2 < 0.3 || $3 == "medium" && \
  $2 >= 0.3 && $2 < 0.6 || $3 == "high" && $2 >= 0.6)) { bad++ } END { exit bad > 0 }' \
  "$work/scores.csv" || fail "churn_risk does not follow churn.medium 0.3 / churn.high 0.6"
grep -q '"by_tier":\[' "$work/score.json" || fail "risk by tier"
grep -q '"worth_saving":\[{"id":' "$work/score.json" || fail "worth saving"

# ---- eval: its AUC equals one computed here from the scores and the labels ----
"$strata" churn eval --table "$data" --model "$work/a.model" --quiet --json >"$work/eval.json"
eval_auc=$(grep -o '"auc":[0-9.eE+-]*' "$work/eval.json" | cut -d: -f2)
zcat "$data" | awk -F, 'NR > 1 { print $1 "," ($NF == "Yes") }' | sort -t, -k1,1 >"$work/labels"
tail -n +2 "$work/scores.csv" | sort -t, -k1,1 | join -t, - "$work/labels" |
  sort -t, -k2,2g >"$work/joined"
awk_auc=$(awk -F, '
  { p[NR] = $2; y[NR] = $4; n = NR }
  END {
    i = 1
    while (i <= n) {                 # tie groups share their mean rank
      j = i; while (j < n && p[j + 1] == p[i]) j++
      for (k = i; k <= j; k++) if (y[k]) { sum += (i + j) / 2; pos++ }
      i = j + 1
    }
    neg = n - pos
    printf "%.6f", (sum - pos * (pos + 1) / 2) / (pos * neg)
  }' "$work/joined")
awk -v a="$eval_auc" -v b="$awk_auc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 2e-4) }' ||
  fail "eval AUC $eval_auc differs from the independent $awk_auc"
echo "telco all-rows AUC: strata $eval_auc, independent $awk_auc"

# ---- damaged models and bad usage ----
head -c 100 "$work/a.model" >"$work/cut.model"
set +e
"$strata" churn score --table "$data" --model "$work/cut.model" --out "$work/x.csv" 2>"$work/err"
rc=$?
set -e
[ $rc -eq 65 ] || fail "truncated model: exit $rc, want 65 (EPARSE)"
grep -q "truncated" "$work/err" || fail "truncated model message: $(cat "$work/err")"
[ ! -e "$work/x.csv" ] || fail "a failed score left an output file"
cp "$work/a.model" "$work/flip.model"
printf '\x01' | dd of="$work/flip.model" bs=1 seek=200 conv=notrunc status=none
set +e
"$strata" churn eval --table "$data" --model "$work/flip.model" 2>"$work/err"; rc=$?
"$strata" churn train --table "$data" --label NoSuchColumn 2>/dev/null; rc2=$?
"$strata" churn train --table "$data" 2>/dev/null; rc3=$?
"$strata" churn frobnicate 2>/dev/null; rc4=$?
set -e
[ $rc -eq 65 ] || fail "damaged model: exit $rc, want 65"
grep -q "checksum" "$work/err" || fail "damaged model message: $(cat "$work/err")"
[ $rc2 -eq 65 ] || fail "unknown label column: exit $rc2, want 65 (EDATA)"
[ $rc3 -eq 64 ] || fail "missing --label: exit $rc3, want 64"
[ $rc4 -eq 64 ] || fail "unknown subcommand: exit $rc4, want 64"
for sub in train eval score; do
  "$strata" churn $sub --help | grep -q "Examples:" || fail "churn $sub --help"
done
"$strata" churn --help | grep -q "train" || fail "churn --help"
echo "churn_telco: ok"
