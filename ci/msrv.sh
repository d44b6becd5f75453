#!/usr/bin/env bash
# Builds every published crate with the MSRV toolchain (the workspace's
# `rust-version`) against the committed Cargo.lock. The lockfile is resolved
# with `incompatible-rust-versions = "fallback"` (.cargo/config.toml), so it
# holds only dependency versions that support the MSRV.
#
# Installs the toolchain itself; if that fails it prints one
# `SKIPPED: msrv: <reason>` line and exits 0. A build that ran and failed
# fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

msrv="$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -n1)"
if [ -z "$msrv" ]; then
  echo "msrv: no rust-version in the root Cargo.toml" >&2
  exit 1
fi

if ! rustup toolchain install "$msrv" --profile minimal --no-self-update; then
  printf '\nSKIPPED: msrv: rustup could not install Rust %s\n' "$msrv"
  exit 0
fi

# Warnings are the newest toolchain's job (the clippy gate); an old compiler's
# different lints must not fail the MSRV build.
RUSTFLAGS="" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv" \
  cargo "+$msrv" build --locked \
  -p anysync -p anysync-tokio -p anysync-smol -p anysync-async-std
echo "msrv: the published crates build on Rust $msrv"
