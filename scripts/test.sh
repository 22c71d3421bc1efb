#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (native and wasm32), then the unit tests and the
# integration suites against real sshd/supervisord hosts, nginx and headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*" >&2; }

step bootstrap
bash scripts/bootstrap.sh test

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy -q --all-targets -- -D warnings   # default members: app, server, tests
step "clippy (wasm32)"
cargo clippy -q -p vr-app -p vr-frontend --target wasm32-unknown-unknown -- -D warnings

step "build the UI"
bash scripts/build-ui.sh

step "build vr"
cargo build -q -p vr-server

step "tests"
mkdir -p test-artifacts
cargo test -q -- "$@"

# Only on a whole run: the scripts the README shows, exactly as it writes them.
if [ $# -eq 0 ]; then
  step "the README's scripts"
  bash scripts/readme-scripts.sh
fi
