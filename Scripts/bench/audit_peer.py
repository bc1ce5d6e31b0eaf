#!/usr/bin/env python3
"""The peer of `fairmed audit`: the same per-group metrics with fairlearn's MetricFrame +
scikit-learn's roc_auc_score, and a hand-vectorised NumPy version; plus a per-cell-count
bootstrap in NumPy. Also writes the benchmark CSVs.

    python3 Scripts/bench/audit_peer.py make  OUT.csv ROWS [SEED]
    python3 Scripts/bench/audit_peer.py peer  IN.csv            # prints JSON timings
    python3 Scripts/bench/audit_peer.py boot  IN.csv REPLICATES # NumPy per-cell bootstrap timing
"""
import json
import sys
import time

import numpy as np
import pandas as pd

ATTRS = [("sex", ["female", "male"]), ("age_group", ["<40", "40-59", ">=60"]), ("site", ["a", "b", "c", "d"])]


def make(path, rows, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": (rng.random(rows) < 0.3).astype(int)})
    shift = np.ones(rows)
    for name, levels in ATTRS:
        df[name] = rng.choice(levels, size=rows)
    shift[(df["sex"] == "female") & (df["age_group"] == "<40")] = 0.4
    z = np.where(df["y"] == 1, shift, -shift) + rng.normal(size=rows)
    df["p"] = np.round(1 / (1 + np.exp(-z)), 6)
    df["margin"] = np.where(df["y"] == 1, 2 * df["p"] - 1, 1 - 2 * df["p"])
    df[["y", "p", "margin"] + [a for a, _ in ATTRS]].to_csv(path, index=False, float_format="%.6f")


def fairlearn_metrics(df, threshold=0.5):
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate
    from sklearn.metrics import recall_score, roc_auc_score
    t0 = time.perf_counter()
    y, p = df["y"].to_numpy(), df["p"].to_numpy()
    yp = (p >= threshold).astype(int)
    sf = df[[a for a, _ in ATTRS]]
    mf = MetricFrame(metrics={"tpr": recall_score, "fpr": false_positive_rate, "selection_rate": selection_rate, "n": count},
                     y_true=y, y_pred=yp, sensitive_features=sf)
    gaps = mf.difference()
    auc = {k: roc_auc_score(g["y"], g["p"]) for k, g in df.groupby([a for a, _ in ATTRS]) if 0 < g["y"].sum() < len(g)}
    overall_auc = roc_auc_score(y, p)
    return time.perf_counter() - t0, mf.by_group, gaps, auc, overall_auc


def numpy_metrics(df, threshold=0.5):
    t0 = time.perf_counter()
    y = df["y"].to_numpy().astype(np.int64)
    p = df["p"].to_numpy()
    codes, sizes = [], []
    for a, _ in ATTRS:
        c, u = pd.factorize(df[a], sort=True)
        codes.append(c); sizes.append(len(u))
    g = np.ravel_multi_index(codes, sizes)
    G = int(np.prod(sizes))
    pred = (p >= threshold).astype(np.int64)
    cells = np.bincount(g * 4 + 2 * y + pred, minlength=4 * G).reshape(G, 4)  # tn fp fn tp
    tn, fp, fn, tp = cells.T
    tpr, fpr, sel = tp / (tp + fn), fp / (fp + tn), (tp + fp) / cells.sum(1)
    # Tie-aware AUC per group via average ranks within (group, score) blocks.
    order = np.lexsort((p, g))
    gs, ps, ys = g[order], p[order], y[order]
    n = len(p)
    new_block = np.r_[True, (gs[1:] != gs[:-1]) | (ps[1:] != ps[:-1])]
    block_id = np.cumsum(new_block) - 1
    starts = np.flatnonzero(new_block)
    ends = np.r_[starts[1:], n]
    group_start = np.searchsorted(gs, np.arange(G))
    avg_rank = (starts + ends - 1) / 2.0 + 1 - group_start[gs[starts]]
    ranks = avg_rank[block_id]
    P = np.bincount(gs, weights=ys, minlength=G)
    N = np.bincount(gs, minlength=G) - P
    rsum = np.bincount(gs, weights=ranks * ys, minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rsum - P * (P + 1) / 2) / (P * N)
    gaps = {"delta_tpr": np.nanmax(tpr) - np.nanmin(tpr), "dpd": sel.max() - sel.min()}
    return time.perf_counter() - t0, tpr, fpr, sel, auc, gaps


def numpy_cell_bootstrap(df, replicates, threshold=0.5, seed=7):
    y = df["y"].to_numpy().astype(np.int64)
    p = df["p"].to_numpy()
    codes, sizes = [], []
    for a, _ in ATTRS:
        c, u = pd.factorize(df[a], sort=True)
        codes.append(c); sizes.append(len(u))
    g = np.ravel_multi_index(codes, sizes)
    G = int(np.prod(sizes))
    cells = np.bincount(g * 4 + 2 * y + (p >= threshold), minlength=4 * G).reshape(G, 4)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n = cells.sum(1)
    draws = np.stack([rng.multinomial(n[k], cells[k] / n[k], size=replicates) for k in range(G)], axis=1)  # R×G×4
    tn, fp, fn, tp = np.moveaxis(draws, 2, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tp / (tp + fn)
        sel = (tp + fp) / (tn + fp + fn + tp)
    dtpr = np.nanmax(tpr, 1) - np.nanmin(tpr, 1)
    dpd = sel.max(1) - sel.min(1)
    ci = np.percentile(dtpr, [2.5, 97.5]), np.percentile(dpd, [2.5, 97.5])
    return time.perf_counter() - t0, ci


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    elif cmd == "peer":
        t0 = time.perf_counter()
        df = pd.read_csv(sys.argv[2])
        load = time.perf_counter() - t0
        fl = fairlearn_metrics(df)
        npv = numpy_metrics(df)
        print(json.dumps({"pandas_read_csv_s": load, "fairlearn_s": fl[0], "numpy_s": npv[0],
                          "fairlearn_delta_tpr": float(fl[2]["tpr"]), "numpy_delta_tpr": float(npv[5]["delta_tpr"]),
                          "max_auc_abs_diff": float(max(abs(fl[3][k] - npv[4][np.ravel_multi_index(
                              [sorted(l).index(v) for (a, l), v in zip(ATTRS, k)], [len(l) for _, l in ATTRS])]) for k in fl[3]))}))
    elif cmd == "boot":
        df = pd.read_csv(sys.argv[2])
        t, ci = numpy_cell_bootstrap(df, int(sys.argv[3]))
        print(json.dumps({"numpy_cell_bootstrap_s": t, "delta_tpr_ci": list(map(float, ci[0]))}))
