#!/usr/bin/env bash
# Runs every bench of anysync-benches in one run, then regenerates
# benches/RESULTS.md and its plots (benches/plots/*.svg) from the criterion
# output and the benches' wait counts (criterion/waits.jsonl).
#
#   benches/run.sh            # full run (longer)
#   benches/run.sh --quick    # ANYSYNC_BENCH_QUICK=1: the whole suite in a few minutes
#
# Honours CARGO_TARGET_DIR. Clears that target's criterion/ first, so the
# report sees this run only. Check `uptime` first: other builds on the
# machine make the numbers noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
mode=full
if [[ "${1:-}" == --quick ]]; then
    export ANYSYNC_BENCH_QUICK=1
    mode=quick
fi
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
rm -rf "$target/criterion"
wait_quiet
load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
cargo bench -p anysync-benches
secs=$(($(date +%s) - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
wait_quiet
idle=$(($(date +%s) - start - secs))
load_idle=$(cut -d' ' -f1-3 /proc/loadavg)
cargo run -p anysync-benches --release --bin report -- "$target/criterion" \
    --note "$mode mode, ${secs} s of benches; load average before: $load, right after: $load_after, ${idle} s later: $load_idle"
