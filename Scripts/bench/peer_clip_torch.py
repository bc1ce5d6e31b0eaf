#!/usr/bin/env python3
"""PyTorch peer for `fairmed-bench --clip`: transformers' CLIPModel, ViT-B/16 at 224 (random
init), same threads. Prints {name: images/s} JSON: image-tower inference (batch 32, no grad) and a
full fine-tune step (batch 8: both towers, CLIP loss, backward, AdamW)."""
import argparse, json, statistics, time
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torchvision_cpu_shim  # noqa: F401  (transformers imports torchvision when it is installed)
import torch
from transformers import CLIPConfig, CLIPModel

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--repeats", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

config = CLIPConfig(
    vision_config=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                       image_size=224, patch_size=16, hidden_act="quick_gelu"),
    text_config=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                     hidden_act="quick_gelu"),
    projection_dim=512)
model = CLIPModel(config)


def timed_s(fn):
    """Best and median seconds of --repeats runs after one warm-up."""
    fn()
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def rate(name, items, fn):
    best, median = timed_s(fn)
    out[name], out[name + "_median"] = items / best, items / median


out = {}
model.eval()
pixels = torch.randn(32, 3, 224, 224)
with torch.no_grad():
    rate("clip_b16_image_inference", 32, lambda: model.get_image_features(pixel_values=pixels))
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.1)
train_pixels = torch.randn(8, 3, 224, 224)
ids = torch.tensor([[49406] + [(b * 31 + i * 7) % 49000 + 1 for i in range(20)] + [49407] * 56 for b in range(8)])


def step():
    opt.zero_grad()
    model(input_ids=ids, pixel_values=train_pixels, return_loss=True).loss.backward()
    opt.step()


rate("clip_b16_finetune_step", 8, step)
print(json.dumps(out))
