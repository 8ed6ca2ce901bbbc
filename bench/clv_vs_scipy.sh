#!/usr/bin/env bash
# clv_vs_scipy.sh — BG/NBD maximum likelihood, `strata clv fit` vs scipy.optimize (L-BFGS-B on
# log parameters, analytic gradient) on the same synthetic file in the same run.
#
#   bash bench/clv_vs_scipy.sh [STRATA_BIN] [PERSONS=1000000] [THREADS=2] [WORK=bench/work/clv]
#
# Data: bench/clv_vs_scipy.py gen simulates the BG/NBD process (r 0.243, alpha 4.414,
# a 0.793, b 2.426 — the CDNOW estimates, weeks; T uniform in 1..78 weeks) with numpy seed
# 20240101 and writes x,t_x,T. Both sides read that CSV and maximise the same likelihood.
# Measured with /usr/bin/time: wall seconds and peak RSS of each whole process (reading the
# CSV included). Compared: the four parameters and the log-likelihood. Then `strata clv
# predict` (39 weeks ahead) is checked against scipy's hyp2f1 evaluation of the textbook
# formula at strata's parameters. The checksum line is sha256 of strata's predictions file:
# the same build on the same data gives the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
strata=$(realpath "${1:-$here/../build/strata}")
persons=${2:-1000000}
threads=${3:-2}
work=${4:-$here/work/clv}
py=/usr/bin/python3
mkdir -p "$work"
data="$work/bgnbd-$persons.csv"
[ -f "$data" ] || { echo "generating $persons persons (seed 20240101)..."; "$py" "$here/clv_vs_scipy.py" gen "$data" "$persons" 20240101; }

measure() { # label, command... -> "$work/$label.time" ("wall_seconds max_rss_kB")
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@"
}
echo "strata clv fit..."
measure strata_fit "$strata" clv fit --cbs "$data" --unit weeks --threads "$threads" --quiet --json \
  >"$work/strata_fit.json"
echo "scipy L-BFGS-B..."
measure scipy_fit env OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
  "$py" "$here/clv_vs_scipy.py" fit "$data" "$work/scipy_fit.json"
echo "strata clv predict (39 weeks)..."
measure strata_predict "$strata" clv predict --cbs "$data" --unit weeks --horizon 39 \
  --threads "$threads" --quiet --out "$work/strata_preds.csv" --json >"$work/strata_predict.json"
echo "scipy hyp2f1 check of the predictions..."
"$py" "$here/clv_vs_scipy.py" check "$data" "$work/strata_preds.csv" "$work/strata_fit.json" 39 \
  >"$work/check.json"

"$py" - "$work" <<'EOF'
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/strata_fit.json"))["clv"]["bgnbd"]
p = json.load(open(f"{w}/scipy_fit.json"))
st, sm = (open(f"{w}/strata_fit.time").read().split()), (open(f"{w}/scipy_fit.time").read().split())
pt = open(f"{w}/strata_predict.time").read().split()
print(f"persons {s['persons']}")
print(f"{'':8} {'r':>10} {'alpha':>10} {'a':>10} {'b':>10} {'LL':>18} {'wall s':>8} {'peak MiB':>9}")
for name, d, t in (("strata", s, st), ("scipy", p, sm)):
    print(f"{name:8} {d['r']:10.6f} {d['alpha']:10.6f} {d['a']:10.6f} {d['b']:10.6f} "
          f"{d['log_likelihood']:18.4f} {float(t[0]):8.2f} {int(t[1]) / 1024:9.0f}")
print(f"scipy: read {p['read_seconds']:.2f} s, fit {p['fit_seconds']:.2f} s, "
      f"{p['iterations']} iterations, {p['evaluations']} evaluations")
print(f"strata: {s['iterations']} iterations, {s['starts_converged']}/{s['starts']} starts converged")
print(f"LL difference strata - scipy: {s['log_likelihood'] - p['log_likelihood']:.6f}")
print(f"wall time ratio scipy / strata: {float(sm[0]) / float(st[0]):.1f}")
print(f"strata clv predict: {float(pt[0]):.2f} s, peak {int(pt[1]) / 1024:.0f} MiB")
print("prediction check:", open(f"{w}/check.json").read().strip())
EOF
echo "checksum $(sha256sum "$work/strata_preds.csv" | cut -c1-16) strata_preds.csv"
