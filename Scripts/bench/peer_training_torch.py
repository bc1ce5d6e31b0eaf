#!/usr/bin/env python3
"""PyTorch peer for `fairmed-bench --training`: the from-scratch CLIP presets `tiny` (ViT 3×96,
patch 8, 64×64; text 2×64; projection 64) and `small` (ViT 6×192; text 4×128; projection 128) in
transformers, one prompt-CE training step on batch 64 with ERM and with CMAC-MMD
(pooled-detached, per-class, σ 0.1, λ 1), and the CMAC-MMD term alone (pairs, σ 0.1) on [64, 2]
similarities with 6 subgroups. Prints {name: value} JSON: the best of --repeats after a warm-up,
and `<name>_median`."""
import argparse, itertools, json, statistics, time
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torchvision_cpu_shim  # noqa: F401  (transformers imports torchvision when it is installed)
import torch
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_losses import cmac_pooled_detached_per_class, margins, mmd2

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--repeats", type=int, default=3)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


def preset(vw, vl, vh, tw, tl, th, proj):
    """ModelPresets.config(named:imageSize: 64) in transformers."""
    return CLIPConfig(
        vision_config=dict(hidden_size=vw, intermediate_size=4 * vw, num_attention_heads=vh, num_hidden_layers=vl,
                           image_size=64, patch_size=8, hidden_act="quick_gelu"),
        text_config=dict(hidden_size=tw, intermediate_size=4 * tw, num_attention_heads=th, num_hidden_layers=tl,
                         max_position_embeddings=32, hidden_act="quick_gelu"),
        projection_dim=proj)


PRESETS = {"tiny": (96, 3, 3, 64, 2, 2, 64), "small": (192, 6, 3, 128, 4, 4, 128)}
n = 64
pixels = torch.randn(n, 3, 64, 64)
labels = torch.tensor([1 if i % 4 == 0 else 0 for i in range(n)])
groups = torch.tensor([i % 6 for i in range(n)])
prompt_ids = torch.tensor([[49406, 320, 23540, 2867, 539, 320, 15843, 12128, 49407] + [49407] * 23,
                           [49406, 320, 23540, 2867, 539, 320, 12250, 12128, 49407] + [49407] * 23])


def timed_s(fn, repeats):
    """Best and median seconds of `repeats` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def cmac_pairs(s):
    sets = [s[groups == g] for g in range(6) if (groups == g).sum() >= 2]
    terms = [mmd2(a, b) for a, b in itertools.combinations(sets, 2)]
    return sum(terms) / len(terms)


def step(model, opt, cmac):
    opt.zero_grad()
    v = F.normalize(model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output), dim=-1)
    t = F.normalize(model.text_projection(model.text_model(input_ids=prompt_ids).pooler_output), dim=-1)
    sims = v @ t.T
    loss = F.cross_entropy(model.logit_scale.exp().clamp(max=100) * sims, labels)
    if cmac:
        loss = loss + cmac_pooled_detached_per_class(margins(sims, labels), labels, groups)
    loss.backward()
    opt.step()


out = {}
for name, sizes in PRESETS.items():
    model = CLIPModel(preset(*sizes)).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    erm = timed_s(lambda: step(model, opt, False), args.repeats)
    cm = timed_s(lambda: step(model, opt, True), args.repeats)
    out[f"{name}_train_step_erm"], out[f"{name}_train_step_erm_median"] = n / erm[0], n / erm[1]
    out[f"{name}_train_step_cmac"], out[f"{name}_train_step_cmac_median"] = n / cm[0], n / cm[1]
    if name == "tiny":
        out["cmac_overhead_pct"] = 100 * (cm[0] - erm[0]) / erm[0]
        out["cmac_overhead_pct_median"] = 100 * (cm[1] - erm[1]) / erm[1]
sims = (torch.rand(n, 2) * 0.6 - 0.3).requires_grad_(True)


def term():
    sims.grad = None
    cmac_pairs(margins(sims, labels)).backward()


best, median = timed_s(term, args.repeats * 4)
out["cmac_term_batch64"], out["cmac_term_batch64_median"] = 1e3 * best, 1e3 * median
print(json.dumps(out))
