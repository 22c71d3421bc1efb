#!/usr/bin/env bash
# Builds the fully static release binary (musl, UI embedded): target/x86_64-unknown-linux-musl/release/vr
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh static
bash scripts/build-ui.sh
cargo build --release -q -p vr-server --target x86_64-unknown-linux-musl
bin=target/x86_64-unknown-linux-musl/release/vr
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "[build-static] $bin links shared libraries:" >&2; ldd "$bin" >&2; exit 1
fi
echo "$bin: $(du -h "$bin" | cut -f1), static"
