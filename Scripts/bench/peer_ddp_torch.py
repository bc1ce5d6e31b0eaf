#!/usr/bin/env python3
"""PyTorch DDP peer for `Scripts/bench/scaling.sh`: the same data-parallel CMAC-MMD step as
`fairmed-bench --distributed PRESET` (tiny: transformers CLIPModel of the `tiny` preset, global
batch 64 at 64×64; b16: ViT-B/16, global batch 8 at 224×224), over `--nprocs` CPU processes with
the gloo backend, one thread each. DDP has no global-batch loss: each rank's CMAC-MMD term sees
its own shard only (what a PyTorch user gets), and gradients are averaged by DDP's bucketed
all-reduce. Prints one JSON object: global images/s (best, median after a warm-up)."""
import argparse, json, os, statistics, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torchvision_cpu_shim  # noqa: F401
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_losses import cmac_pooled_detached_per_class, margins


def config(preset):
    if preset == "tiny":
        v, t, image, patch, proj = (96, 3, 3), (64, 2, 2), 64, 8, 64
    else:
        v, t, image, patch, proj = (768, 12, 12), (512, 12, 8), 224, 16, 512
    return CLIPConfig(
        vision_config=dict(hidden_size=v[0], intermediate_size=4 * v[0], num_hidden_layers=v[1], num_attention_heads=v[2],
                           image_size=image, patch_size=patch, hidden_act="quick_gelu"),
        text_config=dict(hidden_size=t[0], intermediate_size=4 * t[0], num_hidden_layers=t[1], num_attention_heads=t[2],
                         max_position_embeddings=77 if preset == "b16" else 32, hidden_act="quick_gelu"),
        projection_dim=proj), image


def worker(rank, world, preset, repeats, port, queue):
    torch.set_num_threads(1)
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    cfg, image = config(preset)
    batch = 64 if preset == "tiny" else 8
    model = CLIPModel(cfg).train()
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.1)
    local = [i for i in range(batch) if i % world == rank]
    pixels = torch.randn(len(local), 3, image, image)
    labels = torch.tensor([1 if i % 4 == 0 else 0 for i in local])
    groups = torch.tensor([i % 6 for i in local])
    ids = torch.tensor([[49406, 320, 23540, 2867, 539, 320, 15843, 12128, 49407] + [49407] * 23,
                        [49406, 320, 23540, 2867, 539, 320, 12250, 12128, 49407] + [49407] * 23])

    def step():
        opt.zero_grad()
        out = net(input_ids=ids, pixel_values=pixels)
        v, t = F.normalize(out.image_embeds, dim=-1), F.normalize(out.text_embeds, dim=-1)
        sims = v @ t.T
        loss = F.cross_entropy(model.logit_scale.exp().clamp(max=100) * sims, labels) + cmac_pooled_detached_per_class(margins(sims, labels), labels, groups)
        loss.backward()
        opt.step()

    step()
    times = []
    for _ in range(repeats):
        if world > 1:
            dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    if rank == 0:
        queue.put({"preset": preset, "processes": world, "images_per_s": batch / min(times),
                   "images_per_s_median": batch / statistics.median(times)})
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=["tiny", "b16"], default="tiny")
    ap.add_argument("--nprocs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--port", type=int, default=29517)
    a = ap.parse_args()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, a.nprocs, a.preset, a.repeats, a.port, q)) for r in range(a.nprocs)]
    for p in procs:
        p.start()
    result = q.get()
    for p in procs:
        p.join()
    print(json.dumps(result))
