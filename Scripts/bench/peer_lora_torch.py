#!/usr/bin/env python3
"""PyTorch + PEFT peer for FairMed's LoRA benchmark: transformers' CLIPModel, ViT-B/16 at 224 (random
init, the config of peer_clip_torch.py), same threads. One prompt-CE fine-tuning step on batch 8:
the images through the image tower, the 2 class prompts (77 tokens) through the text tower,
cross-entropy over the 2 classes on logit_scale.exp() · cosine similarities, backward, AdamW step
(lr 1e-5, weight decay 0.1), in two modes:
  full   every parameter trained (logit_scale included)
  lora   peft LoRA r=8, lora_alpha=16, lora_dropout 0, target_modules q_proj, v_proj (both towers,
         PEFT's default init: lora_A Kaiming-uniform, lora_B 0); the base model, logit_scale
         included, frozen; AdamW over the LoRA parameters only
Each mode runs in its own child process (`--mode full` / `--mode lora`), so its peak RSS
(getrusage(RUSAGE_SELF).ru_maxrss, model construction included) is its own. Prints one JSON object
{name: value}: images/s (best of --repeats, after one warm-up step) and peak RSS in MB per mode, and
the LoRA trainable-parameter count.

    pip install torch==2.13.0+cpu transformers==5.24.0 peft==0.21.2 accelerate==1.13.0
    python3 Scripts/bench/peer_lora_torch.py --threads 2 --repeats 2
"""
import argparse, json, os, resource, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=None)
ap.add_argument("--repeats", type=int, default=2)
ap.add_argument("--mode", choices=["full", "lora"], help="run one mode in this process (used by the parent)")
args = ap.parse_args()

if args.mode is None:
    out = {}
    for mode in ("full", "lora"):
        cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode, "--repeats", str(args.repeats)]
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True)
        out.update(json.loads(r.stdout))
    print(json.dumps(out))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torchvision_cpu_shim  # noqa: E402,F401  (peft imports transformers' torchvision-backed modules)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPConfig, CLIPModel  # noqa: E402

transformers.logging.set_verbosity_error()
torch.set_num_threads(args.threads or torch.get_num_threads())
torch.manual_seed(0)

config = CLIPConfig(
    vision_config=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                       image_size=224, patch_size=16, hidden_act="quick_gelu"),
    text_config=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                     hidden_act="quick_gelu"),
    projection_dim=512)
model = CLIPModel(config)
if args.mode == "lora":
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
clip = model.get_base_model() if args.mode == "lora" else model
model.train()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.1)

n = 8
pixels = torch.randn(n, 3, 224, 224)
labels = torch.tensor([i % 2 for i in range(n)])
prompt_ids = torch.tensor([[49406, 320, 1125, 539, 320, 15843, 12128, 49407] + [49407] * 69,
                           [49406, 320, 1125, 539, 320, 12250, 12128, 49407] + [49407] * 69])


def step():
    opt.zero_grad()
    v = F.normalize(clip.get_image_features(pixel_values=pixels).pooler_output, dim=-1)
    t = F.normalize(clip.get_text_features(input_ids=prompt_ids).pooler_output, dim=-1)
    F.cross_entropy(clip.logit_scale.exp() * v @ t.T, labels).backward()
    opt.step()


def best_s(fn):
    fn()
    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


name = f"clip_b16_{args.mode}_step"
out = {name: n / best_s(step),
       f"{name}_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # Linux: KiB
if args.mode == "lora":
    out["clip_b16_lora_trainable_params"] = float(sum(p.numel() for p in params))
print(json.dumps(out))
