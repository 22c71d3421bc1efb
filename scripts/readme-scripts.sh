#!/usr/bin/env bash
# Runs the scripts the README shows, exactly as it writes them (the README test checks that each
# one is named here): the static build, and the run script with and without --listen, each
# until it answers /api/health on 127.0.0.1:8000. scripts/test.sh itself is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[readme-scripts] %s\n' "$*" >&2; }

# GET /api/health on 127.0.0.1:8000 answers 200 (bash's /dev/tcp: no curl needed).
healthy() {
  local line
  exec 3<>/dev/tcp/127.0.0.1/8000 || return 1
  printf 'GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r line <&3 || true
  exec 3>&-
  [[ "$line" == *" 200 "* ]]
}

# Starts the command given as one string, waits until it serves, stops it.
serves() {
  local cmd=$1 data pid i
  data=$(mktemp -d)
  log "$cmd"
  VR_DATA_DIR="$data" VR_ADMIN_PASSWORD=readme-scripts-pw setsid bash -c "$cmd" >"$data/log" 2>&1 &
  pid=$!
  for i in $(seq 1 600); do
    if healthy 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || kill "$pid"
      wait "$pid" 2>/dev/null || true
      rm -rf "$data"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "it exited before serving:"; cat "$data/log" >&2; return 1
    fi
    sleep 0.5
  done
  log "it never served:"; tail -50 "$data/log" >&2
  kill -- "-$pid" 2>/dev/null || true
  return 1
}

if healthy 2>/dev/null; then
  log "something already serves 127.0.0.1:8000: stop it first"; exit 1
fi

log "scripts/build-static.sh"
scripts/build-static.sh
bin=target/x86_64-unknown-linux-musl/release/vr
"$bin" --version >/dev/null

serves 'scripts/run.sh'
serves 'scripts/run.sh --listen 0.0.0.0:8000'
log ok
