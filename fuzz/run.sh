#!/usr/bin/env bash
# Run every libFuzzer target briefly on a copy of its kept corpus (fuzz/corpus/<target>/).
# Usage: fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
# A crash fails the run; copy the crasher into tests/data/fuzz/<target>/ as a regression input.
set -euo pipefail
build=${1:?build dir}
secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
count=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  target=${name#fuzz_}
  mkdir -p "$work/$target"
  [ -d "$here/corpus/$target" ] && cp -r "$here/corpus/$target/." "$work/$target/" 2>/dev/null || true
  # regression inputs must keep passing
  regress="$here/../tests/data/fuzz/$target"
  if [ -d "$regress" ] && ls "$regress"/* >/dev/null 2>&1; then
    "$bin" "$regress"/* >/dev/null 2>&1 || { echo "fuzz $target: regression input fails"; status=1; }
  fi
  echo "fuzz $target: ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -max_len=65536 \
        -artifact_prefix="$work/crash-$target-" "$work/$target" >"$work/$target.log" 2>&1; then
    echo "fuzz $target: FAILED"; tail -40 "$work/$target.log"
    mkdir -p "$build/fuzz-crashes" && cp "$work"/crash-"$target"-* "$build/fuzz-crashes/" 2>/dev/null || true
    status=1
  else
    grep -E '^(#[0-9]+|Done)' "$work/$target.log" | tail -1
  fi
  count=$((count+1))
done
echo "fuzz: $count targets, status $status"
exit $status
