#!/usr/bin/env bash
# Measures what each primitive costs in flash and RAM on Cortex-M3
# (thumbv7m) and Cortex-M0 (thumbv6m), next to embassy-sync's equivalents,
# and prints the README's table (markdown) on stdout.
#
# Method: `src/bin/size.rs` is built once as a baseline (executor,
# semihosting, panic handler) and once per `size-*` feature, each adding one
# primitive in a `static`, used the ordinary way. A variant's flash cost is
# its (text + data) minus the baseline's. Its RAM is `size_of` its `static`
# and `size_of` the future a task holds while it waits on it, both printed
# by the variant itself when QEMU runs it (the static and future sizes are
# the Cortex-M3 build's; 32-bit targets agree). The "own symbols" column
# sums, with llvm-nm, the code and read-only data in symbols of the
# primitive's crate; code inlined into the caller is not in it. Release
# profile: opt-level "s", LTO, one codegen unit.
#
# Needs: rustup targets thumbv7m-none-eabi and thumbv6m-none-eabi, the
# llvm-tools component, qemu-system-arm. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")"

sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
size_tool="$sysroot/lib/rustlib/$host/bin/llvm-size"
[ -x "$size_tool" ] || { echo "llvm-size not found: rustup component add llvm-tools" >&2; exit 1; }

targets=(thumbv7m-none-eabi thumbv6m-none-eabi)

# variant|crate|primitive|compared with
rows=(
  "size-mutex|anysync|Mutex<u32>|embassy Mutex"
  "size-rwlock|anysync|RwLock<u32>|embassy RwLock"
  "size-semaphore|anysync|Semaphore|embassy FairSemaphore"
  "size-bounded-semaphore|anysync|BoundedSemaphore|"
  "size-event|anysync|Event|embassy Signal"
  "size-notify|anysync|Notify|embassy Signal"
  "size-condvar|anysync|Condvar (+ its Mutex<bool>)|"
  "size-barrier|anysync|Barrier|"
  "size-once-cell|anysync|OnceCell<u32>|"
  "size-static-channel|anysync|StaticChannel<u32, 4>|embassy Channel"
  "size-embassy-mutex|embassy-sync 0.7|Mutex<CriticalSectionRawMutex, u32>|"
  "size-embassy-rwlock|embassy-sync 0.7|RwLock<CriticalSectionRawMutex, u32>|"
  "size-embassy-semaphore|embassy-sync 0.7|FairSemaphore<CriticalSectionRawMutex, 8>|"
  "size-embassy-signal|embassy-sync 0.7|Signal<CriticalSectionRawMutex, u32>|"
  "size-embassy-channel|embassy-sync 0.7|Channel<CriticalSectionRawMutex, u32, 4>|"
)

nm_tool="$sysroot/lib/rustlib/$host/bin/llvm-nm"

# flash and RAM (text+data, data+bss) of an ELF
measure() {
  "$size_tool" -B "$1" | awk 'NR == 2 { print $1 + $2, $2 + $3 }'
}

# bytes of code and read-only data in symbols whose (demangled) name
# contains $2: what the primitive's own crate contributes out of line
# (code inlined into the caller's future is counted under the caller)
own_code() {
  local sum=0 size
  while read -r size; do
    sum=$((sum + 16#$size))
  done < <("$nm_tool" -S -C "$1" | awk '$3 ~ /^[tTrR]$/' | grep -E "$2(::|\.\.)" | awk '{ print $2 }')
  echo "$sum"
}

# builds `size` with feature $1 for target $2;
# prints "flash ram static_bytes future_bytes own_code_bytes"
probe() {
  local feature="$1" target="$2" crate_path="${3:-anysync}"
  cargo build -q --release --bin size --features "$feature" --target "$target" >&2
  local elf="target/$target/release/size"
  local sizes; sizes="$(measure "$elf")"
  local out
  out="$(cargo run -q --release --bin size --features "$feature" --target "$target" 2>/dev/null)"
  local bytes; bytes="$(printf '%s\n' "$out" | sed -n 's/^static bytes: //p')"
  local fut; fut="$(printf '%s\n' "$out" | sed -n 's/^future bytes: //p')"
  [ -n "$bytes" ] && [ -n "$fut" ] || { echo "size probe $feature on $target printed no size" >&2; exit 1; }
  echo "$sizes $bytes $fut $(own_code "$elf" "$crate_path")"
}

declare -A base_flash
for t in "${targets[@]}"; do
  read -r flash _ram _bytes _fut _own <<<"$(probe size "$t")"
  base_flash[$t]=$flash
done

echo "| crate | primitive (in a \`static\`) | static, bytes | waiting future, bytes | flash, Cortex-M3 | of it, in the crate's own symbols | flash, Cortex-M0 | compare with |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r feature crate primitive peer <<<"$row"
  cells=()
  bytes=""
  fut=""
  own=""
  case "$crate" in embassy*) symbols="embassy_sync" ;; *) symbols="anysync" ;; esac
  for t in "${targets[@]}"; do
    read -r flash _ram b f o <<<"$(probe "$feature" "$t" "$symbols")"
    bytes="$b"
    fut="$f"
    [ -n "$own" ] || own="$o"
    cells+=("$((flash - ${base_flash[$t]}))")
  done
  echo "| $crate | \`$primitive\` | $bytes | $fut | ${cells[0]} | $own | ${cells[1]} | $peer |"
done

echo
echo "| everything of one crate in one firmware | static, bytes | flash, Cortex-M3 | flash, Cortex-M0 |"
echo "|---|---:|---:|---:|"
for all in "anysync|size-anysync-all|the ten above" "embassy-sync 0.7|size-embassy-all|the five above"; do
  IFS='|' read -r crate feature what <<<"$all"
  cells=()
  for t in "${targets[@]}"; do
    read -r flash _ram b _f _o <<<"$(probe "$feature" "$t")"
    bytes="$b"
    cells+=("$((flash - ${base_flash[$t]}))")
  done
  echo "| $crate, $what | $bytes | ${cells[0]} | ${cells[1]} |"
done

echo
echo "| whole firmware (\`anysync-embedded\`, all scenarios) | flash (text + data) | static RAM (data + bss) |"
echo "|---|---:|---:|"
for t in "${targets[@]}"; do
  cargo build -q --release --bin anysync-embedded --target "$t" >&2
  read -r flash ram <<<"$(measure "target/$t/release/anysync-embedded")"
  echo "| $t | $flash | $ram |"
done
echo
echo "Baseline (executor, semihosting, panic handler): ${base_flash[thumbv7m-none-eabi]} bytes of flash on Cortex-M3, ${base_flash[thumbv6m-none-eabi]} on Cortex-M0."
