#!/usr/bin/env python3
"""bf16 against fp32 in a study whose variants are named fp32 and bf16 (Studies/precision-derm.json):
per method, test set and threshold, each headline metric's mean over seeds in both precisions, the
mean paired difference (bf16 − fp32, same seed), and whether that difference lies within the fp32
seed spread (|mean difference| ≤ the fp32 sample standard deviation over seeds).

    python3 Scripts/studies/precision_table.py Studies/results/precision-derm/results.csv
"""
import csv
import statistics
import sys
from collections import defaultdict

METRICS = [("auc", "AUC"), ("delta_tpr", "ΔTPR"), ("worst_group_tpr", "worst-group TPR"), ("tpr", "overall TPR")]


def main(path):
    rows = list(csv.DictReader(open(path)))
    cells = defaultdict(dict)  # (method, split, threshold) -> {(variant, seed): row}
    for r in rows:
        cells[(r["method"], r["split"], r["threshold"])][(r["variant"], r["seed"])] = r
    print("| method | test set | threshold | metric | fp32 mean ± sd | bf16 mean ± sd | bf16 − fp32 (paired) | within fp32's seed spread |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    within = total = 0
    for (method, split, threshold), by in sorted(cells.items()):
        seeds = sorted({s for (v, s) in by if v == "fp32"} & {s for (v, s) in by if v == "bf16"})
        for key, name in METRICS:
            a = [float(by[("fp32", s)][key]) for s in seeds if by[("fp32", s)][key] not in ("", "nan")]
            b = [float(by[("bf16", s)][key]) for s in seeds if by[("bf16", s)][key] not in ("", "nan")]
            if len(a) < 2 or len(a) != len(b):
                continue
            d = [y - x for x, y in zip(a, b)]
            sd = statistics.stdev(a)
            ok = abs(statistics.mean(d)) <= sd
            within += ok
            total += 1
            print(f"| {method} | {split} | {threshold} | {name} | {statistics.mean(a):.3f} ± {sd:.3f} | "
                  f"{statistics.mean(b):.3f} ± {statistics.stdev(b):.3f} | {statistics.mean(d):+.3f} | {'yes' if ok else 'no'} |")
    print(f"\n{within} of {total} headline metrics: the mean bf16 − fp32 difference is within fp32's seed standard deviation.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__))
