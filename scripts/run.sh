#!/usr/bin/env bash
# Builds vr (UI embedded) and starts the server on http://127.0.0.1:8000.
# Extra arguments go to `vr serve`, e.g. scripts/run.sh --listen 0.0.0.0:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build
bash scripts/build-ui.sh
cargo build --release -q -p vr-server
exec target/release/vr serve "$@"
