# shellcheck shell=bash
# The compiler flags of the deployable functions, on top of the release profile: sourced by
# scripts/build.sh (`make build`), scripts/binary-sizes.sh and scripts/bench-cold-start.sh, so that
# what is measured is what ships. Numbers: docs/performance.md, "Binary sizes".
#
# - `-C relocation-model=static`: non-position-independent executables. rustc then links with
#   `-no-pie` (rust-lld here, zig's lld under cargo-lambda; both take it), and the executable is
#   loaded at its fixed address: the dynamic relocations of a PIE (`.rela.dyn`, 0.26-0.49 MB per
#   function, one entry for every pointer in read-only data) are gone, and the dynamic loader has
#   none to apply at start. Lambda's provided.al2023 runtime runs any ELF executable; nothing in
#   the functions depends on address randomisation of the executable itself (the stack, the heap
#   and the shared libraries are still randomised).
#
# Not in .cargo/config.toml: `make test` builds without them (a change of flags rebuilds every
# crate), and cargo-lambda sets RUSTFLAGS itself (adding its `-C target-cpu`), which would
# override a config file's `[target] rustflags`. Cargo applies RUSTFLAGS to build scripts and
# proc macros too unless `--target` is given, and a proc macro cannot be linked with a static
# relocation model: every cargo command under these flags names its target (cargo-lambda does).
# - `--remap-path-prefix` for each crate registry's source directory: the source paths that panic
#   messages and the call sites of log events carry (about 750 in a function) name a dependency as
#   `aws-sdk-dynamodb-1.136.0/src/…` instead of `/root/.cargo/registry/src/index.crates.io-…/…`:
#   no builder's home directory in what ships, the same bytes whoever builds it, and 58 bytes fewer
#   per path. The workspace's own paths are relative already; the standard library's are `/rustc/…`.
release_rustflags="-C relocation-model=static"
for registry_sources in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  [[ -d "$registry_sources" ]] && release_rustflags+=" --remap-path-prefix=${registry_sources}="
done
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$release_rustflags"
