#!/usr/bin/python3
"""Independent reference numbers for tests/unit/test_clv.c.

Computed with mpmath (80 digits, its own 2F1 summation) straight from the textbook formulas
of Fader, Hardie & Lee (2005) — not with the rearranged series that src/models/clv.c uses —
at FIXED parameters (the MLE found with scipy L-BFGS-B on cdnow_sample_cbs, rounded to 7
digits), so the C predictions can be compared to 1e-9 independently of the C fit.

Run: /usr/bin/python3 tests/data/cdnow/reference_clv.py   (needs python3-mpmath, numpy)
"""
import csv, gzip, os
import mpmath as mp
import numpy as np

mp.mp.dps = 80
HERE = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(gzip.open(os.path.join(HERE, "cdnow_sample_cbs.csv.gz"), "rt")))
x = np.array([float(r["x"]) for r in rows]); tx = np.array([float(r["t.x"]) for r in rows])
T = np.array([float(r["T.cal"]) for r in rows]); xs = np.array([float(r["x.star"]) for r in rows])
m = np.array([float(r["m.x"]) for r in rows])
R, AL, A, B = 0.2425943, 4.4135977, 0.7929244, 2.4259157   # BG/NBD
P, Q, G = 6.249558, 3.744228, 15.443574                     # Gamma-Gamma


def expected(t, x, tx, T, r=R, al=AL, a=A, b=B):
    """FHL 2005 eq. 10, E[X(t) | x, t_x, T]."""
    x, tx, T, t = mp.mpf(x), mp.mpf(tx), mp.mpf(T), mp.mpf(t)
    hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t), maxterms=10**7)
    first = (a + b + x - 1) / (a - 1) * (1 - hyp * ((al + T) / (al + t + T)) ** (r + x))
    second = 1 + (a / (b + x - 1)) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 1
    return first / second


def p_alive(x, tx, T, r=R, al=AL, a=A, b=B):
    if x == 0:
        return mp.mpf(1)
    return 1 / (1 + (a / (b + x - 1)) * ((al + T) / (al + tx)) ** (r + x))


def aov(x, mm):
    w = P * x / (P * x + Q - 1)
    return (1 - w) * P * G / (Q - 1) + w * mm if x > 0 else P * G / (Q - 1)


def clv(i, months=12, L=4.345, d=0.01):
    s, prev = 0, 0
    for k in range(1, months + 1):
        c = float(expected(k * L, x[i], tx[i], T[i]))
        s += (c - prev) * aov(x[i], m[i]) / (1 + d) ** k
        prev = c
    return s


print("# holdout groups: x, persons, actual mean x.star, predicted mean E[X(39)]")
grp = np.minimum(x, 7).astype(int)
for k in range(8):
    sel = np.where(grp == k)[0]
    pred = np.mean([float(expected(39, x[i], tx[i], T[i])) for i in sel])
    print(k, len(sel), repr(xs[sel].mean()), repr(pred))
print("# E[X(t)|x,t_x,T] and P(alive) at the CDNOW parameters: t, x, t_x, T, E, P(alive)")
for args in [(39, 0, 0, 38.86), (39, 5, 10, 38), (1000, 0, 0, 1), (100000, 2, 1, 3),
             (39, 300, 30, 38), (39, 300, 38, 38), (39, 10000, 38.5, 38.6), (0.5, 1, 0.1, 0.2)]:
    print(args, repr(float(expected(*args))), repr(float(p_alive(*args[1:]))))
print("# E[X(t)|...] at other parameters (r, alpha, a, b): a > 1, a + b < 1, a = 1")
for pr in [(0.5, 10, 1.7, 3.0), (0.3, 2, 0.4, 0.3), (1.0, 1.0, mp.mpf(1) + mp.mpf("1e-30"), 2.0)]:
    for args in [(39, 0, 0, 38.86), (39, 3, 20, 38), (500, 1, 5, 10)]:
        print(pr[:2], float(pr[2]), pr[3], args,
              repr(float(expected(*args, r=pr[0], al=pr[1], a=pr[2], b=pr[3]))))
print("# customers: id, aov, clv (12 months of 4.345 weeks, 1 %/month), P(alive), E[X(13)]")
for i in [0, 1, 2, 156]:
    print(i + 1, repr(aov(x[i], m[i])), repr(clv(i)), repr(float(p_alive(x[i], tx[i], T[i]))),
          repr(float(expected(13, x[i], tx[i], T[i]))))
