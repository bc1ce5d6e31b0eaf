#!/usr/bin/env python3
"""open_clip peer for `fairmed-bench --clip` and `--training`: the same workloads on open_clip's CLIP
(the library CLIP models are trained with), random init (pretrained=None, nothing downloaded), same
threads. Workloads:
  openclip_b16_image_inference  open_clip 'ViT-B-16-quickgelu' (OpenAI-style ViT-B/16 at 224, quick-GELU
                                as FairMed's clipB16Config), encode_image (image tower + projection) on
                                batch 32, no grad, eval mode
  openclip_b16_finetune_step    same model, batch 8: model(images, texts) (both towers, 77-token texts,
                                the ids of peer_clip_torch.py), open_clip's ClipLoss (symmetric
                                contrastive over the 8 pairs), backward, AdamW (lr 1e-5, wd 0.1)
  openclip_b16_image_inference_autocast, openclip_b16_finetune_step_autocast
                                the same two under torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's
                                mixed precision: bf16 matmuls and convolutions, fp32 weights and optimizer)
  openclip_tiny_train_step      open_clip.CLIP from a model_cfg equal to FairMed's `tiny` preset at 64×64
                                (see MODEL_CFGS), one prompt-CE step on batch 64: images through the
                                image tower, the 2 class prompts (32 tokens, the ids of
                                peer_training_torch.py) through the text tower, cross-entropy over the
                                2 classes on logit_scale.exp() · cosine similarities, backward, AdamW
                                (lr 1e-4, wd 0.1); the ERM step of tiny_train_step_erm
  openclip_small_train_step     the same step on FairMed's `small` preset
  openclip_tiny_pretrain_step   the `tiny` model, one contrastive pretraining step on batch 64: 64 images and
                                64 distinct 32-token captions through both towers, open_clip's ClipLoss,
                                backward, AdamW (lr 1e-3, wd 0.1); the step of FairMed's tiny_pretrain_step
Each workload runs in its own child process (`--workload NAME`), so its peak RSS
(getrusage(RUSAGE_SELF).ru_maxrss, model construction included) is its own. Prints one JSON object
{name: value} on stdout: `<name>` images/s from the best of --repeats, `<name>_median` images/s from
the median, both after one warm-up call, and `<name>_peak_rss_mb`; torch/open_clip versions on stderr.

    pip install torch==2.13.0+cpu open_clip_torch==3.3.0
    python3 Scripts/bench/peer_openclip_torch.py --threads 2 --repeats 3
    python3 Scripts/bench/peer_openclip_torch.py --threads 2 --only openclip_tiny_train_step,openclip_small_train_step
"""
import argparse, contextlib, json, os, resource, statistics, subprocess, sys, time

WORKLOADS = ("openclip_b16_image_inference", "openclip_b16_finetune_step",
             "openclip_b16_image_inference_autocast", "openclip_b16_finetune_step_autocast",
             "openclip_tiny_train_step", "openclip_small_train_step", "openclip_tiny_pretrain_step")
# FairMed's ModelPresets `tiny` / `small` (Sources/CLIP/ModelPresets.swift) at 64×64, context 32: vision heads
# = width / head_width (tiny 96/32 = 3, small 192/64 = 3), MLP 4× width, LayerNorm eps 1e-5 (open_clip's default).
MODEL_CFGS = {
    "tiny": dict(embed_dim=64, quick_gelu=True,
                 vision_cfg=dict(image_size=64, patch_size=8, width=96, layers=3, head_width=32, mlp_ratio=4.0),
                 text_cfg=dict(context_length=32, vocab_size=49408, width=64, heads=2, layers=2, mlp_ratio=4.0)),
    "small": dict(embed_dim=128, quick_gelu=True,
                  vision_cfg=dict(image_size=64, patch_size=8, width=192, layers=6, head_width=64, mlp_ratio=4.0),
                  text_cfg=dict(context_length=32, vocab_size=49408, width=128, heads=4, layers=4, mlp_ratio=4.0)),
}
B16_NAME = "ViT-B-16-quickgelu"

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=None)
ap.add_argument("--repeats", type=int, default=2)
ap.add_argument("--only", default=None, help="comma-separated workloads (default: all of " + ", ".join(WORKLOADS) + ")")
ap.add_argument("--workload", choices=WORKLOADS, help="run one workload in this process (used by the parent)")
args = ap.parse_args()

