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
release_rustflags="-C relocation-model=static"
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$release_rustflags"
