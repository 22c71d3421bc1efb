#!/usr/bin/env bash
# Builds vr (the static release binary, UI embedded) and starts the server on
# http://127.0.0.1:8000. Extra arguments go to `vr serve`, e.g. scripts/run.sh --listen 0.0.0.0:8000
set -euo pipefail
cd "$(dirname "$0")/.."
# The same binary scripts/build-static.sh ships: one release build serves both.
bash scripts/build-static.sh >&2
exec target/x86_64-unknown-linux-musl/release/vr serve "$@"