if args.workload is None:
    names = WORKLOADS if args.only is None else [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        ap.error("unknown workload(s): " + ", ".join(unknown))
    out = {}
    for name in names:
        cmd = [sys.executable, os.path.abspath(__file__), "--workload", name, "--repeats", str(args.repeats)]
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True)
        out.update(json.loads(r.stdout))
    print(json.dumps(out))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torchvision_cpu_shim  # noqa: E402,F401  (open_clip imports torchvision)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import open_clip  # noqa: E402

torch.set_num_threads(args.threads or torch.get_num_threads())
torch.manual_seed(0)
print(f"{args.workload}: torch {torch.__version__}, open_clip {open_clip.__version__}, "
      f"{torch.get_num_threads()} threads", file=sys.stderr)


def times_s(fn):
    fn()  # warm-up
    ts = []
    for _ in range(max(args.repeats, 1)):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


name = args.workload
# PyTorch's CPU mixed precision: forward passes under autocast (bf16 matmuls), backward and the
# optimizer outside it, as its documentation recommends; a null context for the fp32 workloads.
autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if name.endswith("_autocast") else contextlib.nullcontext
if name.startswith("openclip_b16"):
    model = open_clip.create_model(B16_NAME, pretrained=None)
    print(f"{name}: {B16_NAME} {json.dumps(open_clip.get_model_config(B16_NAME))}", file=sys.stderr)
    if name.startswith("openclip_b16_image_inference"):
        n = 32
        model.eval()
        pixels = torch.randn(n, 3, 224, 224)

        def work():
            with torch.no_grad(), autocast():
                model.encode_image(pixels)
    else:
        n = 8
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.1)
        loss_fn = open_clip.ClipLoss()
        pixels = torch.randn(n, 3, 224, 224)
        ids = torch.tensor([[49406] + [(b * 31 + i * 7) % 49000 + 1 for i in range(20)] + [49407] * 56
                            for b in range(n)])

        def work():
            opt.zero_grad()
            with autocast():
                image_features, text_features, logit_scale = model(pixels, ids)
                loss = loss_fn(image_features, text_features, logit_scale)
            loss.backward()
            opt.step()
else:
    preset = name.split("_")[1]
    cfg = MODEL_CFGS[preset]
    print(f"{name}: open_clip.CLIP(**{json.dumps(cfg)})", file=sys.stderr)
    model = open_clip.CLIP(**cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    n = 64
    pixels = torch.randn(n, 3, 64, 64)
    labels = torch.tensor([1 if i % 4 == 0 else 0 for i in range(n)])
    prompt_ids = torch.tensor([[49406, 320, 23540, 2867, 539, 320, 15843, 12128, 49407] + [49407] * 23,
                               [49406, 320, 23540, 2867, 539, 320, 12250, 12128, 49407] + [49407] * 23])

    def work():
        opt.zero_grad()
        v = model.encode_image(pixels, normalize=True)
        t = model.encode_text(prompt_ids, normalize=True)
        F.cross_entropy(model.logit_scale.exp() * v @ t.T, labels).backward()
        opt.step()

    if name.endswith("_pretrain_step"):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
        loss_fn = open_clip.ClipLoss()
        caption_ids = torch.tensor([[49406] + [(b * 31 + i * 7) % 49000 + 1 for i in range(20)] + [49407] * 11
                                    for b in range(n)])

        def work():
            opt.zero_grad()
            image_features, text_features, logit_scale = model(pixels, caption_ids)
            loss_fn(image_features, text_features, logit_scale).backward()
            opt.step()

best, median = times_s(work)
print(json.dumps({name: n / best, f"{name}_median": n / median,
                  f"{name}_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))  # Linux: KiB
