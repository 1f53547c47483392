#!/usr/bin/env bash
# Cold start of the four Lambda functions next to a minimal lambda_runtime function, in one run
# (bench/cold-start): builds each function's release binary as `make build` does (the release
# profile, one `--bin` at a time) and the hello function with the same profile, then serves the
# Lambda Runtime API on loopback, starts each binary RUNS times (default 20) and prints the
# medians of spawn → first /next and spawn → first invocation answered, with their ratios to the
# hello function's. Binary sizes are in the table too. Not part of `make test` (timings belong to
# benchmarks, not tests). Arguments pass through to the harness (e.g. --only dashboard-api).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
for function in intent-tracker feedback-webhook weekly-batch dashboard-api; do
  cargo build --release --locked -p "$function" --bin "$function"
done
cargo build --release --locked -p autolearn-cold-start --bins
"$target/release/cold-start" --bin-dir "$target/release" --runs "${RUNS:-20}" \
  --log-dir "$target/cold-start" "$@"
