#!/usr/bin/env python3
"""Peer benchmark for FairMed's image pipeline: decode + resize + center crop + normalise.

Pillow decodes the JPEG, then torchvision's CLIP-style eval transforms run (Resize(224, bicubic,
antialias) → CenterCrop(224) → ToTensor → Normalize). Without torchvision, the same steps run
with Pillow's resize and NumPy (what torchvision does on PIL images). Work is spread over N
worker processes (like a DataLoader with num_workers=N) and reported in images/s.

Usage: python3 Scripts/bench/data_peer.py DIR [--threads N] [--size 224] [--repeats R]
Compare with: swift run -c release fairmed data bench --dir DIR
"""
import argparse
import glob
import multiprocessing as mp
import os
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)

try:
    from torchvision import transforms as T  # type: ignore

    def make_transform(size):
        t = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
                       T.ToTensor(), T.Normalize(MEAN.ravel().tolist(), STD.ravel().tolist())])
        return lambda im: t(im).numpy()

    PEER = "Pillow + torchvision"
except ImportError:
    def make_transform(size):
        def t(im):
            w, h = im.size
            if w <= h:
                im = im.resize((size, int(size * h / w)), Image.BICUBIC)
            else:
                im = im.resize((int(size * w / h), size), Image.BICUBIC)
            w, h = im.size
            left, top = int(round((w - size) / 2.0)), int(round((h - size) / 2.0))
            im = im.crop((left, top, left + size, top + size))
            x = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0
            return (x - MEAN) / STD
        return t

    PEER = "Pillow + NumPy (torchvision not installed)"


def work(args):
    files, size = args
    t = make_transform(size)
    acc = 0.0
    for f in files:
        with Image.open(f) as im:
            x = t(im.convert("RGB"))
        acc += float(x[1, size // 2, size // 2])
    return acc


def run(files, threads, size):
    """Wall seconds, and CPU seconds of the worker (1 worker only; None otherwise)."""
    chunks = [(files[i::threads], size) for i in range(threads)]
    start, cpu = time.perf_counter(), time.process_time()
    if threads == 1:
        work(chunks[0])
        return time.perf_counter() - start, time.process_time() - cpu
    with mp.Pool(threads) as pool:
        pool.map(work, chunks)
    return time.perf_counter() - start, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    files = sorted(glob.glob(os.path.join(a.dir, "**", "*.jpg"), recursive=True)) * a.repeats
    if not files:
        raise SystemExit(f"no .jpg files under {a.dir}")
    work((files[:16], a.size))  # warm-up
    for threads in sorted({1, a.threads}):
        s, cpu = run(files, threads, a.size)
        extra = f", {1000 * cpu / len(files):.2f} ms CPU per image" if cpu is not None else ""
        print(f"{PEER}: {len(files)} images, {threads} worker(s): {s:.2f} s, {len(files) / s:.1f} images/s{extra}")


if __name__ == "__main__":
    main()
