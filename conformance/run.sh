#!/usr/bin/env bash
# Runs the conformance runner against our server in both CI configurations:
#   1. streaming and push declared (push may register the runner's 127.0.0.1 webhooks)
#   2. streaming and push switched off (the "not supported" answers are checked)
# Usage: conformance/run.sh [runner flags, e.g. --json, --only R55, -v]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
BIN=target/debug/a2a

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME ENV... : starts `a2a serve` on a free port, prints its URL.
start() {
  local log
  log="$(mktemp)"
  env "$@" "$BIN" serve --listen 127.0.0.1:0 --agent conformance --store memory: >"$log" 2>/dev/null &
  pids+=("$!")
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$log"; then
      sed -n 's/^listening on //p' "$log" | head -1
      return 0
    fi
    sleep 0.1
  done
  echo "the server did not start" >&2
  return 1
}

status=0
on_url="$(start A2A_STREAMING=true A2A_PUSH_NOTIFICATIONS=true A2A_PUSH_ALLOW_PRIVATE_NETWORKS=true)"
echo "== streaming and push declared ($on_url)"
"$BIN" conformance "$on_url" "$@" || status=1

off_url="$(start A2A_STREAMING=false A2A_PUSH_NOTIFICATIONS=false)"
echo "== streaming and push off ($off_url)"
"$BIN" conformance "$off_url" "$@" || status=1
exit "$status"
