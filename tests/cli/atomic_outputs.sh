#!/usr/bin/env bash
# Outputs appear whole or not at all: a run that cannot finish writing (here: the file size
# limit, like a full disk) exits 74 and leaves the previous run's files as they were, with no
# half-written file and no temporary (*.part) behind; a run that succeeds replaces them.
set -euo pipefail
strata=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
sums() { (cd "$work/out" && sha256sum profiles.csv summary.json quality.json report.html); }

"$strata" gen --users 3000 --orders 30000 --seed 5 --out "$work/data" --quiet
"$strata" run --orders "$work/data/orders.csv" --out "$work/out" --quiet --no-models \
  --as-of 2025-06-01 > /dev/null
sums > "$work/before"
[ "$(stat -c %s "$work/out/profiles.csv")" -gt 200000 ] || fail "profiles.csv smaller than the test assumes"

# 1. profiles.csv cannot be written whole: 64 KiB file size limit, SIGXFSZ ignored so the
#    write fails with EFBIG instead of killing the process
set +e
( trap '' XFSZ; ulimit -f 64; exec "$strata" run --orders "$work/data/orders.csv" \
    --out "$work/out" --quiet --no-models --as-of 2025-07-01 ) > /dev/null 2> "$work/err"
rc=$?
set -e
[ "$rc" -eq 74 ] || fail "size limit: exit $rc, want 74 ($(cat "$work/err"))"
grep -q "profiles.csv: write failed" "$work/err" || fail "message: $(cat "$work/err")"
sums | cmp -s - "$work/before" || fail "the previous outputs changed: $(sums)"
ls "$work/out" | grep -q '\.part$' && fail "a temporary was left: $(ls "$work/out")"

# 2. a run that succeeds replaces every output and leaves no temporary
"$strata" run --orders "$work/data/orders.csv" --out "$work/out" --quiet --no-models \
  --as-of 2025-07-01 > /dev/null
sums > "$work/after"
for f in profiles.csv summary.json report.html; do
  a=$(grep " $f\$" "$work/before" | cut -c1-64); b=$(grep " $f\$" "$work/after" | cut -c1-64)
  [ "$a" != "$b" ] || fail "$f was not replaced by the new run"
done
ls "$work/out" | grep -q '\.part$' && fail "a temporary was left: $(ls "$work/out")"
echo "atomic outputs: ok"
