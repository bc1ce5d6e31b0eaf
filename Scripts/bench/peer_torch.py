#!/usr/bin/env python3
"""PyTorch peer for fairmed-bench: the same workloads, same thread count, printed as JSON
{name: value} with the units fairmed-bench uses (GFLOP/s for sgemm, ms for blocks)."""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--repeats", type=int, default=5)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


def timed_ms(fn):
    """Best and median milliseconds of --repeats runs after one warm-up."""
    fn()
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return min(times), statistics.median(times)


out = {}
for n in (1024, 2048):
    a, b = torch.randn(n, n), torch.randn(n, n)
    best, median = timed_ms(lambda: torch.mm(a, b))
    out[f"sgemm_{n}"] = 2 * n ** 3 / (best / 1e3) / 1e9
    out[f"sgemm_{n}_median"] = 2 * n ** 3 / (median / 1e3) / 1e9


class Block(torch.nn.Module):
    """One pre-LN CLIP encoder layer (quick-GELU MLP). q, k and v come from one fused projection,
    as in open_clip's nn.MultiheadAttention (FairMed's block fuses them too)."""

    def __init__(self, width, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(width), torch.nn.LayerNorm(width)
        self.qkv, self.o = torch.nn.Linear(width, 3 * width), torch.nn.Linear(width, width)
        self.fc1, self.fc2 = torch.nn.Linear(width, mlp), torch.nn.Linear(mlp, width)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, w))
        m = self.fc1(self.ln2(x))
        return x + self.fc2(m * torch.sigmoid(1.702 * m))


for width, heads, mlp in ((768, 12, 3072), (192, 3, 768)):
    block = Block(width, heads, mlp)
    x = torch.randn(8, 197, width, requires_grad=True)
    seed = torch.randn(8, 197, width)
    with torch.no_grad():
        out[f"block{width}_forward"], out[f"block{width}_forward_median"] = timed_ms(lambda: block(x))

    def step():
        block.zero_grad(set_to_none=True)
        x.grad = None
        block(x).backward(seed)

    out[f"block{width}_forward_backward"], out[f"block{width}_forward_backward_median"] = timed_ms(step)

print(json.dumps(out))
