#!/usr/bin/env bash
# Benchmarks of the shipped artifact: builds the static release binary, then measures start-up,
# idle memory, binary and UI bundle size, and the fleet (refresh, freshness, API latency with dead
# hosts, memory while polling). Figures are recorded in BENCHMARKS.md.
# Options: --suite all|foundation|fleet|builds|swarms|balancers|hostloss|logs|retention, --runs N, --hosts N, --procs N, --dead N, --samples N.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-static.sh
# The balancers suite runs Ansible side by side with vr: ansible-core from PyPI, in the project's
# tool folder (a virtualenv of the system Python; once per machine).
case " $* " in
  *" --suite balancers "*|*" --suite all "*|"  ") need_ansible=1 ;;
  *) need_ansible=0 ;;
esac
if [ "$need_ansible" = 1 ] && [ ! -x .tools/ansible/bin/ansible-playbook ]; then
  echo "[bench] installing ansible-core into .tools/ansible" >&2
  /usr/bin/python3 -m venv .tools/ansible
  .tools/ansible/bin/pip install -q 'ansible-core>=2.19,<2.20'
fi
cargo run -q -p vr-tests --bin vr-bench -- --vr target/x86_64-unknown-linux-musl/release/vr "$@"
