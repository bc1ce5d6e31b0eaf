#!/usr/bin/env python3
"""Peer for fairmed-bench's WordPiece row: transformers.BertTokenizerFast (the Rust `tokenizers`
WordPiece) on one thread, on the corpus fairmed-bench wrote (one note per line), from the same
tokenizer.json. Prints JSON: wordpiece_encode (+ _median) in M characters/s, and the token count and
id checksum FairMed compares with its own.

    pip install transformers==5.24.0 tokenizers==0.23.3
"""
import argparse
import json
import os
import statistics
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its pool: one core, as FairMed's row
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from transformers import BertTokenizerFast  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--folder", required=True)
ap.add_argument("--corpus", required=True)
ap.add_argument("--repeats", type=int, default=5)
args = ap.parse_args()

tok = BertTokenizerFast(tokenizer_file=os.path.join(args.folder, "tokenizer.json"), do_lower_case=True)
with open(args.corpus, encoding="utf-8") as f:
    notes = f.read().split("\n")
characters = sum(len(n) for n in notes)


def encode():
    return tok(notes, add_special_tokens=False)["input_ids"]


ids = encode()
times = []
for _ in range(args.repeats):
    t = time.perf_counter()
    encode()
    times.append(time.perf_counter() - t)
checksum = 0
for row in ids:
    for i, v in enumerate(row):
        checksum = (checksum + (i + 1) * v) % 1_000_000_007
print(json.dumps({"wordpiece_encode": characters / min(times) / 1e6,
                  "wordpiece_encode_median": characters / statistics.median(times) / 1e6,
                  "tokens": sum(len(r) for r in ids), "checksum": checksum}))
