#!/usr/bin/env bash
# Runs the test firmware (tests/embedded) on emulated microcontrollers:
# Cortex-M3 (thumbv7m, QEMU lm3s6965evb), Cortex-M4F (thumbv7em, QEMU
# mps2-an386) and Cortex-M0 (thumbv6m, QEMU microbit). For each: clippy, a
# build that must link no allocator, and a run that must end with every
# scenario passed.
#
# Installs what it needs (rustup targets, llvm-tools, qemu-system-arm). If
# an install fails, prints one `SKIPPED: embedded: <reason>` line and exits
# 0; a firmware that builds and then fails, fails this script.
set -euo pipefail
cd "$(dirname "$0")/../tests/embedded"

skip() {
  printf '\nSKIPPED: embedded: %s\n' "$1"
  exit 0
}

# ---- install -------------------------------------------------------------------
targets=(thumbv7m-none-eabi thumbv7em-none-eabihf thumbv6m-none-eabi)
rustup target add "${targets[@]}" || skip "rustup target add ${targets[*]} failed"
rustup component add llvm-tools || skip "rustup component add llvm-tools failed"
sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
nm="$sysroot/lib/rustlib/$host/bin/llvm-nm"
[ -x "$nm" ] || skip "llvm-nm not found under $sysroot"
if ! command -v qemu-system-arm >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm; } \
    || skip "apt-get install qemu-system-arm failed"
fi
command -v qemu-system-arm >/dev/null || skip "qemu-system-arm still not on PATH"

# ---- gate ------------------------------------------------------------------------
# The firmware is its own workspace, so the root `cargo fmt --all` does not
# reach it.
cargo fmt --check
for target in "${targets[@]}"; do
  cargo clippy --release --target "$target" --all-targets -- -D warnings
  cargo clippy --release --target "$target" --bin size --features size-mutex -- -D warnings
done

# ---- build, check for an allocator, run ---------------------------------------
# $1 target, $2 QEMU machine
run_firmware() {
  local target="$1" machine="$2"
  cargo build --release --target "$target" --bin anysync-embedded
  # Where cargo put it: CARGO_TARGET_DIR, when set, wins over ./target.
  local elf="${CARGO_TARGET_DIR:-target}/$target/release/anysync-embedded"
  local symbols alloc_symbols
  # nm on its own line, so that a missing or unreadable binary fails the
  # step instead of reading as "no allocator".
  symbols="$("$nm" "$elf")"
  alloc_symbols="$(grep -E '__rust_alloc|__rg_alloc|__rdl_alloc|__rust_no_alloc_shim' <<<"$symbols" || true)"
  if [ -n "$alloc_symbols" ]; then
    printf 'embedded: %s links an allocator:\n%s\n' "$target" "$alloc_symbols" >&2
    exit 1
  fi
  echo "embedded: $target links no allocator"
  if ! qemu-system-arm -machine help | grep -q "^$machine "; then
    printf '\nSKIPPED: embedded: run on %s: this QEMU has no %s machine (built and checked only)\n' \
      "$target" "$machine"
    return 0
  fi
  local log status
  log="$(mktemp)"
  # The runner in .cargo/config.toml boots the ELF; semihosting's exit code
  # is QEMU's. A hang (a fault loops forever) ends at the timeout.
  if timeout 600 cargo run -q --release --target "$target" --bin anysync-embedded \
    </dev/null >"$log" 2>&1; then
    status=0
  else
    status=$?
  fi
  cat "$log"
  if [ "$status" != 0 ]; then
    echo "embedded: the firmware on $target failed (exit $status)" >&2
    exit 1
  fi
  local summary
  summary="$(grep -E '^[0-9]+ passed, 0 failed$' "$log" || true)"
  [ -n "$summary" ] || { echo "embedded: no summary line from $target" >&2; exit 1; }
  local ok
  ok="$(grep -c '^ok ' "$log")"
  [ "${summary%% *}" = "$ok" ] || { echo "embedded: summary and ok lines disagree" >&2; exit 1; }
  echo "embedded: $target: $summary"
  rm -f "$log"
}

run_firmware thumbv7m-none-eabi lm3s6965evb
run_firmware thumbv7em-none-eabihf mps2-an386
run_firmware thumbv6m-none-eabi microbit
