#!/usr/bin/env bash
# `make build`: builds the six Lambda functions for deployment, as `sam build` in infra/
# (BuildMethod rust-cargolambda: `cargo lambda build --release --arm64 --bin NAME` at the workspace
# root, one function after another). Then deploy with `cd infra && sam deploy --guided`
# (docs/deploy.md).
#
# Installs its own tools into .venv-build/ from PyPI, pinned below: the AWS SAM CLI, cargo-lambda
# and zig (cargo-lambda cross-compiles and links with zig, so no C cross toolchain is needed).
# The functions run on arm64 (Graviton), which needs the Rust standard library for
# aarch64-unknown-linux-gnu: this script adds it with rustup.
#
#   scripts/build.sh                  build for the template's architecture (arm64)
#   BUILD_ARCH=x86_64 scripts/build.sh
#                                     build an x86_64 variant (infra/.aws-sam/template-x86_64.yaml),
#                                     for a machine that cannot get the arm64 target; deploy it with
#                                     `sam deploy --template-file .aws-sam/build/template.yaml`
#
# Honours CARGO_TARGET_DIR (the binaries land in $CARGO_TARGET_DIR/lambda/NAME/bootstrap).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-build"
packages=(aws-sam-cli==1.170.0 cargo-lambda==1.9.2 ziglang==0.17.1)
arch="${BUILD_ARCH:-arm64}"

# 1. The build tools, reinstalled only when the pins change.
stamp="$venv/.packages"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "${packages[*]}" ]]; then
  echo "installing ${packages[*]} into .venv-build" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
  echo "${packages[*]}" > "$stamp"
fi
# sam finds cargo-lambda on PATH; cargo-lambda finds zig through the venv's python (ziglang).
export PATH="$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0

# 2. The Rust target of the functions' architecture.
case "$arch" in
  arm64) rust_target=aarch64-unknown-linux-gnu ;;
  x86_64) rust_target=x86_64-unknown-linux-gnu ;;
  *) echo "BUILD_ARCH must be arm64 or x86_64, not $arch" >&2; exit 2 ;;
esac
cd "$root"
if ! rustup target list --installed | grep -qx "$rust_target"; then
  if ! rustup target add "$rust_target"; then
    cat >&2 <<EOF
error: the Rust standard library for $rust_target is not installed, and rustup could not
download it (rustup fetches it from static.rust-lang.org, not from a package registry).

The functions are deployed on arm64 (Architectures in infra/template.yaml). Either:
  - on a machine that reaches static.rust-lang.org, run
        rustup target add $rust_target
    (for the toolchain in rust-toolchain.toml) and run make build again; or
  - build an x86_64 variant instead, which needs nothing more:
        BUILD_ARCH=x86_64 make build
EOF
    exit 1
  fi
fi

# 3. The deployable functions' compiler flags (non-PIE executables): sam runs cargo-lambda with this
# environment, and cargo-lambda adds its -C target-cpu to RUSTFLAGS.
# shellcheck source=release-flags.sh
source "$root/scripts/release-flags.sh"

# 4. sam build (samconfig.toml opts in to the rust-cargolambda beta feature).
cd "$root/infra"
template=template.yaml
if [[ "$arch" == x86_64 ]]; then
  # The same template with the other architecture, in infra/.aws-sam/: one level further from the
  # workspace root, so its CodeUri becomes ../.. .
  mkdir -p .aws-sam
  template=.aws-sam/template-x86_64.yaml
  sed -e 's/^\( *Architectures: \)\[arm64\]$/\1[x86_64]/' \
    -e 's|^\( *CodeUri: \)\.\.\( .*\)\{0,1\}$|\1../..\2|' template.yaml > "$template"
  if grep -q 'arm64' "$template" || [[ "$(grep -c 'CodeUri: \.\./\.\.' "$template")" != \
    "$(grep -c 'CodeUri: ' template.yaml)" ]]; then
    echo "could not derive $template from template.yaml" >&2
    exit 1
  fi
fi
sam build --config-file "$root/infra/samconfig.toml" --template-file "$template" "$@"
echo "built: infra/.aws-sam/build ($arch). Deploy: cd infra && sam deploy --guided" >&2
