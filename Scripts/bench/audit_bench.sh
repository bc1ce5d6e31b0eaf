#!/usr/bin/env bash
# Benchmarks `fairmed audit` against fairlearn + NumPy (needs: pip install fairlearn scikit-learn pandas).
# Builds the release binary first (under the shared build lock when one exists).
set -euo pipefail
cd "$(dirname "$0")/../.."
lock=(); [[ -e /tmp/swift-build.lock ]] && lock=(flock /tmp/swift-build.lock)
"${lock[@]}" swift build -c release --product fairmed >/dev/null
exec python3 Scripts/bench/audit_bench.py "$@"
