#!/usr/bin/env python3
"""Benchmarks `fairmed audit` against fairlearn MetricFrame + roc_auc_score and NumPy.

    Scripts/bench/audit_bench.sh          # builds the release binary, then runs this

1,000,000 rows × 3 attributes (2×3×4 = 24 groups): the whole `fairmed audit` process (CSV parsing
included) vs fairlearn's in-process time (after pandas.read_csv) and a hand-vectorised NumPy
version; then 1,000 bootstrap replicates on 100,000 rows. Prints a Markdown table.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = ROOT / ".build" / "release" / "fairmed"
PEER = HERE / "audit_peer.py"


def fairmed(csv, out, *extra):
    """Runs the audit; returns (wall seconds, max RSS MiB, {phase: seconds})."""
    cmd = ["/usr/bin/time", "-f", "TIME %e %M", str(BIN), "audit", "--predictions", str(csv), "--label", "y", "--score", "p",
           "--groups", "sex,age_group,site", "--out", str(out), "--timings", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall, rss = re.search(r"TIME ([\d.]+) (\d+)", r.stderr).groups()
    phases = {m[0].strip(): float(m[1]) for m in re.findall(r"^(.{26}) +([\d.]+) s$", r.stderr, re.M)}
    return float(wall), int(rss) / 1024, phases


def best(runs):
    return min(runs, key=lambda r: r[0])


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="fairmed-bench-"))
    big, small = tmp / "preds_1m.csv", tmp / "preds_100k.csv"
    subprocess.run([sys.executable, PEER, "make", big, "1000000", "0"], check=True)
    subprocess.run([sys.executable, PEER, "make", small, "100000", "1"], check=True)
    size_mib = big.stat().st_size / 2**20
    fairmed(small, tmp / "o0")  # warm-up
    audit = best([fairmed(big, tmp / f"o{i}") for i in range(3)])
    with_margin = best([fairmed(big, tmp / f"m{i}", "--margin", "margin") for i in range(2)])
    peer = json.loads(subprocess.run([sys.executable, PEER, "peer", big], capture_output=True, text=True, check=True).stdout)
    boot_counts = best([fairmed(small, tmp / f"b{i}", "--bootstrap", "1000", "--bootstrap-metrics", "counts") for i in range(3)])
    boot_all = best([fairmed(small, tmp / f"a{i}", "--bootstrap", "1000") for i in range(2)])
    boots = [json.loads(subprocess.run([sys.executable, PEER, "boot", small, "1000"], capture_output=True, text=True,
                                       check=True).stdout) for _ in range(3)]
    npboot = min(b["numpy_cell_bootstrap_s"] for b in boots)
    npboot_all = min(b["numpy_cell_bootstrap_all_s"] for b in boots)
    tiny = tmp / "tiny.csv"
    tiny.write_text("y,p,margin,sex,age_group,site\n1,0.9,0.8,female,<40,a\n0,0.1,0.8,male,<40,a\n")
    base_rss = fairmed(tiny, tmp / "t")[1]
    metrics = sum(v for k, v in audit[2].items() if k in ("sort scores + threshold", "metrics + aggregates"))
    print(f"\nInput: {size_mib:.1f} MiB CSV, 1,000,000 rows, 24 groups; {os.cpu_count()} cores\n")
    print("| Measurement | FairMed | Peer | Ratio |\n|---|---|---|---|")
    print(f"| Whole `fairmed audit` process (parse + all metrics + 4 files) vs fairlearn in-process | {audit[0]:.2f} s | {peer['fairlearn_s']:.2f} s | {peer['fairlearn_s'] / audit[0]:.0f}× faster |")
    print(f"| Metric computation (sort + counts + AUC + aggregates) vs NumPy vectorised | {metrics * 1000:.0f} ms | {peer['numpy_s'] * 1000:.0f} ms | {peer['numpy_s'] / metrics:.1f}× faster |")
    print(f"| CSV parsing + grouping vs pandas.read_csv | {audit[2].get('read CSV + groups', 0):.2f} s | {peer['pandas_read_csv_s']:.2f} s | {peer['pandas_read_csv_s'] / audit[2].get('read CSV + groups', 1):.1f}× faster |")
    print(f"| Peak memory (RSS) / growth over an empty run ({base_rss:.0f} MiB) | {audit[1]:.0f} MiB / {audit[1] - base_rss:.0f} MiB | input {size_mib:.0f} MiB | {audit[1] / size_mib:.2f}× / {(audit[1] - base_rss) / size_mib:.2f}× input |")
    print(f"| With certainty (`--margin`: KDEs, 276 MMD² pairs × 200 permutations) | {with_margin[0]:.2f} s | — | — |")
    fb = boot_counts[2].get('bootstrap', 1)
    print(f"| 1,000 per-cell bootstrap replicates, 100k rows: FairMed's 262 intervals (10 count metrics × 25 groups + 12 gaps) vs NumPy, same breadth ({boots[0]['intervals']} intervals) | {fb * 1000:.0f} ms | {npboot_all * 1000:.0f} ms | {npboot_all / fb:.1f}× faster |")
    print(f"| … vs NumPy computing only ΔTPR and DPD | {fb * 1000:.0f} ms | {npboot * 1000:.0f} ms | {npboot / fb:.2f}× |")
    print(f"| 1,000 bootstrap replicates, 100k rows, all metrics incl. AUC/Brier/ECE (row resampling) | {boot_all[2].get('bootstrap', 0):.2f} s | — | — |")
    print(f"\nfairlearn ΔTPR {peer['fairlearn_delta_tpr']:.6f}; NumPy ΔTPR {peer['numpy_delta_tpr']:.6f}; max |AUC fairlearn − NumPy| {peer['max_auc_abs_diff']:.1e}")
    print("phases (1M rows):", ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in audit[2].items()))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
