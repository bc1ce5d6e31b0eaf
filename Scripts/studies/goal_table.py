#!/usr/bin/env python3
"""Checks a FairMed study's results.csv against issue 13's goal, per CMAC-MMD setting.

For every CMAC-MMD row group (variant, λ) against ERM with the same sampler (its variant's
baseline), at the validation threshold, mean over seeds:
  ΔTPR −40 % relative or better; worst-group TPR +0.10 or better; AUC ≥ ERM − 0.01;
  overall TPR ≥ ERM − 0.05; no seed with a worst-group TPR below ERM's (same seed);
  external ΔTPR no worse than ERM's.
And against the best baseline (ERM with the balanced-cells sampler, or a given method):
  worst-group TPR at least as high with AUC within 0.01.

Usage: goal_table.py RESULTS.csv [--baseline-variant cells | --best-method resample]
Only the Python standard library is used.
"""
import csv, sys, statistics as st
from collections import defaultdict

def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))

def num(x):
    return float(x) if x not in ("", None) else None

def mean(v):
    v = [x for x in v if x is not None]
    return sum(v) / len(v) if v else None

def main(argv):
    path = argv[1]
    best_variant = "cells"
    best_method = "erm"
    if "--baseline-variant" in argv:
        best_variant = argv[argv.index("--baseline-variant") + 1]
    if "--best-method" in argv:  # e.g. resample, in a study without variants
        best_method, best_variant = argv[argv.index("--best-method") + 1], ""
    rows = [r for r in load(path) if r["threshold"] == "validation"]
    by = defaultdict(dict)  # (method, variant, lambda, split) -> seed -> row
    for r in rows:
        by[(r["method"], r["variant"], r["lambda"], r["split"])][r["seed"]] = r
    variants = sorted({(k[1], k[2]) for k in by if k[0] == "cmac-mmd"})
    erm_variants = {k[1] for k in by if k[0] == "erm"}
    out = []
    for variant, lam in variants:
        base = variant.split("-")[0] if variant.split("-")[0] in erm_variants else variant
        m_int, e_int = by.get(("cmac-mmd", variant, lam, "internal"), {}), by.get(("erm", base, "", "internal"), {})
        m_ext, e_ext = by.get(("cmac-mmd", variant, lam, "external"), {}), by.get(("erm", base, "", "external"), {})
        b_int = by.get((best_method, best_variant, "", "internal"), {})
        seeds = sorted(set(m_int) & set(e_int))
        if not seeds:
            continue
        f = lambda d, k: mean([num(d[s][k]) for s in seeds if s in d])
        g = {k: (f(e_int, k), f(m_int, k)) for k in ["auc", "delta_tpr", "worst_group_tpr", "tpr"]}
        ext = (f(e_ext, "delta_tpr"), f(m_ext, "delta_tpr")) if m_ext and e_ext else (None, None)
        per_seed = all((num(m_int[s]["worst_group_tpr"]) or 0) >= (num(e_int[s]["worst_group_tpr"]) or 0) for s in seeds)
        e_gap, m_gap = g["delta_tpr"]
        rel = (m_gap - e_gap) / e_gap if e_gap else None
        checks = {
            "gap-40%": rel is not None and rel <= -0.40,
            "worst+0.10": g["worst_group_tpr"][1] - g["worst_group_tpr"][0] >= 0.10,
            "auc-0.01": g["auc"][1] >= g["auc"][0] - 0.01,
            "tpr-0.05": g["tpr"][1] >= g["tpr"][0] - 0.05,
            "every seed": per_seed,
            "external": ext[0] is None or ext[1] <= ext[0] + 1e-9,
        }
        if b_int:
            bs = sorted(set(b_int) & set(m_int))
            bw = mean([num(b_int[s]["worst_group_tpr"]) for s in bs]); ba = mean([num(b_int[s]["auc"]) for s in bs])
            checks["beats best"] = g["worst_group_tpr"][1] >= bw and g["auc"][1] >= ba - 0.01
        out.append((variant, lam, base, g, ext, rel, checks))
    header = "| setting | λ | vs ERM | AUC | ΔTPR | rel. | worst TPR | TPR | ext. ΔTPR | passed |"
    print(header)
    print("| --- " * 10 + "|")
    for variant, lam, base, g, ext, rel, checks in sorted(out, key=lambda o: -sum(o[6].values())):
        fmt = lambda p: f"{p[0]:.3f} → {p[1]:.3f}" if None not in p else "–"
        passed = ", ".join(k for k, v in checks.items() if v)
        print(f"| {variant} | {lam} | erm ({base}) | {fmt(g['auc'])} | {fmt(g['delta_tpr'])} | {rel:+.0%} | {fmt(g['worst_group_tpr'])} | {fmt(g['tpr'])} | {fmt(ext)} | {sum(checks.values())}/{len(checks)}: {passed} |")

if __name__ == "__main__":
    main(sys.argv)
