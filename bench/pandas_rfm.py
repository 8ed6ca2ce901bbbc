#!/usr/bin/python3
"""pandas_rfm.py — the pandas peer of the main benchmark (bench/run.sh): strata's profile +
RFM + tier job (../shared/SPEC.md "Profile") written the way a pandas user would, on the
Debian python3-pandas (run with /usr/bin/python3). Owns nothing but its output file.

    /usr/bin/python3 bench/pandas_rfm.py ORDERS.csv OUT.csv

Prints one JSON line: {"pandas_version", "numpy_version", "persons", "seconds"}.

Money is exact: amounts become int64 micro-units (strata's unit). The C parser's float is
within an ulp of the decimal, and any value with at most 6 decimals and |x| < 9e9 is the
unique int64 nearest to x*1e6, so rounding recovers it exactly; a value with more decimals
or larger stops the script instead of silently drifting. Scores and tiers are integer
arithmetic; value_score is ranked as 2(r-1) + 3(f-1) + 5(m-1), which is value_score / 2.5,
so float rounding cannot break ties between equal scores.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

REFUND_STATUS = {"refunded", "returned", "refund", "cancelled", "canceled"}
LOW_CARDINALITY = ["category", "brand", "channel", "payment_method", "status"]


def to_micros(values: pd.Series, name: str) -> pd.Series:
    scaled = values.to_numpy(dtype=np.float64) * 1e6
    micros = np.rint(scaled)
    if (np.isnan(scaled).any() or np.any(np.abs(scaled) >= 9e15)
            or np.any(np.abs(scaled - micros) > 1e-3)):
        sys.exit(f"pandas_rfm: {name} has a value is missing, beyond 6 decimals or beyond 9e9")
    return pd.Series(micros.astype(np.int64), index=values.index)


def rfm(path: str) -> pd.DataFrame:
    dtypes = {"order_id": str, "user_id": str, "order_ts": str, "amount": np.float64,
              "quantity": np.int64, "unit_price": np.float64, "coupon_used": np.int8,
              "discount": np.float64}
    dtypes.update({c: "category" for c in LOW_CARDINALITY})
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    df["order_ts"] = pd.to_datetime(df["order_ts"], format="%Y-%m-%d %H:%M:%S")
    for col in ("amount", "unit_price", "discount"):
        df[col] = to_micros(df[col], col)

    # 1. exact duplicates: equal parsed values in every column
    df = df.drop_duplicates()

    # 2. refunded or cancelled rows count 0 (status in any case)
    # (decided once per distinct status, not once per row)
    refunded = df["status"].map(lambda s: s.lower() in REFUND_STATUS).fillna(False).astype(bool)
    amount = df["amount"].where(~refunded, 0)
    day = df["order_ts"].dt.normalize()

    # 3. orders: (user_id, order_id); date = earliest row's date; valid if the sum is > 0
    orders = (pd.DataFrame({"user_id": df["user_id"], "order_id": df["order_id"],
                            "day": day, "amount": amount})
              .groupby(["user_id", "order_id"], sort=False)
              .agg(order_date=("day", "min"), total=("amount", "sum"))
              .reset_index())
    # 4. as-of date: the day after the last row's date
    as_of = day.max() + pd.Timedelta(days=1)

    # 5. per person
    orders["valid"] = orders["total"] > 0
    orders["valid_date"] = orders["order_date"].where(orders["valid"])
    persons = orders.groupby("user_id", sort=False).agg(
        frequency=("valid", "sum"), last_date=("valid_date", "max"), monetary=("total", "sum"))
    persons["monetary"] = persons["monetary"].clip(lower=0)
    persons["recency_days"] = (as_of - persons["last_date"]).dt.days.astype("Int64")

    # 6. scores and tiers over persons with a valid order
    buyers = persons[persons["frequency"] >= 1]
    n = len(buyers)

    def score(v: pd.Series) -> pd.Series:
        rank = v.rank(method="min").astype(np.int64)
        return 1 + (5 * (rank - 1)) // n

    scores = pd.DataFrame({"r_score": score(-buyers["recency_days"].astype(np.int64)),
                           "f_score": score(buyers["frequency"]),
                           "m_score": score(buyers["monetary"])})
    points = (2 * (scores["r_score"] - 1) + 3 * (scores["f_score"] - 1)
              + 5 * (scores["m_score"] - 1))
    above = points.rank(method="min", ascending=False).astype(np.int64) - 1
    scores["tier"] = np.select([20 * above < n, 5 * above < n, 2 * above < n, 5 * above < 4 * n],
                               ["T1", "T2", "T3", "T4"], "T5")

    out = persons[["recency_days", "frequency", "monetary"]].join(scores)
    for col in ("r_score", "f_score", "m_score"):
        out[col] = out[col].astype("Int64")
    # monetary from micro-units to a decimal string without going through float
    m = out["monetary"].to_numpy()
    out["monetary"] = (pd.Series(m // 1_000_000, index=out.index).astype(str) + "."
                       + pd.Series(m % 1_000_000, index=out.index).astype(str).str.zfill(6))
    return out.reset_index()


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: /usr/bin/python3 pandas_rfm.py ORDERS.csv OUT.csv")
    t0 = time.perf_counter()
    out = rfm(sys.argv[1])
    out.to_csv(sys.argv[2], index=False)
    print(json.dumps({"pandas_version": pd.__version__, "numpy_version": np.__version__,
                      "persons": len(out), "seconds": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main()
