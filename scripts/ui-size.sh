#!/usr/bin/env bash
# Where the UI's wasm bytes come from, by our source file and line (issue 10's size budget).
#
# Builds the UI's wasm exactly as scripts/build-ui.sh does (same profile and flags) but with
# line tables, in its own target folder (target/ui-size), then gives every byte of code to the
# innermost frame of its inline chain that is ours (frontend/src or app/src): code a generic
# helper of ours makes the compiler copy lands on the helper's line, not on Leptos's. Bytes are
# before wasm-opt (which takes about a quarter off evenly); what no frame of ours owns is listed
# by the library line that made it. Needs llvm-dwarfdump and llvm-symbolizer (Debian: llvm).
#
#   scripts/ui-size.sh            top files and lines
#   scripts/ui-size.sh 80         more of each
#   scripts/ui-size.sh 30 json    lines of files whose path contains "json" only
set -euo pipefail
cd "$(dirname "$0")/.."
top=${1:-40}
only=${2:-}
for tool in llvm-dwarfdump llvm-symbolizer; do
  command -v "$tool" >/dev/null || { echo "ui-size: needs $tool (apt-get install llvm)" >&2; exit 1; }
done
RUSTFLAGS="--cfg erase_components -C llvm-args=-inline-threshold=-15" \
  CARGO_PROFILE_WASM_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR=target/ui-size \
  cargo build -q --profile wasm-release --target wasm32-unknown-unknown -p vr-frontend
wasm=target/ui-size/wasm32-unknown-unknown/wasm-release/vr-frontend.wasm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
llvm-dwarfdump --debug-line "$wasm" 2>/dev/null >"$work/lines"
# Each line-table row owns the bytes up to the next row of its sequence.
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
addrs, sizes, seq = [], [], []
for line in open(f"{work}/lines"):
    if not line.startswith("0x"):
        continue
    seq.append(int(line.split()[0], 16))
    if "end_sequence" in line:
        for a, b in zip(seq, seq[1:]):
            if b > a:
                addrs.append(a)
                sizes.append(b - a)
        seq = []
open(f"{work}/addrs", "w").write("".join(f"{a:#x}\n" for a in addrs))
open(f"{work}/sizes", "w").write("".join(f"{s}\n" for s in sizes))
EOF
llvm-symbolizer --obj="$wasm" --inlines --functions=none <"$work/addrs" >"$work/frames"
python3 - "$work" "$top" "$PWD" "$only" <<'EOF'
import collections, sys
work, top, root, only = sys.argv[1], int(sys.argv[2]), sys.argv[3] + "/", sys.argv[4]
sizes = [int(s) for s in open(f"{work}/sizes")]
chains = [c for c in open(f"{work}/frames").read().split("\n\n") if c.strip()]
ours = lambda f: f.startswith(root + "frontend/src/") or f.startswith(root + "app/src/")
by_file, by_line, lib = collections.Counter(), collections.Counter(), collections.Counter()
for chain, size in zip(chains, sizes):
    frames = chain.strip().split("\n")  # innermost first
    mine = next((f for f in frames if ours(f)), None)
    if mine is None:
        outer = frames[-1].rsplit(":", 1)[0]
        lib[outer.split("/src/")[-1] if "/src/" in outer else outer] += size
        continue
    place = mine[len(root):].rsplit(":", 1)[0]
    by_file[place.rsplit(":", 1)[0]] += size
    if only in place:
        by_line[place] += size
total = sum(sizes)
own = sum(by_file.values())
print(f"code before wasm-opt: {total} bytes; ours (incl. what our generic helpers copy): {own}")
for title, counter in (("by file", by_file), ("by line", by_line), ("library, no frame of ours", lib)):
    print(f"\n{title}:")
    for k, v in counter.most_common(top):
        print(f"{v:9} {100 * v / total:5.1f}%  {k}")
EOF
