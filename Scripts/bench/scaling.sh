#!/usr/bin/env bash
# Data-parallel scaling on this machine: `fairmed-bench --distributed PRESET` under mpirun with
# 1 and 2 processes of one thread each, beside PyTorch DDP (gloo) on the same step
# (peer_ddp_torch.py). Needs the MPI build: swift build -c release --traits MPI.
# Usage: Scripts/bench/scaling.sh [OUT.json] [REPEATS]   (presets: SCALING_PRESETS="tiny b16")
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/dev/stdout}
repeats=${2:-5}
export FAIRMED_NUM_THREADS=1 OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
bench=.build/release/fairmed-bench
rows=()
for preset in ${SCALING_PRESETS:-tiny b16}; do
  for np in 1 2; do
    rows+=("$(mpirun -np "$np" --bind-to core "$bench" --distributed "$preset" --repeats "$repeats" | tail -1)")
    rows+=("$(python3 Scripts/bench/peer_ddp_torch.py --preset "$preset" --nprocs "$np" --repeats "$repeats" | tail -1)")
  done
done
python3 - "$out" "${rows[@]}" <<'PY'
import json, sys, platform
rows = [json.loads(r) for r in sys.argv[2:]]
for r in rows:
    r["side"] = "fairmed" if "step_ms" in r else "pytorch_ddp_gloo"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
doc = {"machine": cpu, "rows": rows}
text = json.dumps(doc, indent=2, sort_keys=True)
open(sys.argv[1], "w").write(text + "\n") if sys.argv[1] != "/dev/stdout" else print(text)
for r in rows:
    extra = f"  comm {r['communication_ms_median']:.1f} ms/step" if "communication_ms_median" in r else ""
    print(f"{r['side']:18} {r['preset']:5} np={r['processes']}  {r['images_per_s']:8.2f} img/s (median {r['images_per_s_median']:.2f}){extra}", file=sys.stderr)
PY
