#!/usr/bin/env bash
# churn_vs_xgboost.sh — churn training and scoring, strata vs Python xgboost, on the same
# synthetic CSVs in the same run.
#
#   bash bench/churn_vs_xgboost.sh [STRATA_BIN] [ROWS=1000000] [THREADS=2] [WORK=bench/work/churn]
#
# Data: bench/churn_vs_xgboost.py gen writes train.csv and score.csv, ROWS persons each, 20
# columns (17 numeric with missing values, 3 text) and a known non-linear churn signal, from
# a fixed seed. Both sides: read the training CSV, one-hot the text columns, hold out a
# stratified 20 % test split, stop early on 20 % of the rest, train XGBoost (hist, depth 6,
# eta 0.1, <= 200 rounds, seed 42, nthread THREADS), then read score.csv and write
# id,churn_prob for every person. strata also trains its logistic baseline and chooses.
# Measured: wall time and peak RSS (/usr/bin/time) of train and of score, and the AUC of both
# score files on score.csv's labels computed by scikit-learn (independent of both). The
# checksum is the sha256 of strata's score file: the same build gives the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
strata=${1:-$here/../build/strata}
rows=${2:-1000000}
threads=${3:-2}
work=${4:-$here/work/churn}
py=/usr/bin/python3
mkdir -p "$work"

if [ ! -f "$work/train.csv" ] || [ "$(cat "$work/rows" 2>/dev/null)" != "$rows" ]; then
  echo "generating $rows + $rows persons (seed 20240101)..."
  "$py" "$here/churn_vs_xgboost.py" gen "$work" "$rows" 20240101
  echo "$rows" >"$work/rows"
fi

measure() { # label, command... -> "$work/$label.time" (wall seconds, max RSS kB)
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@"
}

echo "strata churn train..."
measure strata_train "$strata" churn train --table "$work/train.csv" --label churned \
  --id person_id --model "$work/strata.model" --threads "$threads" --quiet --json \
  >"$work/strata_train.json"
echo "strata churn score..."
measure strata_score "$strata" churn score --table "$work/score.csv" --model "$work/strata.model" \
  --out "$work/strata_scores.csv" --threads "$threads" --quiet --json >"$work/strata_score.json"
echo "python xgboost train + score..."
measure python "$py" "$here/churn_vs_xgboost.py" train "$work/train.csv" "$work/score.csv" \
  "$work/python_scores.csv" "$threads" >"$work/python.json"
echo "AUC on score.csv (scikit-learn)..."
"$py" "$here/churn_vs_xgboost.py" auc "$work/score.csv" "$work/strata_scores.csv" \
  "$work/python_scores.csv" >"$work/auc.json"

"$py" - "$work" "$rows" "$threads" <<'EOF'
import hashlib, json, sys
work, rows, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def t(label):
    wall, rss = open(f"{work}/{label}.time").read().split()
    return float(wall), int(rss) / 1024
tr = json.load(open(f"{work}/strata_train.json"))
py = json.load(open(f"{work}/python.json"))
auc = json.load(open(f"{work}/auc.json"))
st_tr, st_sc, py_all = t("strata_train"), t("strata_score"), t("python")
models = {m["model"]: m for m in tr["models"]}
x = models["xgboost"]
s_auc = auc[f"{work}/strata_scores.csv"]
p_auc = auc[f"{work}/python_scores.csv"]
digest = hashlib.sha256(open(f"{work}/strata_scores.csv", "rb").read()).hexdigest()[:16]
print(f"\nchurn bench: {rows} persons to train on, {rows} to score, {threads} threads")
print(f"{'':34}{'strata':>12}{'python xgboost':>16}")
print(f"{'train (read, encode, fit) s':34}{st_tr[0]:12.1f}{py['train_seconds']:16.1f}")
print(f"{'score (read, encode, predict) s':34}{st_sc[0]:12.1f}{py['score_seconds']:16.1f}")
print(f"{'train + score wall s':34}{st_tr[0] + st_sc[0]:12.1f}{py_all[0]:16.1f}")
print(f"{'peak RSS MiB (train / all)':34}{max(st_tr[1], st_sc[1]):12.0f}{py_all[1]:16.0f}")
print(f"{'xgboost rounds kept':34}{x['rounds']:12.0f}{py['rounds']:16.0f}")
print(f"{'xgboost AUC, own test split':34}{x['auc']:12.4f}{py['test_auc']:16.4f}")
print(f"{'AUC of the scores (score.csv)':34}{s_auc:12.4f}{p_auc:16.4f}")
print(f"strata chose {tr['chosen']} (logistic test AUC "
      f"{models.get('logistic', {}).get('auc', float('nan')):.4f}); "
      f"strata fit times: xgboost {x['train_seconds']:.1f} s, logistic "
      f"{models.get('logistic', {}).get('train_seconds', float('nan')):.1f} s")
print(f"checksum (sha256 of strata_scores.csv): {digest}")
json.dump({"rows": rows, "threads": threads, "strata_train_s": st_tr[0], "strata_score_s": st_sc[0],
           "strata_peak_mib": max(st_tr[1], st_sc[1]), "python_train_s": py["train_seconds"],
           "python_score_s": py["score_seconds"], "python_wall_s": py_all[0],
           "python_peak_mib": py_all[1], "strata_auc": s_auc, "python_auc": p_auc,
           "strata_rounds": x["rounds"], "python_rounds": py["rounds"], "checksum": digest},
          open(f"{work}/result.json", "w"), indent=1)
EOF
