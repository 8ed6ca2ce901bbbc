#!/usr/bin/python3
"""compare.py — the verify step of the main benchmark (bench/run.sh): checks that strata's
out/profiles.csv, the DuckDB peer's and the pandas peer's CSV agree exactly on every person
and on user_id, recency_days, frequency, monetary, r_score, f_score, m_score and tier, and
prints a checksum of the agreed result (sums per column, tier counts) so a faster but wrong
build shows in RESULTS.md. Owns nothing; reads only.

    /usr/bin/python3 bench/compare.py STRATA_PROFILES.csv NAME=FILE.csv [NAME=FILE.csv ...]

Prints one JSON object on stdout; differences go to stderr. Exit 0 when every file agrees
with strata, 1 on any difference, 64 on bad usage.

Values are compared after parsing, not as text: monetary as exact integer micro-units
(Python's Decimal, never float), so 83.24 and 83.240000 are equal and 83.24 and 83.2400001
are not; empty and missing are both "no value".
"""
import json
import sys
from decimal import Decimal

import pandas as pd

COLUMNS = ["user_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
           "tier"]
INTEGER_COLUMNS = ["recency_days", "frequency", "r_score", "f_score", "m_score"]
MICRO = Decimal(1_000_000)


def micros(text: str) -> int:
    value = Decimal(text) * MICRO
    if value != value.to_integral_value():
        raise ValueError(f"monetary {text!r} has more than 6 decimals")
    return int(value)


def load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, usecols=COLUMNS, dtype=str, keep_default_na=False)
    df = df[COLUMNS]
    for col in INTEGER_COLUMNS:
        df[col] = pd.to_numeric(df[col].replace("", None), errors="raise").astype("Int64")
    df["monetary"] = df["monetary"].map(micros)
    if df["user_id"].duplicated().any():
        raise ValueError(f"{path}: a user_id appears twice")
    return df.set_index("user_id").sort_index()


def checksum(df: pd.DataFrame) -> dict:
    buyers = df[df["frequency"] >= 1]
    tiers = df["tier"].value_counts().to_dict()
    return {
        "persons": int(len(df)),
        "buyers": int(len(buyers)),
        "sum_recency_days": int(df["recency_days"].sum()),
        "sum_frequency": int(df["frequency"].sum()),
        "sum_monetary": str(Decimal(int(df["monetary"].sum())) / MICRO),
        "sum_r_score": int(df["r_score"].sum()),
        "sum_f_score": int(df["f_score"].sum()),
        "sum_m_score": int(df["m_score"].sum()),
        "tiers": {t: int(tiers.get(t, 0)) for t in ("T1", "T2", "T3", "T4", "T5")},
    }


def differences(name: str, ref: pd.DataFrame, other: pd.DataFrame) -> int:
    bad = 0
    missing = ref.index.difference(other.index)
    extra = other.index.difference(ref.index)
    for label, ids in (("missing from", missing), ("only in", extra)):
        if len(ids):
            bad += len(ids)
            print(f"{name}: {len(ids)} persons {label} {name}, e.g. {list(ids[:5])}",
                  file=sys.stderr)
    common = ref.index.intersection(other.index)
    a, b = ref.loc[common], other.loc[common]
    for col in COLUMNS[1:]:
        x, y = a[col], b[col]
        differ = ~((x == y).fillna(False) | (x.isna() & y.isna()))
        if differ.any():
            bad += int(differ.sum())
            sample = pd.DataFrame({"strata": x[differ], name: y[differ]}).head(5)
            print(f"{name}: {int(differ.sum())} persons differ in {col}:\n{sample}",
                  file=sys.stderr)
    return bad


def main() -> int:
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print(__doc__, file=sys.stderr)
        return 64
    strata = load(sys.argv[1])
    result = {"strata": checksum(strata), "agree": True}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        other = load(path)
        bad = differences(name, strata, other)
        result[name] = {"differences": bad, "checksum_equal": checksum(other) == result["strata"]}
        result["agree"] = result["agree"] and bad == 0
    print(json.dumps(result))
    return 0 if result["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
