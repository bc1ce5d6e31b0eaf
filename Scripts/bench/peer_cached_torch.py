#!/usr/bin/env python3
"""PyTorch peer for `fairmed-bench --cached`: 10 epochs over 10 000 cached 512-wide pooled image
features at batch 256 (randperm per epoch, last partial batch dropped), training the image and
text projections (512 → 512, no bias) and the temperature with prompt-CE on two class embeddings
plus CMAC-MMD (pooled-detached, per-class, σ 0.1, λ 1) on cosine margins over six subgroups,
AdamW. Prints {name: seconds} JSON: the best of --repeats after a warm-up, and `<name>_median`."""
import argparse, json, statistics, time
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import torch.nn.functional as F
from peer_losses import cmac_pooled_detached_per_class, margins

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--repeats", type=int, default=3)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
n, width, batch, epochs = 10_000, 512, 256, 10
features = torch.randn(n, width)
text_pooled = torch.randn(2, width)
labels_all = torch.tensor([1 if i % 5 == 0 else 0 for i in range(n)])
groups_all = torch.tensor([i % 6 for i in range(n)])


def train():
    w_image = torch.nn.Linear(width, width, bias=False)
    w_text = torch.nn.Linear(width, width, bias=False)
    logit_scale = torch.nn.Parameter(torch.tensor(2.6592))
    opt = torch.optim.AdamW([*w_image.parameters(), *w_text.parameters(), logit_scale], lr=1e-4, weight_decay=0.1)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for b in range(n // batch):
            idx = perm[b * batch:(b + 1) * batch]
            y, g = labels_all[idx], groups_all[idx]
            opt.zero_grad()
            v = F.normalize(w_image(features[idx]), dim=-1)
            t = F.normalize(w_text(text_pooled), dim=-1)
            sims = v @ t.T
            loss = F.cross_entropy(logit_scale.exp().clamp(max=100) * sims, y) + cmac_pooled_detached_per_class(margins(sims, y), y, g)
            loss.backward()
            opt.step()


train()
times = []
for _ in range(args.repeats):
    t0 = time.perf_counter()
    train()
    times.append(time.perf_counter() - t0)
print(json.dumps({"cached_features_cmac_10_epochs": min(times), "cached_features_cmac_10_epochs_median": statistics.median(times)}))
