#!/usr/bin/env bash
# Black-box test of threading: the whole job (every input kind, identity links, dirt, all
# models) gives byte-identical profiles.csv and summary numbers on 1, 2 and 3 threads, and a
# gzip input gives the same as the plain file. Built with STRATA_TSAN=ON (`make test-tsan`),
# the same runs go through ThreadSanitizer, which aborts the run on a data race.
set -euo pipefail
strata=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"

"$strata" gen --users 6000 --orders 40000 --events 60000 --seed 11 --dirt 0.02 --out "$work/in" --quiet
gzip -k "$work/in/orders.csv"
run() { # OUT THREADS ORDERS
  "$strata" run --orders "$3" --events "$work/in/events.csv" --users "$work/in/users.csv" \
    --identities "$work/in/identities.csv" --out "$work/$1" --threads "$2" --no-report --quiet \
    --json > "$work/$1.json" || fail "run $1 on $2 threads exited $?"
}
run t1 1 "$work/in/orders.csv"
run t2 2 "$work/in/orders.csv"
run t3 3 "$work/in/orders.csv"
run gz 2 "$work/in/orders.csv.gz"

[ "$(wc -l < "$work/t1/profiles.csv")" -gt 5000 ] || fail "too few profiles"
[ "$(wc -l < "$work/t1/rejects.csv")" -gt 100 ] || fail "too few rejects for --dirt"
for out in t2 t3 gz; do
  cmp -s "$work/t1/profiles.csv" "$work/$out/profiles.csv" || fail "profiles.csv of $out differs from 1 thread"
  # rejects name their file: compare from the second column on
  cmp -s <(cut -d, -f2- "$work/t1/rejects.csv") <(cut -d, -f2- "$work/$out/rejects.csv") ||
    fail "rejects.csv of $out differs from 1 thread"
done
# summaries agree except for timings, the input paths and their checksums
strip() { python3 -c '
import json, sys
def clean(x):
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()
                if k not in ("generated_at", "inputs", "path", "table") and "seconds" not in k}
    return [clean(v) for v in x] if isinstance(x, list) else x
print(json.dumps(clean(json.load(open(sys.argv[1]))), sort_keys=True))' "$1"; }
s1=$(strip "$work/t1.json")
for out in t2 t3 gz; do
  [ "$s1" = "$(strip "$work/$out.json")" ] || fail "summary of $out differs from 1 thread"
done
echo "threads: 1, 2, 3 threads and gzip input agree"
