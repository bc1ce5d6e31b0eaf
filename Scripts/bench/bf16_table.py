#!/usr/bin/env python3
"""Renders the bf16 table of docs/performance.md from one `fairmed-bench --training --clip --json`
run, with `--lora` for the LoRA rows (no third-party packages):

    python3 Scripts/bench/bf16_table.py docs/bench/RUN.json            # prints the table
    python3 Scripts/bench/bf16_table.py docs/bench/RUN.json --write    # replaces it in docs/performance.md

The table sits between the markers <!-- bf16-table --> and <!-- /bf16-table --> and says which of
issue 28's goals the run meets (ratios best against best, medians beside them).
"""
import json
import os
import sys

GOALS = {  # row: (goal ratio, what it compares)
    "vs_open_clip_b16_finetune_step_bf16": (2.0, "ViT-B/16 fine-tune step, FairMed bf16 / open_clip fp32"),
    "vs_open_clip_autocast_b16_finetune_step_bf16": (1.3, "ViT-B/16 fine-tune step, FairMed bf16 / open_clip autocast bf16"),
    "vs_open_clip_b16_image_inference_bf16": (2.5, "ViT-B/16 image inference, FairMed bf16 / open_clip fp32"),
    "vs_open_clip_autocast_b16_image_inference_bf16": (1.3, "ViT-B/16 image inference, FairMed bf16 / open_clip autocast bf16"),
    "clip_b16_finetune_step_bf16_peak_rss_mb": (1.0, "peak memory of the bf16 step, open_clip autocast / FairMed (≥ 1: FairMed no larger)"),
    "block768_forward": (1.15, "ViT-B/16 block forward, fp32, against PyTorch"),
    "block768_forward_backward": (1.15, "ViT-B/16 block forward + backward, fp32"),
    "block192_forward": (1.2, "192-wide block forward, fp32"),
    "block192_forward_backward": (1.2, "192-wide block forward + backward, fp32"),
    "tiny_train_step_erm": (1.5, "tiny CLIP training step (ERM), fp32, against transformers"),
    "tiny_train_step_cmac": (1.5, "tiny CLIP training step (CMAC-MMD), fp32"),
    "small_train_step_erm": (1.5, "small CLIP training step (ERM), fp32, against transformers"),
    "small_train_step_cmac": (1.5, "small CLIP training step (CMAC-MMD), fp32"),
}
CONTEXT = ["sgemm_2048", "bf16_gemm_2048", "clip_b16_image_inference", "clip_b16_image_inference_bf16",
           "clip_b16_finetune_step", "clip_b16_finetune_step_bf16",
           "mfu_clip_b16_image_inference", "mfu_clip_b16_image_inference_bf16",
           "mfu_clip_b16_finetune_step", "mfu_clip_b16_finetune_step_bf16",
           # `--lora`: the prompt-CE step, full and LoRA, in both precisions (peer: transformers + peft, fp32)
           "clip_b16_full_step", "clip_b16_full_step_bf16", "clip_b16_lora_step", "clip_b16_lora_step_bf16",
           "clip_b16_full_step_peak_rss_mb", "clip_b16_full_step_bf16_peak_rss_mb",
           "clip_b16_lora_step_peak_rss_mb", "clip_b16_lora_step_bf16_peak_rss_mb"]


def fmt(v, unit=""):
    if v is None:
        return "–"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def table(rows):
    by = {r["name"]: r for r in rows}
    out = ["| goal | FairMed best (median) | peer best (median) | ratio | goal | met |",
           "| --- | --- | --- | --- | --- | --- |"]
    for name, (goal, what) in GOALS.items():
        r = by.get(name)
        if r is None:
            out.append(f"| {what} | not in this run | | | ≥ {goal} | – |")
            continue
        ratio = r.get("ratio")
        met = "yes" if ratio is not None and ratio >= goal else "no"
        out.append(f"| {what} | {fmt(r['fairmed'])} {r['unit']} ({fmt(r.get('fairmedMedian'))}) | "
                   f"{fmt(r.get('peer'))} ({fmt(r.get('peerMedian'))}) | {ratio:.3f}× | ≥ {goal} | {met} |" if ratio is not None else f"| {what} | {fmt(r['fairmed'])} | – | – | ≥ {goal} | no |")
    backends = [r for r in rows if r["name"].startswith("openblas_vs_onednn_f32_")]
    if backends:
        out += ["", "fp32 GEMM backends on one step's shape family (GFLOP/s over its forward, input- and "
                "weight-gradient GEMMs, FairMed's split; OpenBLAS is FairMed's fp32 backend):", "",
                "| shape family | OpenBLAS best (median) | oneDNN f32 best (median) | OpenBLAS / oneDNN |",
                "| --- | --- | --- | --- |"]
        for r in backends:
            out.append(f"| {r['name'][len('openblas_vs_onednn_f32_'):]} | {fmt(r['fairmed'])} ({fmt(r.get('fairmedMedian'))}) | "
                       f"{fmt(r.get('peer'))} ({fmt(r.get('peerMedian'))}) | {r['ratio']:.3f} |")
    out += ["", "| row | unit | FairMed best (median) | peer best (median) |", "| --- | --- | --- | --- |"]
    for name in CONTEXT:
        r = by.get(name)
        if r:
            out.append(f"| `{name}` | {r['unit']} | {fmt(r['fairmed'])} ({fmt(r.get('fairmedMedian'))}) | "
                       f"{fmt(r.get('peer'))} ({fmt(r.get('peerMedian'))}) |")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    with open(path) as f:
        text = table(json.load(f))
    if "--write" not in sys.argv:
        print(text, end="")
        return
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "performance.md")
    with open(doc) as f:
        page = f.read()
    start, end = "<!-- bf16-table -->\n", "<!-- /bf16-table -->"
    if start not in page or end not in page:
        sys.exit(f"{doc} lacks the markers {start.strip()} and {end}")
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    page = head + start + f"From `{os.path.relpath(path, os.path.dirname(doc) + '/..')}`:\n\n" + text + end + tail
    with open(doc + ".tmp", "w") as f:
        f.write(page)
    os.replace(doc + ".tmp", doc)


if __name__ == "__main__":
    main()
