#!/usr/bin/env bash
# kmeans_vs_sklearn.sh — K-means, `strata cluster` vs scikit-learn's KMeans on the same
# synthetic CSV in the same run.
#
#   bash bench/kmeans_vs_sklearn.sh [STRATA_BIN] [PERSONS=1000000] [K=5] [N_INIT=4] [THREADS=2]
#                                   [WORK=bench/work/kmeans]
#
# Data: bench/kmeans_vs_sklearn.py gen writes recency_days,frequency,monetary for PERSONS
# persons from five overlapping heavy-tailed segments (numpy seed 20240101). Both sides read
# the CSV, take log1p and standardize (population sd), run k-means++ + Lloyd with K clusters
# and the best of N_INIT restarts (max_iter 300, tol 1e-4 relative to the mean variance);
# sklearn with random_state 0 and OMP_NUM_THREADS=THREADS, strata with --seed 1 --threads.
# Measured with /usr/bin/time: wall seconds and peak RSS of each whole process (reading the
# CSV included). Quality: inertia in the same standardized space; the check is
# strata / sklearn <= 1.01 (the script exits 1 otherwise). Checksum: sha256 of strata's
# labels file (the same build gives the same bytes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
strata=$(realpath "${1:-$here/../build/strata}")
persons=${2:-1000000}
k=${3:-5}
n_init=${4:-4}
threads=${5:-2}
work=${6:-$here/work/kmeans}
py=/usr/bin/python3
mkdir -p "$work"
data="$work/rfm-$persons.csv"
[ -f "$data" ] || { echo "generating $persons persons (seed 20240101)..."; "$py" "$here/kmeans_vs_sklearn.py" gen "$data" "$persons" 20240101; }

measure() { # label, command... -> "$work/$label.time" ("wall_seconds max_rss_kB")
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@"
}
echo "strata cluster (k=$k, n_init=$n_init)..."
measure strata "$strata" cluster --table "$data" --k "$k" --n-init "$n_init" --seed 1 \
  --threads "$threads" --quiet --json --out "$work/strata_labels.csv" >"$work/strata.json"
echo "sklearn KMeans (k=$k, n_init=$n_init)..."
measure sklearn env OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
  "$py" "$here/kmeans_vs_sklearn.py" fit "$data" "$k" "$n_init" "$work/sklearn.json"

"$py" - "$work" <<'PY'
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/strata.json"))["clusters"]
p = json.load(open(f"{w}/sklearn.json"))
st = open(f"{w}/strata.time").read().split()
sk = open(f"{w}/sklearn.time").read().split()
sizes = sorted((c["size"] for c in s["clusters"]), reverse=True)
print(f"persons {s['persons']}, k {s['k']}, n_init {p['n_init']}")
print(f"{'':8} {'inertia':>14} {'iterations':>10} {'wall s':>8} {'peak MiB':>9}  sizes")
print(f"{'strata':8} {s['inertia']:14.2f} {s['iterations']:10d} {float(st[0]):8.2f} {int(st[1]) / 1024:9.0f}  {sizes}")
print(f"{'sklearn':8} {p['inertia']:14.2f} {p['iterations']:10d} {float(sk[0]):8.2f} {int(sk[1]) / 1024:9.0f}  {p['sizes']}")
print(f"sklearn: read {p['read_seconds']:.2f} s, fit {p['fit_seconds']:.2f} s")
ratio = s["inertia"] / p["inertia"]
print(f"inertia ratio strata / sklearn: {ratio:.5f}  (must be <= 1.01)")
print(f"wall time ratio sklearn / strata: {float(sk[0]) / float(st[0]):.1f}")
for c in s["clusters"]:
    print(f"  {c['id']}  {c['name_en']:36} {c['size']:8d}  revenue {100 * c['revenue_share']:5.1f}%  {c['name_zh']}")
sys.exit(0 if ratio <= 1.01 else 1)
PY
echo "checksum $(sha256sum "$work/strata_labels.csv" | cut -c1-16) strata_labels.csv"
