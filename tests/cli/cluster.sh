#!/usr/bin/env bash
# cluster.sh — `strata cluster` end to end on a generated table of three RFM-like blobs:
# the blobs are recovered exactly (checked here with awk against the generating blob), k is
# chosen as 3 by the silhouette, the clusters are named from their centroids, sizes and
# revenue shares match sums computed here, the same seed gives the same output, a saved
# model assigns new rows identically, empty values are skipped and counted, and bad model
# files and bad usage fail with the right exit codes.
# Usage: bash cluster.sh STRATA_BIN SOURCE_DIR BINARY_DIR
set -euo pipefail
strata=${1:?strata binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
near() { awk -v v="$1" -v w="$2" -v t="$3" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(d <= t) }'; }

# 3 x 500 persons with +-15 % noise around
#   A: recency 5, frequency 20, monetary 2000;  B: 300, 1, 20;  C: 60, 4, 200
# plus an unused text column; blob name in the id (A17, B3, ...) for checking.
awk 'BEGIN {
  srand(42); print "user_id,segment_note,recency_days,frequency,monetary"
  split("5 300 60", r); split("20 1 4", f); split("2000 20 200", m); split("A B C", b)
  for (i = 0; i < 1500; i++) { k = i % 3 + 1
    printf "%s%d,note %d,%.2f,%.3f,%.2f\n", b[k], i, i, r[k] * (0.85 + 0.3 * rand()),
           f[k] * (0.85 + 0.3 * rand()), m[k] * (0.85 + 0.3 * rand()) } }' >"$work/t.csv"

# ---- k chosen by silhouette; blobs recovered; names; shares ----
"$strata" cluster --table "$work/t.csv" --id user_id --seed 3 --out "$work/a.csv" \
  --model "$work/m.json" --summary "$work/s.json" --quiet >"$work/a.txt"
grep -q '"k":3,' "$work/s.json" || fail "k chosen by silhouette should be 3"
[ "$(wc -l <"$work/a.csv")" -eq 1501 ] || fail "one row per person"
# every blob maps to one cluster, and the three clusters differ
awk -F, 'NR > 1 { b = substr($1, 1, 1); if (!(b in c)) c[b] = $2; else if (c[b] != $2) bad = 1 }
  END { if (bad || c["A"] == c["B"] || c["B"] == c["C"] || c["A"] == c["C"]) exit 1 }' \
  "$work/a.csv" || fail "blobs not recovered exactly"
# cluster 0 has the most revenue: blob A, named from its centroid
grep -q '^A0,0,recent frequent big spenders,近期活跃高频高消费客户$' "$work/a.csv" || fail "name of A"
grep -q '^B1,[0-9],lapsed occasional low spenders,久未购买低频低消费客户$' "$work/a.csv" || fail "name of B"
grep -q '^C2,[0-9],average customers,一般客户$' "$work/a.csv" || fail "name of C"
# revenue share of blob A computed here
share=$(awk -F, 'NR > 1 { t += $5; if (substr($1, 1, 1) == "A") a += $5 } END { printf "%.12f", a / t }' "$work/t.csv")
got=$(grep -o '"revenue_share":[0-9.eE+-]*' "$work/s.json" | head -1 | cut -d: -f2)
near "$got" "$share" 1e-9 || fail "revenue share $got vs $share"
grep -q '"size":500,' "$work/s.json" || fail "cluster sizes"
grep -q "silhouette by k: 2:" "$work/a.txt" || fail "text shows the silhouette per k"

# ---- determinism, and the saved model assigns the same clusters ----
"$strata" cluster --table "$work/t.csv" --id user_id --seed 3 --out "$work/b.csv" --quiet >/dev/null
cmp -s "$work/a.csv" "$work/b.csv" || fail "same seed, different output"
"$strata" cluster --table "$work/t.csv" --id user_id --apply "$work/m.json" --out "$work/c.csv" \
  --quiet >/dev/null
cmp -s "$work/a.csv" "$work/c.csv" || fail "--apply differs from the fit"
# new persons: one near each blob, and one with an empty value (skipped and counted)
printf 'user_id,recency_days,frequency,monetary\nnewA,4,25,2500\nnewB,280,1,15\nnewX,,3,3\n' >"$work/new.csv"
"$strata" cluster --table "$work/new.csv" --id user_id --apply "$work/m.json" --out "$work/n.csv" \
  --quiet >/dev/null 2>"$work/err.txt"
grep -q '^newA,0,recent frequent big spenders' "$work/n.csv" || fail "new person near A"
grep -q '^newB,[0-9],lapsed' "$work/n.csv" || fail "new person near B"
grep -q "1 rows with empty values skipped (first at line 4)" "$work/err.txt" || fail "skipped count"

# ---- k given, other features, JSON ----
"$strata" cluster --table "$work/t.csv" --features frequency,monetary --k 2 --json --quiet >"$work/k2.json"
grep -q '"k":2,' "$work/k2.json" || fail "--k 2"
grep -q '"features":\["frequency","monetary"\]' "$work/k2.json" || fail "--features"

# ---- bad model files and usage ----
code() { set +e; "$@" >/dev/null 2>"$work/err.txt"; echo $?; set -e; }
sed 's/"version":\t1/"version":\t9/' "$work/m.json" >"$work/v9.json"
grep -q '"version":	9' "$work/v9.json" || fail "fixture edit"
[ "$(code "$strata" cluster --table "$work/t.csv" --apply "$work/v9.json")" = 70 ] || fail "version 9: EMODEL 70"
grep -q "unsupported version" "$work/err.txt" || fail "version message"
head -c 200 "$work/m.json" >"$work/cut.json"
[ "$(code "$strata" cluster --table "$work/t.csv" --apply "$work/cut.json")" = 65 ] || fail "truncated: EPARSE 65"
[ "$(code "$strata" cluster --table "$work/t.csv" --apply "$work/none.json")" = 66 ] || fail "missing model: 66"
[ "$(code "$strata" cluster --table "$work/t.csv" --features nope)" = 65 ] || fail "missing column: 65"
grep -q "no column named nope" "$work/err.txt" || fail "missing column message"
[ "$(code "$strata" cluster --table "$work/t.csv" --k 1)" = 64 ] || fail "--k 1: 64"
[ "$(code "$strata" cluster)" = 64 ] || fail "no --table: 64"
[ "$(code "$strata" cluster --table "$work/t.csv" --apply "$work/m.json" --k 3)" = 64 ] || fail "--apply with --k"
printf 'recency_days,frequency,monetary\n1,2,x\n' >"$work/bad.csv"
[ "$(code "$strata" cluster --table "$work/bad.csv")" = 65 ] || fail "not a number: 65"
grep -q "bad.csv:2:3: not a number 'x'" "$work/err.txt" || fail "message names line and column"
[ "$(code "$strata" cluster --help)" = 0 ] || fail "--help"
echo "cluster: blobs recovered, k = 3 chosen, model round trip and bad files checked"
