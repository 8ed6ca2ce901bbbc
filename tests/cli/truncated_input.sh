#!/usr/bin/env bash
# A plain input is memory-mapped while it is read; another process truncating it meanwhile
# faults the reader with SIGBUS. strata must say so and exit 74 (I/O error), not die with
# "Bus error". First the handler itself, on a run blocked on a FIFO (deterministic); then real
# truncations of a file being read, a few times with different delays: at least one must land
# while the file is read, and none may end the process by a signal.
set -euo pipefail
strata=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
want='an input file shrank while it was being read'

# 1. the handler: SIGBUS delivered to a run that waits for its input
mkfifo "$work/fifo"
"$strata" run --orders "$work/fifo" --out "$work/o1" --quiet --no-report 2> "$work/err1" &
pid=$!
exec 3> "$work/fifo"   # the run's open() returns once a writer exists
sleep 0.2
kill -BUS "$pid"
set +e; wait "$pid"; rc=$?; set -e
exec 3>&-
[ "$rc" -eq 74 ] || fail "SIGBUS: exit $rc, want 74 ($(cat "$work/err1"))"
grep -q "$want" "$work/err1" || fail "SIGBUS: message $(cat "$work/err1")"

# 2. real truncations while the file is mapped and read on one thread
"$strata" gen --users 20000 --orders 600000 --seed 2 --out "$work/data" --quiet
hits=0
for delay in 0.02 0.05 0.1 0.2 0.3; do
  cp "$work/data/orders.csv" "$work/orders.csv"
  "$strata" run --orders "$work/orders.csv" --out "$work/o2" --quiet --no-report --no-models \
    --threads 1 > /dev/null 2> "$work/err2" &
  pid=$!
  sleep "$delay"
  truncate -s 100 "$work/orders.csv"
  set +e; wait "$pid"; rc=$?; set -e
  [ "$rc" -lt 128 ] || fail "truncated after ${delay}s: killed by signal $((rc - 128))"
  if [ "$rc" -eq 74 ]; then
    grep -q "$want" "$work/err2" || fail "truncated: message $(cat "$work/err2")"
    hits=$((hits + 1))
  fi
done
[ "$hits" -gt 0 ] || fail "no truncation landed while the file was read"
echo "truncated input: ok ($hits of 5 truncations caught)"
