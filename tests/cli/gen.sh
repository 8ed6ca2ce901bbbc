#!/usr/bin/env bash
# Black-box test of `strata gen`: help with an example, a small run whose files have the
# documented headers, exact line arithmetic and sorted times, byte-identical output for one
# seed, injected problems with --dirt, and exit code 64 for bad options (74 for an output
# directory that cannot be made).
set -euo pipefail
strata=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --help: exit 0, usage and an example
"$strata" gen --help > "$work/help.txt" || fail "--help exited $?"
grep -q '^Usage: strata gen' "$work/help.txt" || fail "no usage line"
grep -q '^  strata gen --users [0-9]' "$work/help.txt" || fail "no example"

# a small run, twice with the same seed and once with another
"$strata" gen --users 500 --orders 3000 --events 5000 --seed 3 --out "$work/a" --quiet --json > "$work/a.json"
"$strata" gen --users 500 --orders 3000 --events 5000 --seed 3 --out "$work/b/deeper" --quiet
"$strata" gen --users 500 --orders 3000 --events 5000 --seed 4 --out "$work/c" --quiet
grep -q '"users":500' "$work/a.json" || fail "--json: $(cat "$work/a.json")"
# without --quiet: one line naming every file written, each under the output directory
"$strata" gen --users 50 --orders 100 --events 100 --seed 3 --out "$work/m" 2> "$work/m.txt" >/dev/null
[ "$(cat "$work/m.txt")" = "wrote $work/m/orders.csv, $work/m/events.csv, $work/m/users.csv, $work/m/identities.csv" ] ||
  fail "message: $(cat "$work/m.txt")"
"$strata" gen --users 50 --orders 100 --seed 3 --out "$work/n" 2> "$work/n.txt" >/dev/null
[ "$(cat "$work/n.txt")" = "wrote $work/n/orders.csv, $work/n/users.csv, $work/n/identities.csv" ] ||
  fail "message without events: $(cat "$work/n.txt")"
for f in orders events users identities; do
  cmp -s "$work/a/$f.csv" "$work/b/deeper/$f.csv" || fail "$f.csv differs for the same seed"
done
cmp -s "$work/a/orders.csv" "$work/c/orders.csv" && fail "orders.csv equal for different seeds"

[ "$(head -1 "$work/a/orders.csv")" = "order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,payment_method,coupon_used,discount,status" ] || fail "orders header"
[ "$(head -1 "$work/a/events.csv")" = "user_id,event_ts,event_type,session_id,item,keyword,page" ] || fail "events header"
[ "$(head -1 "$work/a/users.csv")" = "user_id,signup_ts,gender,birth_year,region,acquisition_channel,cac,consent_sms,consent_push,consent_email,consent_wecom,nps" ] || fail "users header"
[ "$(head -1 "$work/a/identities.csv")" = "user_id,id_type,id_value" ] || fail "identities header"
[ "$(wc -l < "$work/a/users.csv")" -eq 501 ] || fail "users.csv rows"

# every order line: 13 fields, amount = quantity x unit_price in cents, ISO times in 2024-2025
awk -F, 'NR > 1 {
  if (NF != 13) { print "fields: " $0; bad = 1 }
  if ($3 !~ /^202[45]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$/) { print "ts: " $0; bad = 1 }
  if ($4 !~ /^-?[0-9]+\.[0-9][0-9]$/ || $6 !~ /^[0-9]+\.[0-9][0-9]$/) { print "money: " $0; bad = 1 }
  a = $4; sub(/\./, "", a); u = $6; sub(/\./, "", u)
  if (a + 0 != $5 * u) { print "amount: " $0; bad = 1 }
} END { exit bad }' "$work/a/orders.csv" || fail "malformed order lines"
tail -n +2 "$work/a/orders.csv" | cut -d, -f3 | sort -c || fail "orders not sorted by order_ts"
tail -n +2 "$work/a/events.csv" | cut -d, -f2 | sort -c || fail "events not sorted by event_ts"
orders=$(tail -n +2 "$work/a/orders.csv" | cut -d, -f1 | sort -u | wc -l)
events=$(($(wc -l < "$work/a/events.csv") - 1))
[ "$orders" -gt 2500 ] && [ "$orders" -lt 3500 ] || fail "$orders orders for 3000 asked"
[ "$events" -gt 4500 ] && [ "$events" -lt 5500 ] || fail "$events events for 5000 asked"
# no events file is written when none are asked for
"$strata" gen --users 100 --orders 500 --out "$work/noev" --quiet
[ ! -e "$work/noev/events.csv" ] || fail "events.csv written without --events"

# --dirt: bad dates, missing ids and quoted commas appear
"$strata" gen --users 500 --orders 3000 --seed 3 --dirt 0.1 --out "$work/d" --quiet
grep -q ',yesterday,' "$work/d/orders.csv" || fail "no 'yesterday' date"
grep -q ',[0-9]*-02-30 ' "$work/d/orders.csv" || fail "no February 30"
grep -q '^o[0-9]*,,' "$work/d/orders.csv" || fail "no missing user_id"
grep -q '"[A-Za-z]*, Inc\."' "$work/d/orders.csv" || fail "no quoted comma"
[ -z "$(uniq -d "$work/d/orders.csv")" ] && fail "no duplicate rows"
# its absurd amounts (1e9) carry nearly all revenue: `strata run` warns under the revenue,
# and not once a policy rejects them
"$strata" run --orders "$work/d/orders.csv" --out "$work/d/out" --no-report >"$work/d/summary.txt"
sed -n 4p "$work/d/summary.txt" | grep -q '^warning: [0-9]* order rows .* carry' ||
  fail "no outlier warning under the revenue: $(head -4 "$work/d/summary.txt")"
grep -q '"top_warning":[[:space:]]*true' "$work/d/out/quality.json" || fail "quality.json: no top_warning"
"$strata" run --orders "$work/d/orders.csv" --out "$work/d/out2" --no-report \
  --set clean.outliers=reject --set clean.reject_above=100000 >"$work/d/summary2.txt"
grep -q 'warning' "$work/d/summary2.txt" && fail "outlier warning although the rows are rejected"
grep -q '"top_warning":[[:space:]]*false' "$work/d/out2/quality.json" || fail "quality.json: top_warning"

# bad options exit 64, an impossible output directory 74
for args in "--users abc" "--users 0" "--dirt 0.9" "--start 2024-13-01" "--days 5" "--bogus" ""; do
  set +e
  # shellcheck disable=SC2086
  "$strata" gen $args ${args:+--out "$work/x"} > /dev/null 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 64 ] || fail "'gen $args' exited $rc, not 64"
done
touch "$work/file"
set +e
"$strata" gen --users 10 --out "$work/file/sub" --quiet 2> "$work/err.txt"
rc=$?
set -e
[ "$rc" -eq 74 ] || fail "unwritable --out exited $rc, not 74"
grep -q "$work/file" "$work/err.txt" || fail "error does not name the path: $(cat "$work/err.txt")"
echo "gen: ok"
