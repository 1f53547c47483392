#!/usr/bin/env bash
# What each Lambda function's binary weighs and what it is made of: builds each function with
# the release profile (`make build`'s) but keeps the symbols (CARGO_PROFILE_RELEASE_STRIP=false)
# so that cargo bloat (`cargo install cargo-bloat --locked`) can attribute the code to crates, then
# strips a copy (binutils `strip`, what the profile's `strip = true` does at link time) and prints
# its size and its gzip -9 size (about what it adds to the deployment zip), and the sizes of its
# largest sections (`size -A`). Built with `make build`'s compiler flags (scripts/release-flags.sh)
# for this machine's target, named explicitly as cargo-lambda does. Not part of `make test`.
# Then, when `make build` has run, the same for what it shipped (target/lambda/NAME/bootstrap,
# arm64). Numbers: docs/performance.md.
#
#   scripts/binary-sizes.sh [N]     the N largest crates per function (default 12)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
# shellcheck source=release-flags.sh
source "$root/scripts/release-flags.sh"
host="$(rustc -vV | sed -n 's/^host: //p')"
built="$target/$host/release"
export CARGO_PROFILE_RELEASE_STRIP=false
out="$target/binary-sizes"
mkdir -p "$out"
functions=(intent-tracker feedback-webhook weekly-batch proposal-analyst dashboard-api customer-data-api)
for function in "${functions[@]}"; do
  echo "== $function: cargo bloat --release --crates -n ${1:-12}"
  cargo bloat --release --locked --target "$host" -p "$function" --bin "$function" --crates \
    -n "${1:-12}"
  cp "$built/$function" "$out/$function"
  strip "$out/$function"
done
cargo build --release --locked --target "$host" -p autolearn-cold-start --bin cold-start-hello
cp "$built/cold-start-hello" "$out/cold-start-hello"
strip "$out/cold-start-hello"
echo
echo "| binary | stripped | gzip -9 |"
echo "|---|---:|---:|"
for binary in "${functions[@]}" cold-start-hello; do
  printf '| %s | %s | %s |\n' "$binary" "$(stat -c %s "$out/$binary")" "$(gzip -9 -c "$out/$binary" | wc -c)"
done
echo
echo "sections of the stripped binaries (size -A, bytes):"
sections=(.text .rodata .data.rel.ro .eh_frame .eh_frame_hdr .gcc_except_table .rela.dyn)
printf '| binary |'; printf ' %s |' "${sections[@]}"; echo
printf '|---|'; printf -- '---:|%.0s' "${sections[@]}"; echo
for binary in "${functions[@]}" cold-start-hello; do
  printf '| %s |' "$binary"
  for section in "${sections[@]}"; do
    printf ' %s |' "$(size -A "$out/$binary" | awk -v s="$section" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }')"
  done
  echo
done
# What `make build` shipped, when it has run: the functions for the template's architecture
# (arm64), stripped by the release profile, as sam packages them.
shipped=()
for function in "${functions[@]}"; do
  [[ -f "$target/lambda/$function/bootstrap" ]] && shipped+=("$function")
done
if ((${#shipped[@]})); then
  echo
  echo "what make build left in $target/lambda (bytes):"
  echo "| function | architecture | stripped | gzip -9 | .text | .rodata | .eh_frame | .gcc_except_table |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  section() { size -A "$1" | awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }
  for function in "${shipped[@]}"; do
    file="$target/lambda/$function/bootstrap"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$function" \
      "$(file -b "$file" | cut -d, -f2 | sed 's/^ *//')" "$(stat -c %s "$file")" \
      "$(gzip -9 -c "$file" | wc -c)" "$(section "$file" .text)" "$(section "$file" .rodata)" \
      "$(section "$file" .eh_frame)" "$(section "$file" .gcc_except_table)"
  done
fi
