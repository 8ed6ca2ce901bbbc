#!/usr/bin/python3
"""churn_vs_xgboost.py — the Python side of bench/churn_vs_xgboost.sh.

  gen OUT_DIR ROWS SEED    write train.csv and score.csv: ROWS persons each, 20 columns with a
                           known churn signal (fixed seed, numpy PCG64), label `churned`
  train TRAIN SCORE OUT THREADS
                           the reference: the same protocol as `strata churn train` + `score`
                           with Python xgboost (stratified 20 % test hold-out, 20 % of the
                           rest for early stopping, hist, max_depth 6, eta 0.1, 200 rounds,
                           early stopping 20, seed 42, nthread THREADS); writes OUT as
                           id,churn_prob and prints timings as JSON
  auc SCORE SCORES...      AUC of each scores file against the labels of SCORE (scikit-learn),
                           joined on the id column, as JSON

Run it with /usr/bin/python3 (Debian's python3-xgboost, python3-sklearn, python3-pandas).
"""
import json
import sys
import time

import numpy as np
import pandas as pd

PARAMS = {
    "objective": "binary:logistic",
    "tree_method": "hist",
    "max_depth": 6,
    "eta": 0.1,
    "seed": 42,
    "eval_metric": "logloss",
    "verbosity": 0,
}
TEXT = ["channel", "region", "gender"]


def gen_one(rng, n, first_id):
    """Persons with an RFM-like history; churn depends non-linearly on it."""
    activity = rng.gamma(1.5, 1.0, n)  # a latent purchase rate
    frequency = rng.poisson(1 + 6 * activity)
    recency = np.minimum(rng.exponential(30 + 120 / (1 + activity)), 720).round()
    aov = rng.lognormal(3.5, 0.6, n)
    monetary = (frequency * aov * rng.uniform(0.8, 1.2, n)).round(2)
    tenure = recency + rng.uniform(0, 900, n).round()
    refund_rate = rng.beta(1, 12, n).round(3)
    coupon_rate = rng.beta(2, 5, n).round(3)
    category_count = 1 + rng.poisson(activity * 2)
    views = rng.poisson(20 * activity + 2)
    searches = rng.poisson(5 * activity + 1)
    carts = rng.poisson(2 * activity)
    favorites = rng.poisson(activity)
    active30 = np.minimum(rng.poisson(4 * activity * np.exp(-recency / 60)), 30)
    active90 = np.minimum(active30 + rng.poisson(8 * activity * np.exp(-recency / 120)), 90)
    service_contacts = rng.poisson(0.3 + 0.5 * refund_rate * 10)
    nps = rng.integers(0, 11, n).astype(float)
    nps[rng.random(n) < 0.4] = np.nan  # most people never answer
    age = rng.normal(38, 11, n).round()
    age[rng.random(n) < 0.1] = np.nan
    channel = rng.choice(["app", "web", "store", "wechat", "partner"], n, p=[.35, .3, .15, .15, .05])
    region = rng.choice(["north", "south", "east", "west", "central", "ne", "sw", "overseas"], n)
    gender = rng.choice(["F", "M", ""], n, p=[.48, .47, .05])

    logit = (-0.8 + 0.012 * recency - 0.35 * np.log1p(frequency) - 0.15 * np.log1p(monetary / 100)
             + 1.2 * ((recency > 120) & (frequency <= 2))       # an interaction trees find
             - 0.25 * active30 + 2.5 * refund_rate + 0.25 * service_contacts
             - 0.12 * np.nan_to_num(nps - 5) + 0.5 * (channel == "partner")
             - 0.3 * (channel == "app") + 0.4 * np.sin(tenure / 120))
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "person_id": [f"P{i:08d}" for i in range(first_id, first_id + n)],
        "recency_days": recency, "frequency": frequency, "monetary": monetary,
        "aov": (monetary / np.maximum(frequency, 1)).round(2), "tenure_days": tenure,
        "refund_rate": refund_rate, "coupon_rate": coupon_rate,
        "category_count": category_count, "views": views, "searches": searches, "carts": carts,
        "favorites": favorites, "active_days_30": active30, "active_days_90": active90,
        "service_contacts": service_contacts, "nps": nps, "age": age,
        "channel": channel, "region": region, "gender": gender,
        "churned": np.where(churned, "yes", "no"),
    })


