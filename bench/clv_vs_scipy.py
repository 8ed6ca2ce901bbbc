#!/usr/bin/python3
"""clv_vs_scipy.py — the scipy side of bench/clv_vs_scipy.sh.

  clv_vs_scipy.py gen OUT.csv N SEED     simulate N persons of the BG/NBD process, write x,t_x,T
  clv_vs_scipy.py fit IN.csv OUT.json    fit BG/NBD with scipy L-BFGS-B on log parameters
  clv_vs_scipy.py check IN.csv PREDS.csv PARAMS.json H
                                         E[X(H)|x,t_x,T] and P(alive) with scipy's hyp2f1
                                         at strata's parameters vs strata's predictions

The likelihood is FHL (2005) eq. 6 in logs, the same function strata maximises, with its
analytic gradient (so scipy is not slowed by finite differences). Needs Debian's
python3-numpy, python3-scipy, python3-pandas.
"""
import json
import sys
import time

import numpy as np

TRUE = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW estimates, weeks


def gen(path, n, seed):
    """Each person: lambda ~ Gamma(r, 1/alpha), p ~ Beta(a, b), T ~ U(1, 78) weeks; Poisson
    purchases at rate lambda while alive; after each repeat purchase, dropout with prob p."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    p = rng.beta(TRUE["a"], TRUE["b"], n)
    T = rng.uniform(1, 78, n)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n)
    t = np.zeros(n)
    idx = np.arange(n)
    while idx.size:
        t[idx] += rng.exponential(1 / lam[idx])
        inside = t[idx] <= T[idx]
        idx = idx[inside]
        x[idx] += 1
        tx[idx] = t[idx]
        idx = idx[rng.uniform(size=idx.size) >= p[idx]]  # survivors of this purchase
    with open(path, "w") as f:
        f.write("x,t_x,T\n")
        np.savetxt(f, np.column_stack([x, tx, T]), fmt=["%d", "%.6f", "%.6f"], delimiter=",")


def negll(theta, x, tx, T, xpos):
    from scipy.special import gammaln, digamma
    r, al, a, b = np.exp(theta)
    n = x.size
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(al)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    la_T, la_tx = np.log(al + T), np.log(al + tx)
    l3 = -(r + x) * la_T
    bx1 = np.where(xpos, b + x - 1, 1.0)
    l4 = np.where(xpos, np.log(a) - np.log(bx1) - (r + x) * la_tx, -np.inf)
    lse = np.logaddexp(l3, l4)
    ll = np.sum(a1 + a2 + lse)
    w4 = np.exp(l4 - lse)
    w3 = 1 - w4
    g_r = np.sum(digamma(r + x) - digamma(r) + np.log(al) - w3 * la_T - w4 * la_tx)
    g_al = np.sum(r / al - (r + x) * (w3 / (al + T) + w4 / (al + tx)))
    g_a = np.sum(digamma(a + b) - digamma(a + b + x) + w4 / a)
    g_b = np.sum(digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / bx1)
    grad = np.array([g_r * r, g_al * al, g_a * a, g_b * b])
    return -ll / n, -grad / n


def fit(path, out):
    import pandas as pd
    from scipy.optimize import minimize
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    x, tx, T = (df[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    t1 = time.perf_counter()
    res = minimize(negll, np.zeros(4), args=(x, tx, T, x > 0), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 1000})
    t2 = time.perf_counter()
    r, al, a, b = np.exp(res.x)
    result = dict(r=r, alpha=al, a=a, b=b, log_likelihood=-res.fun * x.size, persons=int(x.size),
                  iterations=int(res.nit), evaluations=int(res.nfev), success=bool(res.success),
                  read_seconds=t1 - t0, fit_seconds=t2 - t1)
    json.dump(result, open(out, "w"), indent=1)


def check(path, preds_path, params_path, horizon):
    import pandas as pd
    from scipy.special import hyp2f1
    df = pd.read_csv(path)
    pr = pd.read_csv(preds_path)
    P = json.load(open(params_path))["clv"]["bgnbd"]
    r, al, a, b = P["r"], P["alpha"], P["a"], P["b"]
    x, tx, T = (df[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    t = float(horizon)
    # textbook eq. 10 in float64, restricted to where scipy's 2F1 is finite and the formula
    # does not overflow (large x): elsewhere scipy cannot give a reference at all
    with np.errstate(all="ignore"):
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
        first = (a + b + x - 1) / (a - 1) * (1 - hyp * ((al + T) / (al + t + T)) ** (r + x))
        odds = np.where(x > 0, a / np.where(x > 0, b + x - 1, 1) * ((al + T) / (al + tx)) ** (r + x), 0)
        e = first / (1 + odds)
        palive = 1 / (1 + odds)
    ok = np.isfinite(e) & np.isfinite(palive)
    de = np.abs(e[ok] - pr["exp_purchases"].to_numpy()[ok])
    dp = np.abs(palive[ok] - pr["p_alive"].to_numpy()[ok])
    print(json.dumps(dict(persons=int(x.size), compared=int(ok.sum()), scipy_nonfinite=int((~ok).sum()),
                          max_abs_diff_exp_purchases=float(de.max()),
                          max_rel_diff_exp_purchases=float((de / np.maximum(e[ok], 1e-300)).max()),
                          max_abs_diff_p_alive=float(dp.max()))))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "fit":
        fit(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit("usage: clv_vs_scipy.py gen|fit|check ...")
