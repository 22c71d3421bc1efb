#!/usr/bin/env bash
# Builds the web UI (Leptos → WASM) into frontend/dist, which the vr binary embeds.
# Run before building the server: a build.rs that runs Trunk would deadlock cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
# Trunk runs offline (it cannot download tools here), so dependencies must be fetched first.
cargo fetch --target wasm32-unknown-unknown -q
# Leptos's type erasure: one generic view type instead of one per view tree, 15% less wasm
# (1,323,201 → 1,132,335 bytes on 2026-11-25). Only this (wasm) build sees the flags.
# LLVM inlines less than opt-level "z" does by default: 558,128 → 548,713 bytes gzipped on
# 2026-12-01 (measured at -100, -25, -10, 0, 5, 15, 40: -10 was smallest); re-measured on 2026-12-07
# (-5, -10, -15, -20, -30): -15 is smallest now, -30 falls off a cliff (see BENCHMARKS.md).
export RUSTFLAGS="--cfg erase_components -C llvm-args=-inline-threshold=-15 ${RUSTFLAGS:-}"
# Trunk rewrites dist/ on every run (and wasm-opt alone takes half a minute), which makes cargo
# re-embed the UI into vr: skip it when nothing that goes into the bundle changed since the last
# build. The stamp hashes every input file, the flags and which wasm-opt is used.
stamp=target/ui-inputs.sha256
inputs=$( {
  find app frontend -path frontend/dist -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum
  sha256sum Cargo.toml Cargo.lock Trunk.toml scripts/build-ui.sh
  echo "$RUSTFLAGS"
  ls -l .tools/node_modules/.bin/wasm-opt 2>/dev/null || echo no-wasm-opt
} | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ] && ls frontend/dist/*.wasm >/dev/null 2>&1; then
  echo "[build-ui] inputs unchanged since the last build: frontend/dist kept" >&2
elif [ -x .tools/node_modules/.bin/wasm-opt ]; then
  export PATH="$PWD/.tools/node_modules/.bin:$PATH"
  trunk build --release --quiet
else
  echo "[build-ui] no wasm-opt in .tools: building without it (bigger bundle)" >&2
  trunk build --release --quiet -M false 2>/dev/null || trunk build --release --quiet
fi
mkdir -p target && echo "$inputs" >"$stamp"
# What a browser downloads, gzipped (the server compresses its responses): the size budget of
# the UI is 450 KB (BENCHMARKS.md).
total=0
for f in frontend/dist/*.wasm frontend/dist/*.js frontend/dist/*.css; do
  n=$(gzip -9c "$f" | wc -c)
  total=$((total + n))
  printf '[build-ui] %-48s %8d bytes gzipped\n' "${f#frontend/dist/}" "$n" >&2
done
printf '[build-ui] UI total %d bytes gzipped (%d KB; budget 450 KB)\n' "$total" $((total / 1000)) >&2
