#!/usr/bin/env bash
# Installs the tools vr needs on a fresh Debian machine that has only the Rust toolchain.
#   bootstrap.sh build   what building the binary needs (wasm target, wasm-bindgen, Trunk, wasm-opt)
#   bootstrap.sh test    that, plus the test hosts' packages (sshd, supervisord, nginx, haproxy, Chromium)
# Idempotent: each step checks before it installs, so a second run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# perl and make build the vendored OpenSSL that ssh2 links (one build for glibc and musl).
apt_pkgs=(git perl make gzip)
[ "$mode" = test ] && apt_pkgs+=(openssh-server openssh-client supervisor nginx haproxy chromium chromium-driver iproute2 procps musl-tools sudo python3 python3-venv bubblewrap mmdebstrap apt-utils)
[ "$mode" = static ] && apt_pkgs+=(musl-tools)
need_apt=()
for pkg in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

for t in wasm32-unknown-unknown x86_64-unknown-linux-musl; do
  rustup target list --installed | grep -qx "$t" || { log "rustup target add $t"; rustup target add "$t"; }
done

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen 0.2.130" ]; then
  log "installing wasm-bindgen-cli 0.2.130 (about 95 s)"
  cargo install -q wasm-bindgen-cli --version 0.2.130 --force
fi

if ! trunk --version 2>/dev/null | grep -q '^trunk 0.21.14'; then
  log "installing trunk 0.21.14 (about 5 min, once per machine)"
  cargo install -q trunk --version 0.21.14 --locked --force
fi

# Debian's binaryen (v108) breaks the wasm at start-up; use the npm build, kept inside the project.
# Without npm the UI still builds, only larger (scripts/build-ui.sh skips wasm-opt).
if [ ! -x .tools/node_modules/.bin/wasm-opt ] && command -v npm >/dev/null; then
  log "installing binaryen@132.0.0 (npm) into .tools/"
  mkdir -p .tools
  npm install --silent --prefix .tools binaryen@132.0.0 >/dev/null
fi
# Velociraptor's own Python client, which the VR-compatibility suite runs against vr.
if [ "$mode" = test ] && [ ! -x .tools/vrcli/bin/vr.cli ]; then
  log "installing Velociraptor's client vr.cli 4.2 (PyPI) into .tools/vrcli"
  mkdir -p .tools
  rm -rf .tools/vrcli
  /usr/bin/python3 -m venv .tools/vrcli
  .tools/vrcli/bin/pip install -q 'vr.cli==4.2' 'vr.common==6.1.1'
fi
# A Debian mirror on disk holding the Essential packages and what they depend on, from which the
# stacks suite builds an image with mmdebstrap (tests reach no network; copy:// reads it from
# inside mmdebstrap's chroot). About 32 MB.
mirror=.tools/debian-mirror
if [ "$mode" = test ] && [ ! -f "$mirror/dists/stable/Release" ]; then
  log "making a local Debian mirror of the Essential packages in $mirror (for mmdebstrap)"
  rm -rf "$mirror"
  mkdir -p "$mirror/pool" "$mirror/dists/stable/main/binary-amd64"
  essential=$(apt-cache dumpavail | awk '/^Package:/ { p = $2 } /^Essential: yes/ { print p }' | sort -u)
  # shellcheck disable=SC2086
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $essential | grep '^[a-z0-9]' | sort -u)
  # shellcheck disable=SC2086
  (cd "$mirror/pool" && apt-get download -qq $closure)
  (cd "$mirror" && apt-ftparchive packages pool > dists/stable/main/binary-amd64/Packages)
  apt-ftparchive -o APT::FTPArchive::Release::Suite=stable -o APT::FTPArchive::Release::Codename=stable \
    -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=amd64 \
    release "$mirror/dists/stable" > "$mirror/Release.tmp"
  mv "$mirror/Release.tmp" "$mirror/dists/stable/Release"
fi
log "ok"
