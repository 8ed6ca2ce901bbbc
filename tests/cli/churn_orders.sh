#!/usr/bin/env bash
# `strata churn train|eval|score --orders`: labels and features from the orders themselves.
set -euo pipefail
strata=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$strata" gen --users 4000 --orders 30000 --events 60000 --seed 11 --out "$work/d" --quiet
d=$work/d
"$strata" churn train --orders "$d/orders.csv" --events "$d/events.csv" --model "$work/m.model" \
  --json --quiet > "$work/train.json"
grep -q '"command":"train"' "$work/train.json"
grep -q '"label":"churned = no valid order in the 90 days after' "$work/train.json"
test -s "$work/m.model"
# the held-out AUC of the chosen model on this synthetic data is well above chance
auc=$(grep -o '"chosen":"[a-z]*"' "$work/train.json" | cut -d'"' -f4)
"$strata" churn eval --orders "$d/orders.csv" --events "$d/events.csv" --model "$work/m.model" \
  --json --quiet > "$work/eval.json"
awk -v s="$(grep -o '"auc":[0-9.]*' "$work/eval.json" | head -1 | cut -d: -f2)" \
  'BEGIN { if (s + 0 < 0.75) { print "eval AUC " s " too low"; exit 1 } }'
"$strata" churn score --orders "$d/orders.csv" --events "$d/events.csv" --model "$work/m.model" \
  --out "$work/scores.csv" --quiet > "$work/score.txt"
head -1 "$work/scores.csv" | grep -qx 'user_id,churn_prob,churn_risk'
rows=$(($(wc -l < "$work/scores.csv") - 1))
grep -q "churn score: .* -> $work/scores.csv, $rows persons" "$work/score.txt"
# every probability is in [0, 1] and its risk band follows the default thresholds
awk -F, 'NR > 1 { p = $2 + 0; r = (p >= 0.6) ? "high" : (p >= 0.3) ? "medium" : "low";
                 if (p < 0 || p > 1 || r != $3) { print "bad row " NR ": " $0; exit 1 } }' "$work/scores.csv"
# a model trained on a table is refused for order data
set +e
"$strata" churn score --orders "$d/orders.csv" --model /dev/null --out "$work/x.csv" --quiet 2>/dev/null
rc=$?
set -e
test "$rc" -ne 0
echo "churn on orders: trained ($auc), evaluated, scored $rows persons"
