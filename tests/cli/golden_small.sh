#!/usr/bin/env bash
# Golden test: six persons whose every profile value was computed by hand (see
# tests/golden/small/README.md). Compares each expected column of each person, then checks
# the quality report, the identity merge and the rejects.
set -euo pipefail
strata=$1 src=$2
command -v sqlite3 >/dev/null || { echo "sqlite3 missing"; exit 77; }
g=$src/tests/golden/small
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$strata" run --config "$g/config.yaml" --orders "$g/orders.csv" --events "$g/events.csv" \
  --users "$g/users.csv" --identities "$g/identities.csv" --as-of 2024-04-01 \
  --out "$work/out" --db "$work/out/s.db" --quiet > "$work/summary.txt"
# the readable summary names each model's outcome: too few persons for churn here
grep -q '^Models:$' "$work/summary.txt" || { echo "FAIL: no Models block in the summary"; exit 1; }
grep -q '^  churn: skipped — too few persons to train on' "$work/summary.txt" ||
  { echo "FAIL: churn skip reason missing from the summary"; exit 1; }
grep -q '^  clusters: k = 2; ' "$work/summary.txt" || { echo "FAIL: clusters line"; exit 1; }
cols=$(head -1 "$g/expected.csv")
{
  echo ".mode csv"
  echo ".import $g/expected.csv expected"
  echo ".import $work/out/profiles.csv got"
  echo "SELECT 'rows', (SELECT COUNT(*) FROM expected), (SELECT COUNT(*) FROM got);"
  echo "SELECT 'order', group_concat(user_id, ' ') FROM got;"
  IFS=, read -ra names <<< "$cols"
  for c in "${names[@]}"; do
    echo "SELECT 'diff', e.user_id, '$c', e.\"$c\", g.\"$c\" FROM expected e LEFT JOIN got g USING(user_id) WHERE g.\"$c\" IS NOT e.\"$c\";"
  done
} | sqlite3 > "$work/diff.txt"
cat "$work/diff.txt"
grep -qx 'rows,6,6' "$work/diff.txt"
grep -qx 'order,"u1 u2 u3 u5 u4 u6"' "$work/diff.txt"
if grep -q '^diff' "$work/diff.txt"; then echo "profile values differ from the hand-computed ones"; exit 1; fi
q=$work/out/quality.json
grep -q '"duplicate":[[:space:]]*1' "$q"
grep -q '"after_as_of":[[:space:]]*1' "$q"        # C2 dated 2024-04-05 (orders) ...
grep -q '"overshared_identifiers":[[:space:]]*1' "$q" # dev-x links three ids, limit is 2
grep -q '"merged_ids":[[:space:]]*1' "$q"            # app2 joins u2 through the phone number
grep -q 'orders.csv,6,,duplicate,duplicate of line 5' "$work/out/rejects.csv"
grep -q 'users.csv,5,,duplicate,duplicate of line 2' "$work/out/rejects.csv"      # users and
grep -q 'identities.csv,7,,duplicate,duplicate of line 3' "$work/out/rejects.csv" # links too
# LTV/CAC by acquisition channel: social = u1 (cac 10, 200) and u6 (cac 20, 0); search = u2
ltv=$(sqlite3 :memory: "SELECT group_concat(json_extract(value, '$.channel') || ':' || json_extract(value, '$.persons') || ':' || json_extract(value, '$.cac') || ':' || json_extract(value, '$.ltv_to_date') || ':' || json_extract(value, '$.ltv_cac'), ' ') FROM json_each(readfile('$work/out/summary.json'), '$.ltv_cac')")
echo "ltv_cac: $ltv"
echo "$ltv" | grep -q 'social:2:15:100:6.666667'
echo "$ltv" | grep -q 'search:1:50:500:10'
# the merged id finds the same profile in the store
"$strata" profile --db "$work/out/s.db" --json app2 | grep -q '"user_id":"u2"'
"$strata" profile --db "$work/out/s.db" u1 | grep -q '^tier: *T1$'
set +e; "$strata" profile --db "$work/out/s.db" nobody >/dev/null 2>&1; rc=$?; set -e
test "$rc" -eq 1
# the Chinese summary's tables line up in a terminal (wide characters take two columns)
"$strata" run --config "$g/config.yaml" --orders "$g/orders.csv" --as-of 2024-04-01 \
  --out "$work/zh" --lang zh --no-report --quiet > "$work/zh.txt"
if command -v python3 >/dev/null; then
  python3 - "$work/zh.txt" <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = next(i for i, l in enumerate(lines) if l.startswith("层级"))
tiers = lines[head:head + 6]
assert len({width(l) for l in tiers}) == 1, "tier table: " + repr([width(l) for l in tiers])
seg = lines.index("主要 RFM 分群:")
rows = [l for l in lines[seg + 1:] if l.startswith("  ")][:3]
assert rows and len({width(l) for l in rows}) == 1, "segments: " + repr(rows)
PY
fi
echo "golden small: all values match"
