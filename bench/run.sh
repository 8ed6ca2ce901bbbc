#!/usr/bin/env bash
# run.sh — the main benchmark: `strata run` (ingest, clean, identity, profile, RFM, tiers; no
# report) against DuckDB (bench/duckdb_rfm.mjs, @duckdb/node-api) and pandas
# (bench/pandas_rfm.py, Debian python3-pandas) on the same generated orders file in the same
# run. Owns bench/work/ (data, outputs, timings; git-ignored) and writes bench/RESULTS.md.
#
#   bash bench/run.sh [STRATA_BIN=build/strata]        (`make bench` installs and builds first)
#
# Environment (defaults give the full size: ~10M rows, ~1 GiB):
#   BENCH_USERS=1m BENCH_ORDERS=6200k BENCH_SEED=1   what `strata gen` writes
#   BENCH_REPEATS=3 BENCH_THREADS=2                   runs per tool; threads for strata and DuckDB
#   BENCH_WORK=bench/work                             data and outputs
#   BENCH_STRATA_SOURCE="text"  what the binary was built from, for RESULTS.md (default: this
#                        tree's HEAD and how many of its src/include/cli files are uncommitted)
#   BENCH_RESULTS=FILE   the results file; default bench/RESULTS.md at the full size, otherwise
#                        BENCH_WORK/RESULTS.md so a small iteration never overwrites the record
# e.g. BENCH_USERS=50k BENCH_ORDERS=300k bash bench/run.sh build-bench/strata  (seconds)
#
# Steps: (1) a hand-made edge-case file (duplicates, refund statuses in any case, orders over
# two days, negative and all-refunded persons, ties) through all three, which must agree; (2)
# generate the data once per size and strata binary; (3) warm the page cache, then REPEATS
# rounds of strata, DuckDB, pandas, each under /usr/bin/time -v; (4) compare.py: every person,
# every column, exact — exits non-zero on any difference, and so does this script; (5) memory
# bandwidth (bench/membw.c) and the CSV reader's parse rate (bench/csv_parse.c) on the same
# file; (6) RESULTS.md: generated tables plus the hand-written analysis between the
# <!-- analysis --> markers, which is kept from the previous file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
strata=$(realpath "${1:-$root/build/strata}")
users=${BENCH_USERS:-1m}
orders_n=${BENCH_ORDERS:-6200k}
seed=${BENCH_SEED:-1}
repeats=${BENCH_REPEATS:-3}
threads=${BENCH_THREADS:-2}
work=$(mkdir -p "${BENCH_WORK:-$here/work}" && realpath "${BENCH_WORK:-$here/work}")
if [ "$users/$orders_n/$seed" = "1m/6200k/1" ]; then results=${BENCH_RESULTS:-$here/RESULTS.md}
else results=${BENCH_RESULTS:-$work/RESULTS.md}; fi
py=/usr/bin/python3   # Debian's, with pandas; the `python3` on PATH may be another one
data=$work/data-$users-$orders_n-$seed
res=$work/results
say() { printf '== %s\n' "$*" >&2; }