def gen(out_dir, rows, seed):
    rng = np.random.Generator(np.random.PCG64(seed))
    for name, first in (("train", 0), ("score", rows)):
        df = gen_one(rng, rows, first)
        df.to_csv(f"{out_dir}/{name}.csv", index=False)
        print(f"{name}.csv: {rows} rows, churn rate {np.mean(df.churned == 'yes'):.4f}",
              file=sys.stderr)


def encode(df, columns=None):
    """Numeric columns as they are, text one-hot (blank = missing), like strata."""
    x = df.drop(columns=["person_id", "churned"])
    parts = [x.drop(columns=TEXT).astype("float32")]
    for c in TEXT:
        v = x[c].fillna("")
        d = pd.get_dummies(v, prefix=c, prefix_sep="=", dtype="float32")
        d = d.drop(columns=[f"{c}="], errors="ignore")
        d.loc[v == ""] = np.nan
        parts.append(d)
    enc = pd.concat(parts, axis=1)
    if columns is not None:
        enc = enc.reindex(columns=columns, fill_value=0.0)
    return enc


def train(train_csv, score_csv, out, threads):
    import xgboost as xgb
    from sklearn.model_selection import train_test_split

    t0 = time.time()
    df = pd.read_csv(train_csv, keep_default_na=False, na_values=[""])
    for c in TEXT:
        df[c] = df[c].fillna("")
    X = encode(df)
    y = (df.churned == "yes").to_numpy()
    idx = np.arange(len(df))
    rest, test = train_test_split(idx, test_size=0.2, stratify=y, random_state=42)
    fit, valid = train_test_split(rest, test_size=0.2, stratify=y[rest], random_state=42)
    params = dict(PARAMS, nthread=threads)
    dfit = xgb.DMatrix(X.iloc[fit], label=y[fit], nthread=threads)
    dvalid = xgb.DMatrix(X.iloc[valid], label=y[valid], nthread=threads)
    booster = xgb.train(params, dfit, num_boost_round=200, evals=[(dvalid, "valid")],
                        early_stopping_rounds=20, verbose_eval=False)
    rounds = booster.best_iteration + 1
    from sklearn.metrics import roc_auc_score
    p_test = booster.predict(xgb.DMatrix(X.iloc[test], nthread=threads),
                             iteration_range=(0, rounds))
    test_auc = roc_auc_score(y[test], p_test)
    t1 = time.time()
    sf = pd.read_csv(score_csv, keep_default_na=False, na_values=[""])
    for c in TEXT:
        sf[c] = sf[c].fillna("")
    S = encode(sf, X.columns)
    p = booster.predict(xgb.DMatrix(S, nthread=threads), iteration_range=(0, rounds))
    pd.DataFrame({"id": sf.person_id, "churn_prob": p}).to_csv(out, index=False,
                                                               float_format="%.6f")
    t2 = time.time()
    print(json.dumps({"train_seconds": t1 - t0, "score_seconds": t2 - t1, "rounds": rounds,
                      "test_auc": test_auc, "features": X.shape[1]}))


def auc(score_csv, files):
    from sklearn.metrics import roc_auc_score
    truth = pd.read_csv(score_csv, usecols=["person_id", "churned"])
    y = (truth.churned == "yes").to_numpy()
    out = {}
    for f in files:
        s = pd.read_csv(f, usecols=["id", "churn_prob"]).set_index("id")
        p = s.churn_prob.reindex(truth.person_id).to_numpy()
        assert not np.isnan(p).any(), f"{f}: missing ids"
        out[f] = roc_auc_score(y, p)
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "train":
        train(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "auc":
        auc(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
