#!/usr/bin/env python3
"""The certainty-gap mechanism of a pretrained-regime study (the paper's margin figure): the
certainty margin s (similarity to the true class prompt minus the other's) of the positives of the
worst subgroup, before fine-tuning (the pretrained model zero-shot), after ERM and after CMAC-MMD,
against every other subgroup's positives.

    python3 Scripts/studies/margin_mechanism.py STUDY_DIR OUT_PREFIX [--variant NAME] [--delta 0.05]

Reads STUDY_DIR/zero-shot/s*/predictions-internal.csv and
STUDY_DIR/runs/{erm,cmac-mmd}[-<variant>]-b64-s*/predictions-internal.csv (internal test set), and
STUDY_DIR/results.csv for the worst subgroup: the subgroup with the lowest mean ERM TPR at the
validation threshold. Writes OUT_PREFIX.csv (per model and seed: n positives, mean margin, share
in the uncertainty zone |s| < delta, share with s < 0, i.e. ranked toward the wrong class) and
OUT_PREFIX.svg (Gaussian KDEs, Silverman bandwidth, pooled over seeds).
(numpy 2.x, matplotlib 3.x; no other input.)
"""
import argparse
import csv
import glob
import os
import re
import sys

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("study")
p.add_argument("out")
p.add_argument("--variant", default="", help="the variant of a study with variants (e.g. full)")
p.add_argument("--delta", type=float, default=0.05)
a = p.parse_args()


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


results = rows(os.path.join(a.study, "results.csv"))
erm = [r for r in results if r["method"] == "erm" and r["split"] == "internal" and r["threshold"] == "validation"
       and r.get("variant", "") == a.variant]
tpr_cols = [c for c in results[0] if c.startswith("tpr[")]
mean_tpr = {c[4:-1]: np.mean([float(r[c]) for r in erm if r[c] != ""]) for c in tpr_cols}
worst = min(mean_tpr, key=mean_tpr.get)

tag = f"{a.variant}-" if a.variant else ""
models = {
    "pretrained, zero-shot": sorted(glob.glob(os.path.join(a.study, "zero-shot", "s*", "predictions-internal.csv"))),
    "ERM": sorted(glob.glob(os.path.join(a.study, "runs", f"erm-{tag}b64-s*", "predictions-internal.csv"))),
    "CMAC-MMD": sorted(glob.glob(os.path.join(a.study, "runs", f"cmac-mmd-{tag}b64-s*", "predictions-internal.csv"))),
}
models = {name: files for name, files in models.items() if files}  # a study without CMAC-MMD draws two panels
if not models:
    sys.exit(f"margin_mechanism: no predictions-internal.csv under {a.study}/zero-shot or {a.study}/runs")
table = []
pooled = {}
for name, files in models.items():
    for path in files:
        seed = re.search(r"s(\d+)", os.path.basename(os.path.dirname(path))).group(1)
        for who, keep in [(worst, lambda g: g == worst), ("other subgroups", lambda g: g != worst)]:
            s = np.array([float(r["margin"]) for r in rows(path) if r["label"] == "1" and keep(r["group"])])
            pooled.setdefault((name, who), []).append(s)
            table.append({"model": name, "seed": seed, "positives_of": who, "n": len(s), "mean_margin": s.mean(),
                          "uncertainty_zone_share": float(np.mean(np.abs(s) < a.delta)),
                          "negative_margin_share": float(np.mean(s < 0))})
with open(a.out + ".csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(table[0]))
    w.writeheader()
    for t in table:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in t.items()})

import matplotlib  # noqa: E402

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "fairmed"  # fixed element ids: the same inputs give the same file
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.4), squeeze=False)
axes = list(axes[0])
for ax, name in zip(axes, models):
    for who, colour in [(worst, "#c0392b"), ("other subgroups", "#2c7fb8")]:
        s = np.concatenate(pooled.get((name, who), [np.zeros(0)]))
        if len(s) < 2:
            continue
        h = max(1.06 * s.std(ddof=1) * len(s) ** (-1 / 5), 1e-4)
        span = max(np.percentile(np.abs(s), 99), 2 * a.delta)
        lo, hi = -1.2 * span, 1.2 * span
        x = np.linspace(lo, hi, 400)
        kde = np.exp(-0.5 * ((x[:, None] - s[None, :]) / h) ** 2).sum(1) / (len(s) * h * np.sqrt(2 * np.pi))
        zone = np.mean(np.abs(s) < a.delta)
        ax.plot(x, kde, color=colour, label=f"{who} positives (zone {zone:.2f})")
    ax.axvspan(-a.delta, a.delta, color="#dddddd", zorder=0)
    ax.axvline(0, color="#888888", lw=0.8)
    ax.set_title(name + ("" if ax is not axes[0] else "\n(each panel on its own scale)"), fontsize=9)
    ax.set_xlabel("certainty margin s")
    ax.legend(fontsize=7, loc="upper left")
axes[0].set_ylabel("density (KDE, pooled over seeds)")
fig.suptitle(f"Positives' certainty margins, worst subgroup {worst} against the others; grey: |s| < {a.delta}",
             fontsize=9)
fig.tight_layout()
fig.savefig(a.out + ".svg", metadata={"Date": None})  # no timestamp: the same inputs give the same file
print(f"worst subgroup {worst}; wrote {a.out}.csv and {a.out}.svg")
