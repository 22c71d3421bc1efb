#!/usr/bin/env bash
# Benchmarks of the shipped artifact: builds the static release binary, then measures start-up,
# idle memory, binary size and UI bundle size (figures recorded in BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-static.sh
cargo run -q -p vr-tests --bin vr-bench -- --vr target/x86_64-unknown-linux-musl/release/vr "$@"
