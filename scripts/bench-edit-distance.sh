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
stamp="$venv/.requirements.sha256"
want="$(sha256sum scripts/bench-requirements.txt | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/bench-requirements.txt
  echo "$want" > "$stamp"
fi
target="${CARGO_TARGET_DIR:-$root/target}"
cargo bench --locked -p autolearn-learning --bench edit_distance -- --noplot "$@"
"$venv/bin/python" scripts/edit_distance_reference.py "$target"
