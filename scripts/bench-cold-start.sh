#!/usr/bin/env bash
# Cold start of the four Lambda functions next to a minimal lambda_runtime function, in one run
# (bench/cold-start): builds each function's release binary as `make build` does (the release
# profile and the compiler flags of scripts/release-flags.sh, one `--bin` at a time, for this
# machine's target) and the hello function the same way, then serves the
# Lambda Runtime API on loopback, starts each binary RUNS times (default 20) and prints the
# medians of spawn → first /next and spawn → first invocation answered, with their ratios to the
# hello function's. Binary sizes are in the table too. Not part of `make test` (timings belong to
# benchmarks, not tests). Arguments pass through to the harness (e.g. --only dashboard-api).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
# shellcheck source=release-flags.sh
source "$root/scripts/release-flags.sh"
host="$(rustc -vV | sed -n 's/^host: //p')"
for function in intent-tracker feedback-webhook weekly-batch proposal-analyst dashboard-api customer-data-api; do
  cargo build --release --locked --target "$host" -p "$function" --bin "$function"
done
cargo build --release --locked --target "$host" -p autolearn-cold-start --bins
"$target/$host/release/cold-start" --bin-dir "$target/$host/release" --runs "${RUNS:-20}" \
  --log-dir "$target/cold-start" "$@"
