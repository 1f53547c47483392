#!/usr/bin/env bash
# The webhook's edit distance against the C++ reference, in one run: the criterion bench
# (autolearn, the rapidfuzz-rs core, strsim) writes its pairs to target/bench/, then the C++
# rapidfuzz library times the same pairs through its Python package (pinned in
# scripts/bench-requirements.txt, installed into .venv-bench/), and a table of medians and
# ratios is printed. Not part of `make test` (timings belong to benchmarks, not tests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/.venv-bench"
source scripts/lib/pinned-venv.sh
pinned_venv "$venv" scripts/bench-requirements.txt
target="${CARGO_TARGET_DIR:-$root/target}"
cargo bench --locked -p autolearn-learning --bench edit_distance -- --noplot "$@"
"$venv/bin/python" scripts/edit_distance_reference.py "$target"
