#!/usr/bin/env bash
# anysync-redis against a real redis-server (Debian's package), installed
# here when missing. ANYSYNC_REQUIRE_REDIS=1 turns the tests' "SKIPPED: no
# redis-server" into a failure, so a green run means they really ran.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; then
    printf '\nSKIPPED: redis: apt-get install redis-server failed\n'
    exit 0
  fi
fi
redis-server --version

export ANYSYNC_REQUIRE_REDIS=1
cargo test -p anysync-redis
cargo doc --no-deps -p anysync-redis
for rt in tokio smol async-std; do
  cargo run -q -p anysync-examples --bin distributed_limit -- --runtime "$rt"
done
