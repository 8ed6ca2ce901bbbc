#!/usr/bin/env bash
# Online Retail end to end, checked against an independent computation in sqlite3:
# every customer's recency_days, frequency and monetary must match exactly (4,372 customers),
# so must the r/f/m scores and tiers (SPEC's RANK() formula in SQL) and the Pareto share,
# and the quality counts must match the published figures (135,080 rows without a customer;
# 5,225 exact duplicates among the rest).
set -euo pipefail
strata=$1 src=$2 bin=$3
command -v sqlite3 >/dev/null || { echo "sqlite3 missing"; exit 77; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
data=$src/tests/data/online_retail/online_retail.csv.gz

"$strata" run --config "$src/examples/online_retail.yaml" --orders "$data" --out "$work/out" \
  --no-report --quiet > "$work/summary.txt"

zcat "$data" > "$work/retail.csv"
sqlite3 "$work/check.db" <<SQL
.mode csv
.import $work/retail.csv raw
.import $work/out/profiles.csv ours
-- exact duplicates are removed once; rows without a customer are rejected
CREATE TABLE r AS SELECT DISTINCT * FROM raw WHERE CustomerID <> '';
CREATE TABLE rows AS
  SELECT CAST(CAST(CustomerID AS REAL) AS INTEGER) AS cid, InvoiceNo AS inv,
         date(InvoiceDate) AS d,
         CAST(Quantity AS INTEGER) * CAST(ROUND(CAST(UnitPrice AS REAL) * 1000000) AS INTEGER) AS micros
  FROM r;
CREATE TABLE orders AS SELECT cid, inv, MIN(d) AS d, SUM(micros) AS net FROM rows GROUP BY cid, inv;
CREATE TABLE asof AS SELECT date(MAX(d), '+1 day') AS D FROM rows;
CREATE TABLE valid AS SELECT cid, COUNT(*) AS frequency, MAX(d) AS last_d FROM orders WHERE net > 0 GROUP BY cid;
CREATE TABLE spend AS SELECT cid, SUM(micros) AS total FROM rows GROUP BY cid;
CREATE TABLE expect AS
  SELECT s.cid,
         CAST(julianday((SELECT D FROM asof)) - julianday(v.last_d) AS INTEGER) AS recency_days,
         COALESCE(v.frequency, 0) AS frequency,
         MAX(0, s.total) AS monetary_micros
  FROM spend s LEFT JOIN valid v ON v.cid = s.cid;
CREATE TABLE got AS
  SELECT CAST(user_id AS INTEGER) AS cid, NULLIF(recency_days, '') AS recency_days,
         CAST(frequency AS INTEGER) AS frequency,
         CAST(ROUND(CAST(monetary AS REAL) * 1000000) AS INTEGER) AS monetary_micros,
         CAST(r_score AS INTEGER) AS r_score, CAST(f_score AS INTEGER) AS f_score,
         CAST(m_score AS INTEGER) AS m_score, tier
  FROM ours;
-- scores and tiers as SPEC.md states them in SQL, over buyers (frequency >= 1)
CREATE TABLE buyers AS SELECT * FROM expect WHERE frequency > 0;
CREATE TABLE scored AS
  SELECT cid,
    1 + 5 * (RANK() OVER (ORDER BY -recency_days) - 1) / (SELECT COUNT(*) FROM buyers) AS r,
    1 + 5 * (RANK() OVER (ORDER BY frequency) - 1) / (SELECT COUNT(*) FROM buyers) AS f,
    1 + 5 * (RANK() OVER (ORDER BY monetary_micros) - 1) / (SELECT COUNT(*) FROM buyers) AS m
  FROM buyers;
CREATE TABLE valued AS
  SELECT cid, r, f, m, ROUND(25 * (0.2 * (r - 1) + 0.3 * (f - 1) + 0.5 * (m - 1)), 6) AS v FROM scored;
CREATE TABLE tiered AS
  SELECT cid, r, f, m,
    CASE WHEN a < 0.05 THEN 'T1' WHEN a < 0.20 THEN 'T2' WHEN a < 0.50 THEN 'T3'
         WHEN a < 0.80 THEN 'T4' ELSE 'T5' END AS tier
  FROM (SELECT cid, r, f, m, (RANK() OVER (ORDER BY v DESC) - 1) * 1.0 / (SELECT COUNT(*) FROM valued) AS a FROM valued);
-- revenue share of the top 20 % of buyers by monetary
CREATE TABLE top20 AS
  SELECT ROUND(1.0 * SUM(monetary_micros) / (SELECT SUM(monetary_micros) FROM buyers), 6) AS share
  FROM (SELECT monetary_micros FROM buyers ORDER BY monetary_micros DESC
        LIMIT (SELECT CAST(ceil(0.2 * COUNT(*)) AS INTEGER) FROM buyers));
.output $work/result.txt
SELECT 'customers', (SELECT COUNT(*) FROM expect), (SELECT COUNT(*) FROM got);
SELECT 'mismatches', COUNT(*) FROM expect e LEFT JOIN got g ON g.cid = e.cid
  WHERE g.cid IS NULL OR g.frequency <> e.frequency OR g.monetary_micros <> e.monetary_micros
     OR COALESCE(CAST(g.recency_days AS INTEGER), -1) <> COALESCE(e.recency_days, -1);
SELECT 'score_mismatches', COUNT(*) FROM tiered t JOIN got g ON g.cid = t.cid
  WHERE g.r_score <> t.r OR g.f_score <> t.f OR g.m_score <> t.m OR g.tier <> t.tier;
SELECT 'scored', COUNT(*) FROM tiered;
SELECT 'top20', share FROM top20;
SELECT 'duplicates', (SELECT COUNT(*) FROM raw WHERE CustomerID <> '') - (SELECT COUNT(*) FROM r);
SELECT 'no_customer', COUNT(*) FROM raw WHERE CustomerID = '';
SELECT 'as_of', D FROM asof;
SQL
cat "$work/result.txt"
grep -qx 'customers,4372,4372' "$work/result.txt"
grep -qx 'mismatches,0' "$work/result.txt"
grep -qx 'no_customer,135080' "$work/result.txt"
grep -qx 'score_mismatches,0' "$work/result.txt"
grep -qx 'scored,4338' "$work/result.txt"
top20=$(grep '^top20,' "$work/result.txt" | cut -d, -f2)
sqlite3 :memory: "SELECT json_extract(value, '$.revenue_share') FROM json_each(readfile('$work/out/summary.json'), '$.pareto.top_shares') WHERE json_extract(value, '$.top') = 0.2" > "$work/ours_top20.txt"
awk -v a="$top20" -v b="$(cat "$work/ours_top20.txt")" 'BEGIN { d = a - b; if (d < 0) d = -d; if (d > 1e-6) { print "pareto top 20%: sqlite " a ", strata " b; exit 1 } }'
dups=$(grep '^duplicates,' "$work/result.txt" | cut -d, -f2)
grep -q "\"duplicate\":[[:space:]]*$dups" "$work/out/quality.json" || { echo "duplicate count differs from sqlite ($dups)"; exit 1; }
grep -q '"missing_user_id":[[:space:]]*135080' "$work/out/quality.json"
grep -q 'as of 2011-12-10' "$work/summary.txt"
# every rejected row is in rejects.csv with its line
test "$(grep -c ',missing_user_id,' "$work/out/rejects.csv")" -eq 135080
echo "online retail: all 4372 customers match sqlite3 (R, F, M, scores, tiers; top-20 % share $top20)"
