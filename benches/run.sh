#!/usr/bin/env bash
# Runs every bench of anysync-benches, in several passes, then regenerates
# benches/RESULTS.md and its plots (benches/plots/*.svg) from the criterion
# output and the benches' wait counts (waits.jsonl) of every pass.
#
#   benches/run.sh            # full run: six passes of the suite
#   benches/run.sh --quick    # ANYSYNC_BENCH_QUICK=1: one short pass, a few minutes
#
# ANYSYNC_BENCH_PASSES overrides the number of passes. On a machine of two
# processors one criterion function can land, whole, in a fast or a slow
# state of the machine and of the runtime's workers; the report takes each
# row's median over the passes and shows the range.
#
# Honours CARGO_TARGET_DIR. Clears that target's criterion/ and
# criterion-pass-*/ first, so the report sees this run only. Check `uptime`
# first: other builds on the machine make the numbers noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
mode=full
if [[ "${1:-}" == --quick ]]; then
    export ANYSYNC_BENCH_QUICK=1
    mode=quick
fi
passes="${ANYSYNC_BENCH_PASSES:-$([[ $mode == quick ]] && echo 1 || echo 6)}"
[[ $passes =~ ^[1-9][0-9]*$ ]] || {
    echo "run.sh: ANYSYNC_BENCH_PASSES must be a positive number, not '$passes'" >&2
    exit 2
}
export ANYSYNC_BENCH_PASSES="$passes"
# Waits, up to five minutes, for the one-minute load average to fall below
# 1: before the run, so that nothing else competes with it; after, so
# that the file records whether anything else was running (right after
# the run the average still counts the benches' own two threads).
wait_quiet() {
    for _ in $(seq 60); do
        awk '{ exit !($1 < 1) }' /proc/loadavg && return 0
        sleep 5
    done
    echo "run.sh: the load average stayed at 1 or above" >&2
}
cargo bench -p anysync-benches --no-run
cargo build -p anysync-benches --release --bin report
rm -rf "$target/criterion" "$target"/criterion-pass-*
wait_quiet
load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
dirs=()
for pass in $(seq "$passes"); do
    echo "run.sh: pass $pass of $passes" >&2
    cargo bench -p anysync-benches
    mv "$target/criterion" "$target/criterion-pass-$pass"
    dirs+=("$target/criterion-pass-$pass")
done
secs=$(($(date +%s) - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
wait_quiet
idle=$(($(date +%s) - start - secs))
load_idle=$(cut -d' ' -f1-3 /proc/loadavg)
note="$mode mode, $passes pass(es), ${secs} s of benches; load average before: $load, right after: $load_after, ${idle} s later: $load_idle"
# Kept beside the passes, so that the report run again without --note
# still records the run.
echo "$note" > "${dirs[0]}/run-note.txt"
cargo run -p anysync-benches --release --bin report -- "${dirs[@]}" --note "$note"