# --- prerequisites -------------------------------------------------------------------------
[ -x "$strata" ] || { echo "run.sh: no strata binary at $strata (make build)" >&2; exit 66; }
"$py" -c 'import pandas' 2>/dev/null || { echo "run.sh: $py lacks pandas (make bench-deps)" >&2; exit 69; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 69; }
if [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
  # `npm install`, not `npm ci`: the registry here lacks the other platforms' optional
  # @duckdb/node-bindings-* 1.5.6-r.1 packages, so the lock file cannot list them and `npm ci`
  # refuses it; `npm install` installs the locked versions and leaves the lock file alone.
  say "npm install (bench/package-lock.json)"
  (cd "$here" && npm install --no-audit --no-fund >&2)
fi
mkdir -p "$work/bin" "$res"
rm -f "$res"/*
cc -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread "$here/membw.c" -o "$work/bin/membw"
lib=$(dirname "$strata")/libstrata.a
csv_parse=
if [ -f "$lib" ]; then
  # shellcheck disable=SC2046  # pkg-config prints several words on purpose
  cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" -I"$root/src" "$here/csv_parse.c" "$lib" \
    $(pkg-config --libs sqlite3 yaml-0.1 zlib libcjson libcrypto libxxhash gsl libmicrohttpd) \
    -lroaring -lxgboost -lpthread -lm -o "$work/bin/csv_parse" && csv_parse=$work/bin/csv_parse
fi
[ -n "$csv_parse" ] || say "no $lib: parse rate not measured"
# The benchmarked job is profile + RFM + tiers: the models `strata run` may also fit (k-means,
# churn, CLV) are switched off where this build has them, and the list goes into RESULTS.md.
job=(--no-report --quiet)
models_off=
for key in models.clusters models.churn models.clv; do
  if "$strata" config --set "$key=false" >/dev/null 2>&1; then
    job+=(--set "$key=false")
    models_off="$models_off $key"
  fi
done
echo "${models_off# }" >"$res/models_off.txt"

run_all() { # DIR ORDERS.csv -> DIR/{strata/profiles.csv,duckdb.csv,pandas.csv}, DIR/compare.json
  local dir=$1 file=$2
  "$strata" run --orders "$file" --out "$dir/strata" "${job[@]}" --threads "$threads" >/dev/null
  node "$here/duckdb_rfm.mjs" "$file" "$dir/duckdb.csv" "$threads" >/dev/null
  "$py" "$here/pandas_rfm.py" "$file" "$dir/pandas.csv" >/dev/null
  "$py" "$here/compare.py" "$dir/strata/profiles.csv" duckdb="$dir/duckdb.csv" \
    pandas="$dir/pandas.csv" >"$dir/compare.json"
}

# --- 1. edge cases: the three must agree before any timing means anything -------------------
# u1: an exact duplicate written differently (10 vs 10.00 in amount and discount), an order
# whose rows span two days (dated by the earlier), a REFUNDED order; u2: a negative order and
# a net of -17.66 (monetary 0, still a buyer); u3: only a Canceled order (no valid order);
# u4/u5: equal recency ties and monetary ties; u5: a zero order (not valid); u6: micro-unit
# amount, a `returned` row, a duplicate within a three-row order.
say "edge cases"
edge=$work/edge
mkdir -p "$edge"
cat >"$edge/orders.csv" <<'EOF'
order_id,user_id,order_ts,amount,quantity,unit_price,category,brand,channel,payment_method,coupon_used,discount,status
o1,u1,2024-03-01 10:00:00,10.00,1,10.00,food,A,app,card,0,0.00,paid
o1,u1,2024-03-01 10:00:00,10,1,10.00,food,A,app,card,0,0,paid
o1,u1,2024-02-28 23:59:59,5.50,1,5.50,food,B,app,card,0,0.00,paid
o2,u1,2024-03-05 08:00:00,20.00,1,20.00,toys,A,web,card,1,2.00,REFUNDED
o3,u2,2024-03-05 09:00:00,-30.00,-1,30.00,toys,A,web,card,0,0.00,paid
o4,u2,2024-03-02 09:00:00,12.34,1,12.34,toys,A,web,card,0,0.00,paid
o5,u3,2024-03-03 09:00:00,99.99,1,99.99,toys,A,web,card,0,0.00,Canceled
o6,u4,2024-03-03 12:00:00,7.01,1,7.01,toys,A,web,card,0,0.00,paid
o6,u5,2024-03-03 18:00:00,7.01,1,7.01,toys,A,web,card,0,0.00,paid
o7,u5,2024-03-04 13:00:00,0.00,1,0.00,toys,A,web,card,0,0.00,paid
o8,u6,2024-03-10 00:00:00,1000000.123456,1,1000000.123456,toys,A,web,card,0,0.00,paid
o9,u6,2024-03-09 23:00:00,3.00,1,3.00,toys,A,web,card,0,0.00,returned
o10,u6,2024-03-08 01:00:00,3.00,1,3.00,toys,A,web,card,0,0.00,paid
o10,u6,2024-03-08 01:00:00,3.00,1,3.00,toys,A,web,card,0,0.00,paid
o10,u6,2024-03-08 01:00:00,3.00,2,3.00,toys,A,web,card,0,0.00,paid
EOF
run_all "$edge" "$edge/orders.csv" || { cat "$edge/compare.json" >&2; exit 1; }
# the same numbers by hand (as of 2024-03-11, 2024 is a leap year; n = 5 buyers; value points
# 2(r-1)+3(f-1)+5(m-1) = u6 40, u1 15, u4 u5 9, u2 2 -> above 0, 1, 2, 2, 4):
# user_id,recency,frequency,monetary,r,f,m,tier
"$py" - "$edge/pandas.csv" <<'EOF'
import sys
want = """u1,12,1,15.500000,1,1,4,T3
u2,9,1,0.000000,2,1,1,T5
u3,,0,0.000000,,,,
u4,8,1,7.010000,3,1,2,T3
u5,8,1,7.010000,3,1,2,T3
u6,1,2,1000006.123456,5,5,5,T1""".split("\n")
got = sorted(open(sys.argv[1]).read().split("\n")[1:-1])
if got != want:
    sys.exit(f"edge case: pandas gave\n" + "\n".join(got) + "\nexpected\n" + "\n".join(want))
EOF

# --- 2. data ---------------------------------------------------------------------------------
orders=$data/orders.csv
# reused only if written by this very binary: a generator change must not leave stale data
gen_id=$(sha256sum "$strata" | cut -c1-16)
if [ "$(cat "$data/done" 2>/dev/null)" != "$gen_id" ]; then
  say "strata gen --users $users --orders $orders_n --seed $seed"
  rm -rf "$data"
  "$strata" gen --users "$users" --orders "$orders_n" --seed "$seed" --out "$data" --quiet >/dev/null
  rm -f "$data/identities.csv" "$data/users.csv"   # the job reads orders only
  echo "$gen_id" >"$data/done"
fi
sync   # the generated files' write-back must not run during the timed rounds
bytes=$(stat -c %s "$orders")
rows=$(($(wc -l <"$orders") - 1))
say "$orders: $rows rows, $bytes bytes"

# --- 3. timing -------------------------------------------------------------------------------
cat "$orders" >/dev/null   # warm the page cache: every tool reads from memory
cat /proc/loadavg >"$res/loadavg.before"
timed() { # LABEL COMMAND... -> $res/LABEL.{time,wall,out}
  local label=$1; shift
  sync   # nor the previous tool's output
  # and the input still in the page cache for every tool: the VM's memory reclaim (DAMON) may
  # have paged some of it out while the previous tool ran
  cat "$orders" >/dev/null
  local t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$res/$label.time" "$@" >"$res/$label.out"
  local t1=$EPOCHREALTIME
  echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$res/$label.wall"
}
for r in $(seq 1 "$repeats"); do
  say "round $r/$repeats: strata"
  timed "strata.$r" "$strata" run --orders "$orders" --out "$work/out/strata" "${job[@]}" \
    --threads "$threads" --json
  say "round $r/$repeats: strata --threads 1"
  timed "strata1.$r" "$strata" run --orders "$orders" --out "$work/out/strata1" "${job[@]}" \
    --json --threads 1
  say "round $r/$repeats: duckdb"
  timed "duckdb.$r" node "$here/duckdb_rfm.mjs" "$orders" "$work/out/duckdb.csv" "$threads"
  say "round $r/$repeats: pandas"
  timed "pandas.$r" "$py" "$here/pandas_rfm.py" "$orders" "$work/out/pandas.csv"
  sha256sum "$work/out/strata/profiles.csv" | cut -c1-16 >"$res/strata.$r.sha"
  sha256sum "$work/out/strata1/profiles.csv" | cut -c1-16 >"$res/strata1.$r.sha"
done
cat /proc/loadavg >"$res/loadavg.after"

# --- 4. agreement ----------------------------------------------------------------------------
say "compare"
agree=0
"$py" "$here/compare.py" "$work/out/strata/profiles.csv" duckdb="$work/out/duckdb.csv" \
  pandas="$work/out/pandas.csv" >"$res/compare.json" || agree=$?

# --- 5. bounds: memory bandwidth and the reader's parse rate ---------------------------------
say "memory bandwidth"
sleep 5   # let the memory the last tool freed go back to the host: first touch is measured cold
"$work/bin/membw" 1024 5 >"$res/membw.json"
if [ -n "$csv_parse" ]; then
  say "parse rate"
  for t in 1 2; do "$csv_parse" run "$orders" "$t" >"$res/parse.run$t.txt"; done
  "$csv_parse" mem "$orders" 512 >"$res/parse.mem.txt"
fi

# --- 6. machine, versions, RESULTS.md --------------------------------------------------------
{
  grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'
  nproc
  awk '/MemTotal/ {printf "%.1f\n", $2 / 1048576}' /proc/meminfo
  uname -r
  node --version
  if [ -n "${BENCH_STRATA_SOURCE:-}" ]; then echo "$BENCH_STRATA_SOURCE"
  else
    dirty=$(git -C "$root" status --porcelain --untracked-files=no -- src include cli | wc -l)
    echo "commit $(git -C "$root" rev-parse --short HEAD)$([ "$dirty" = 0 ] ||
      echo " plus uncommitted changes in $dirty files of src/include/cli (shared working tree)")"
  fi
  date -u +%Y-%m-%d
} >"$res/machine.txt"
"$py" - "$res" "$results" "$users" "$orders_n" "$seed" "$repeats" "$threads" "$rows" "$bytes" \
  "$agree" <<'EOF'
import json, os, re, statistics, sys
res, results, users, orders_n, seed, repeats, threads, rows, nbytes, agree = sys.argv[1:]
repeats, threads, rows, nbytes, agree = int(repeats), int(threads), int(rows), int(nbytes), int(agree)
tools = ["strata", "duckdb", "pandas", "strata1"]
peers = ["duckdb", "pandas"]
rd = lambda name: open(os.path.join(res, name)).read()

def rss_mib(label):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", rd(label + ".time"))
    return int(m.group(1)) / 1024

def cpu_s(label):
    text = rd(label + ".time")
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    return user, sys_

wall = {t: [float(rd(f"{t}.{r}.wall")) for r in range(1, repeats + 1)] for t in tools}
rss = {t: [rss_mib(f"{t}.{r}") for r in range(1, repeats + 1)] for t in tools}
med = {t: statistics.median(wall[t]) for t in tools}
peak = {t: max(rss[t]) for t in tools}
cpu = {t: [cpu_s(f"{t}.{r}") for r in range(1, repeats + 1)] for t in tools}
mid = {t: sorted(range(repeats), key=lambda i: wall[t][i])[repeats // 2] for t in tools}
outs = {t: [json.loads(rd(f"{t}.{r}.out")) for r in range(1, repeats + 1)] for t in tools}
cmp = json.loads(rd("compare.json"))
bw = json.loads(rd("membw.json"))
cpu_model, cores, ram, kernel, node, source, day = rd("machine.txt").split("\n")[:7]
shas = sorted({rd(f"{t}.{r}.sha").strip() for r in range(1, repeats + 1) for t in ("strata", "strata1")})
stages = ["load", "identity", "clean", "profile", "score"]
stage_runs = [o["seconds"] for o in outs["strata"]]
median_run = mid["strata"]
counts = outs["strata"][0]["counts"]

def parse_rate(name):
    p = os.path.join(res, name)
    if not os.path.exists(p):
        return None
    text = open(p).read()
    m = re.search(r"([\d.]+) GB/s", text)
    return float(m.group(1)) * 1000 if m else None   # MB/s

run1, run2, mem1 = parse_rate("parse.run1.txt"), parse_rate("parse.run2.txt"), parse_rate("parse.mem.txt")
mb = nbytes / 1e6
fmt_s = lambda v: f"{v:.2f}"
lines = []
w = lines.append
w("# Main benchmark: strata vs DuckDB vs pandas (profile + RFM + tiers)")
w("")
w("Generated by `bash bench/run.sh` (`make bench`); only the section *Analysis* is written by hand")
w("and kept between runs. Models: [RESULTS-churn.md](RESULTS-churn.md) (churn vs Python xgboost)"
  + (", [RESULTS-models.md](RESULTS-models.md)" if os.path.exists(os.path.join(os.path.dirname(results), "RESULTS-models.md")) else "")
  + ".")
w("")
w("## Job and data")
w("")
w(f"- `strata gen --users {users} --orders {orders_n} --seed {seed}`: orders.csv with "
  f"**{rows:,} rows, {nbytes:,} bytes ({nbytes / 2**30:.2f} GiB)**, {cmp['strata']['persons']:,} persons "
  f"(user_ids in the file), {cmp['strata']['buyers']:,} with a valid order, "
  f"{counts['orders']:,} valid orders, revenue {counts['revenue']:,.2f}.")
w("- The job (../shared/SPEC.md \"Profile\"): drop exact duplicate rows; refunded/returned/cancelled "
  "rows count 0; an order = (user_id, order_id), dated by its earliest row, valid if its sum > 0; "
  "as-of = last date + 1; per person recency_days, frequency, monetary (exact micro-units); "
  "r/f/m scores `1 + 5*(RANK()-1)/n`, value_score and tier T1–T5; write one CSV row per person.")
off = rd("models_off.txt").split()
w(f"- strata: `strata run --orders orders.csv --no-report --threads {threads} --json"
  + "".join(f" --set {k}=false" for k in off) + "` (writes "
  "profiles.csv with all its columns, summary.json, quality.json, rejects.csv"
  + ("; the models are switched off because the job measured here is profile + RFM + tiers" if off else "")
  + "). "
  f"DuckDB: `bench/duckdb_rfm.mjs`, one SQL statement over `read_csv` with typed columns "
  f"(DECIMAL(18,6) money), `COPY` to CSV, threads={threads}. pandas: `bench/pandas_rfm.py` "
  "(C parser, categoricals for low-cardinality columns, int64 micro-units, single-threaded).")
w(f"- Each tool {repeats} times, interleaved (strata, strata on 1 thread, DuckDB, pandas), page cache warm; wall = median, memory = the "
  "largest peak RSS over the runs (`/usr/bin/time -v`, Maximum resident set size; "
  "1 MB = 10^6 bytes, MiB where written).")
w("")
w("## Agreement")
w("")
ok = agree == 0 and cmp.get("agree")
w(f"`bench/compare.py`: {'**all three agree exactly**' if ok else '**DIFFERENCES FOUND** (see stderr of run.sh)'} "
  f"on every person and on user_id, recency_days, frequency, monetary, r/f/m_score and tier "
  f"(DuckDB: {cmp['duckdb']['differences']} differences, pandas: {cmp['pandas']['differences']}). "
  "The hand-made edge-case file (duplicates, refund statuses in any case, multi-day orders, "
  "negative and all-refunded persons, ties) agreed with hand-computed values first.")
w("")
w("Checksum of the agreed result:")
w("")
w("```")
w(json.dumps(cmp["strata"]))
w("```")
w(f"strata's profiles.csv sha256 prefix over the {repeats} runs on {threads} threads and on 1 thread: "
  f"{', '.join(shas)}" + (" (the same bytes every run)" if len(shas) == 1 else " (NOT the same bytes every run)") + ".")
w("")
w("## Results")
w("")
w("| | wall (median) | runs (s) | ratio peer/strata | peak RSS | user + sys CPU (median run) | cores busy |")
w("|---|---:|---|---:|---:|---:|---:|")
names = {"strata": f"strata ({threads} threads)", "duckdb": f"DuckDB ({threads} threads)",
         "pandas": "pandas", "strata1": "strata, 1 thread (for reference)"}
for t in ["strata"] + peers + ["strata1"]:
    ratio = "1" if t == "strata" else ("" if t == "strata1" else f"**{med[t] / med['strata']:.2f}×**")
    u, sy = cpu[t][mid[t]]
    w(f"| {names[t]} | {med[t]:.2f} s | {', '.join(fmt_s(v) for v in wall[t])} | {ratio} | "
      f"{peak[t]:,.0f} MiB | {u:.1f} + {sy:.1f} s | {(u + sy) / wall[t][mid[t]]:.2f} |")
w("")
goal_speed = med["duckdb"] / med["strata"] >= 5
goal_mem = peak["strata"] * 2**20 < 1e9
w(f"Goals: ≥ 5× faster than DuckDB — **{'met' if goal_speed else 'not met'}** "
  f"({med['duckdb'] / med['strata']:.2f}×); peak memory under 1 GB — "
  f"**{'met' if goal_mem else 'not met'}** ({peak['strata'] * 2**20 / 1e9:.2f} GB).")
per_round = [d / s for d, s in zip(wall["duckdb"], wall["strata"])]
w("Per round (each round runs the tools back to back, so both see the same phase of the VM): "
  "DuckDB/strata " + ", ".join(f"{r:.2f}" for r in per_round) +
  f" — median {statistics.median(per_round):.2f}×.")
w(f"End to end over the file: strata {mb / med['strata']:,.0f} MB/s "
  f"({mb / med['strata'] / threads:,.0f} MB/s per core on {threads} threads; "
  f"{mb / med['strata1']:,.0f} MB/s on 1 thread), DuckDB "
  f"{mb / med['duckdb']:,.0f} MB/s, pandas {mb / med['pandas']:,.0f} MB/s.")
w("")
w(f"strata's stages (`--json` \"seconds\", run {median_run + 1} = the median run; all runs below):")
w("")
w("| stage | " + " | ".join(stages) + " | sum | wall |")
w("|---|" + "---:|" * (len(stages) + 2))
for i, s in enumerate(stage_runs):
    mark = " (median)" if i == median_run else ""
    w(f"| run {i + 1}{mark} | " + " | ".join(f"{s.get(k, 0):.3f}" for k in stages)
      + f" | {sum(s.get(k, 0) for k in stages):.3f} | {wall['strata'][i]:.3f} |")
w("")
w("## Bounds")
w("")
w(f"- Memory bandwidth (`bench/membw.c`, 1 GiB buffer, best of 5): read {bw['read_1t_gbs']} GB/s "
  f"on 1 thread, {bw['read_2t_gbs']} GB/s on 2; memcpy {bw['memcpy_1t_gbs']} / {bw['memcpy_2t_gbs']} "
  "GB/s copied (twice that moved).")
if "first_touch_4k_gbs" in bw:
    peak_mb = peak["strata"] * 1.048576
    w(f"- First touch of fresh memory (same probe, 512 MiB, one write per 4 KiB page, after 5 s "
      f"idle): {bw['first_touch_4k_gbs']} GB/s in 4 KiB pages, {bw['first_touch_huge_gbs']} GB/s "
      f"with huge pages. At the 4 KiB rate strata's {peak['strata']:,.0f} MiB peak costs "
      f"{peak_mb / 1000 / bw['first_touch_4k_gbs']:.2f} s of CPU before a byte is used, "
      f"DuckDB's {peak['duckdb']:,.0f} MiB {peak['duckdb'] * 1.048576 / 1000 / bw['first_touch_4k_gbs']:.2f} s.")
if run1:
    w(f"- CSV reader (`bench/csv_parse.c` on this orders file, page cache warm): "
      f"`run` 1 thread {run1:,.0f} MB/s, 2 threads {run2:,.0f} MB/s; the field cursor alone "
      f"over bytes in memory {mem1:,.0f} MB/s per core.")
    st_med = stage_runs[median_run]
    parse_s, read_s = mb / run2, nbytes / (bw["read_2t_gbs"] * 1e9)
    w(f"- So, of strata's {med['strata']:.2f} s wall (load stage {st_med.get('load', 0):.2f} s): "
      f"splitting and walking every field of the {mb:,.0f} MB file takes {parse_s:.2f} s "
      f"({100 * parse_s / med['strata']:.0f} %) at the reader's measured 2-thread rate, and would take "
      f"{mb / (2 * mem1):.2f} s at the cursor's {mem1:,.0f} MB/s/core × 2 cores; one pass over the "
      f"file in memory costs {read_s:.3f} s ({100 * read_s / med['strata']:.1f} %) at "
      f"{bw['read_2t_gbs']} GB/s. The rest of the load stage is per-field conversion "
      "(timestamps, decimals, id interning, row fingerprints), then cleaning, grouping and scoring.")
else:
    w("- CSV reader: not measured in this run — bench/csv_parse.c links the libstrata.a found "
      "beside the benchmarked binary, and there was none.")
w("")
w("## Machine and versions")
w("")
la0, la1 = rd("loadavg.before").split()[:3], rd("loadavg.after").split()[:3]
w(f"- {cpu_model}, {cores} cores, {ram} GiB RAM, Linux {kernel}; {day}.")
w(f"- strata {outs['strata'][0].get('strata_version', '?')}, {source}, RelWithDebInfo (-O2)"
  + f"; DuckDB {outs['duckdb'][0]['duckdb_version']} (@duckdb/node-api, Node.js {node}); "
  f"pandas {outs['pandas'][0]['pandas_version']}, numpy {outs['pandas'][0]['numpy_version']} (Debian).")
w(f"- Load average before/after the timed rounds: {' '.join(la0)} / {' '.join(la1)} "
  "(the before value includes this script's own data generation and edge-case runs); "
  "`sync` before every timed run, so write-back of earlier output is not timed.")
w("")
# keep the hand-written analysis from the previous file
analysis = ("<!-- analysis: hand-written, kept by run.sh -->\n## Analysis\n\n"
            "(to be written after a full-size run)\n<!-- /analysis -->")
if os.path.exists(results):
    m = re.search(r"<!-- analysis:.*?<!-- /analysis -->", open(results).read(), re.S)
    if m:
        analysis = m.group(0)
w(analysis)
open(results, "w").write("\n".join(lines) + "\n")
print(f"strata {med['strata']:.2f} s, duckdb {med['duckdb']:.2f} s ({med['duckdb'] / med['strata']:.2f}x), "
      f"pandas {med['pandas']:.2f} s ({med['pandas'] / med['strata']:.2f}x); peak RSS MiB "
      f"{peak['strata']:.0f} / {peak['duckdb']:.0f} / {peak['pandas']:.0f}; agree={ok}; -> {results}")
EOF
exit "$agree"
