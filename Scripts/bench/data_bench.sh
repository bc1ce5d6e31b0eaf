#!/usr/bin/env bash
# Decode + resize + crop + normalise throughput, FairMed vs Pillow (Scripts/bench/data_peer.py),
# on HAM10000-sized (600×450) JPEGs written by `fairmed synth derm`. Usage: Scripts/bench/data_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-300}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
swift build -c release --product fairmed >/dev/null
.build/release/fairmed synth derm --out "$dir" --n "$n" --size 600x450
.build/release/fairmed data bench --dir "$dir" --repeats 2
python3 Scripts/bench/data_peer.py "$dir" --repeats 2
