#!/usr/bin/env bash
# Benchmarks of the shipped artifact: builds the static release binary, then measures start-up,
# idle memory, binary and UI bundle size, and the fleet (refresh, freshness, API latency with dead
# hosts, memory while polling). Figures are recorded in BENCHMARKS.md.
# Options: --suite all|foundation|fleet, --runs N, --hosts N, --procs N, --dead N, --samples N.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-static.sh
cargo run -q -p vr-tests --bin vr-bench -- --vr target/x86_64-unknown-linux-musl/release/vr "$@"
