// duckdb_rfm.mjs — the DuckDB peer of the main benchmark (bench/run.sh): strata's profile +
// RFM + tier job (../shared/SPEC.md "Profile") as one SQL statement over read_csv, with the
// result written by COPY to CSV. Owns nothing but its output file.
//
//   node bench/duckdb_rfm.mjs ORDERS.csv OUT.csv [THREADS]
//
// Prints one JSON line: {"duckdb_version", "threads", "persons", "seconds"}.
//
// The columns get explicit types so that amounts are exact decimals (DECIMAL(18,6), the
// micro-units strata keeps) and "exact duplicate" means equal parsed values in every column,
// as in strata. value_score uses DuckDB's decimal literals, so equal scores tie exactly.
import { DuckDBInstance, version } from '@duckdb/node-api';

const [, , orders, out, threads = '2'] = process.argv;
if (!orders || !out) {
  console.error('usage: node duckdb_rfm.mjs ORDERS.csv OUT.csv [THREADS]');
  process.exit(64);
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

const sql = `
COPY (
  WITH rows AS (
    SELECT DISTINCT * FROM read_csv(${quote(orders)}, header = true, delim = ',', quote = '"',
      columns = {
        'order_id': 'VARCHAR', 'user_id': 'VARCHAR', 'order_ts': 'TIMESTAMP',
        'amount': 'DECIMAL(18,6)', 'quantity': 'BIGINT', 'unit_price': 'DECIMAL(18,6)',
        'category': 'VARCHAR', 'brand': 'VARCHAR', 'channel': 'VARCHAR',
        'payment_method': 'VARCHAR', 'coupon_used': 'BOOLEAN', 'discount': 'DECIMAL(18,6)',
        'status': 'VARCHAR'})
  ),
  orders AS (
    SELECT user_id, order_id, CAST(min(order_ts) AS DATE) AS order_date,
           sum(CASE WHEN lower(status) IN ('refunded', 'returned', 'refund', 'cancelled', 'canceled')
                    THEN 0 ELSE amount END) AS total
    FROM rows GROUP BY user_id, order_id
  ),
  as_of AS (SELECT CAST(max(order_ts) AS DATE) + 1 AS d FROM rows),
  persons AS (
    SELECT user_id,
           count(*) FILTER (WHERE total > 0) AS frequency,
           max(order_date) FILTER (WHERE total > 0) AS last_date,
           greatest(sum(total), 0) AS monetary
    FROM orders GROUP BY user_id
  ),
  profiles AS (
    SELECT user_id, (SELECT d FROM as_of) - last_date AS recency_days, frequency, monetary
    FROM persons
  ),
  n AS (SELECT count(*) AS n FROM profiles WHERE frequency >= 1),
  scores AS (
    SELECT user_id,
           1 + (5 * (rank() OVER (ORDER BY -recency_days) - 1)) // n AS r_score,
           1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) // n AS f_score,
           1 + (5 * (rank() OVER (ORDER BY monetary) - 1)) // n AS m_score,
           n
    FROM profiles, n WHERE frequency >= 1
  ),
  ranked AS (
    SELECT *, rank() OVER (ORDER BY 25 * (0.2 * (r_score - 1) + 0.3 * (f_score - 1)
                                          + 0.5 * (m_score - 1)) DESC) - 1 AS above
    FROM scores
  )
  SELECT p.user_id, p.recency_days, p.frequency, p.monetary, s.r_score, s.f_score, s.m_score,
         CASE WHEN s.above IS NULL THEN NULL
              WHEN 20 * s.above < s.n THEN 'T1'
              WHEN 5 * s.above < s.n THEN 'T2'
              WHEN 2 * s.above < s.n THEN 'T3'
              WHEN 5 * s.above < 4 * s.n THEN 'T4'
              ELSE 'T5' END AS tier
  FROM profiles p LEFT JOIN ranked s USING (user_id)
) TO ${quote(out)} (HEADER, DELIMITER ',')`;

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
const reader = await connection.runAndReadAll(sql);
const persons = Number(reader.getRows()[0]?.[0] ?? -1);
const seconds = (performance.now() - t0) / 1000;
connection.closeSync();
instance.closeSync();
console.log(JSON.stringify({ duckdb_version: version(), threads: Number(threads), persons, seconds }));
