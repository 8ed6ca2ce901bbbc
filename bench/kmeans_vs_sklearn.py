#!/usr/bin/python3
"""kmeans_vs_sklearn.py — the scikit-learn side of bench/kmeans_vs_sklearn.sh.

  kmeans_vs_sklearn.py gen OUT.csv N SEED        N synthetic persons: recency_days,frequency,monetary
  kmeans_vs_sklearn.py fit IN.csv K N_INIT OUT.json
        read the CSV, log1p + StandardScaler (population sd, as strata), then
        KMeans(n_clusters=K, n_init=N_INIT, init="k-means++", algorithm="lloyd",
        max_iter=300, tol=1e-4, random_state=0); writes inertia and timings.

Needs Debian's python3-numpy, python3-pandas, python3-sklearn.
"""
import json
import sys
import time

import numpy as np


def gen(path, n, seed):
    """Five latent segments with overlapping, heavy-tailed features (like real RFM data)."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(5, size=n, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    rec_mu = np.array([5.5, 4.5, 3.5, 2.5, 1.5])[seg]      # log days since last order
    freq_lam = np.array([0.3, 1.0, 2.5, 6.0, 15.0])[seg]
    mon_mu = np.array([3.5, 4.2, 5.0, 5.8, 7.0])[seg]     # log spend per order
    recency = np.maximum(1, np.round(np.exp(rng.normal(rec_mu, 0.6))))
    frequency = 1 + rng.poisson(freq_lam)
    monetary = np.round(frequency * np.exp(rng.normal(mon_mu, 0.5)), 2)
    with open(path, "w") as f:
        f.write("recency_days,frequency,monetary\n")
        np.savetxt(f, np.column_stack([recency, frequency, monetary]), fmt=["%d", "%d", "%.2f"],
                   delimiter=",")


def fit(path, k, n_init, out):
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler
    t0 = time.perf_counter()
    X = pd.read_csv(path)[["recency_days", "frequency", "monetary"]].to_numpy(dtype=float)
    t1 = time.perf_counter()
    Z = StandardScaler().fit_transform(np.log1p(X))
    km = KMeans(n_clusters=k, n_init=n_init, init="k-means++", algorithm="lloyd", max_iter=300,
                tol=1e-4, random_state=0).fit(Z)
    t2 = time.perf_counter()
    sizes = np.bincount(km.labels_, minlength=k)
    json.dump(dict(inertia=float(km.inertia_), iterations=int(km.n_iter_), k=k, n_init=n_init,
                   sizes=sorted(sizes.tolist(), reverse=True), read_seconds=t1 - t0,
                   fit_seconds=t2 - t1), open(out, "w"), indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "fit":
        fit(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit("usage: kmeans_vs_sklearn.py gen|fit ...")
