#!/usr/bin/env bash
# Atomics and UnsafeCell in the core must come through `crate::loom`, so the
# loom models see every access (see CONTRIBUTING.md). clippy's disallowed-types
# cannot tell a re-export from a direct use, so this grep does the job.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -rnE '(core|std)::(sync::atomic|cell::UnsafeCell)' crates/anysync/src \
     --include='*.rs' | grep -v '^crates/anysync/src/loom.rs:' \
     | grep -vE '(/tests/|/tests\.rs:)' | grep -vE '^\S+:[0-9]+:\s*//'; then
  echo "use crate::loom::{sync::atomic, cell::UnsafeCell} instead of the items above"
  exit 1
fi
echo "loom facade: ok"
