#!/usr/bin/env bash
# Instructions per request of one server binary under callgrind: counted, not timed, so a
# busy host does not move them. Compare two binaries (or a switch on and off) by running
# this once per binary with the same arguments.
#
# Usage: benches/callgrind.sh SERVER_BINARY [--store URL] [--agent NAME] [-- a2a bench args]
#   SERVER_BINARY  the `a2a` binary to measure (as benches/run.sh builds it:
#                  `cargo build --profile dist --features jemalloc`, target/dist/a2a)
#   --store        task store (default memory:)
#   --agent        agent (default echo)
#   after --        arguments for `a2a bench` but -n/--warmup (default: --scenario send -c 8)
# Env: A2A_BENCH (the load generator, default target/dist/a2a), REQUESTS (measured,
#   3000), WARMUP (requests before the counters are zeroed, 200).
# Prints: instructions per JSON-RPC call (the total of every thread, divided by the calls).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:?usage: benches/callgrind.sh SERVER_BINARY [--store URL] [--agent NAME] [-- bench args]}"; shift
STORE="memory:"; AGENT="echo"; BENCH_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store) STORE="$2"; shift 2 ;;
    --agent) AGENT="$2"; shift 2 ;;
    --) shift; BENCH_ARGS=("$@"); break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#BENCH_ARGS[@]} -gt 0 ] || BENCH_ARGS=(--scenario send -c 8)
LOAD="${A2A_BENCH:-target/dist/a2a}"
WORK="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
URL="http://127.0.0.1:$PORT"
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
  "$BIN" serve --listen "127.0.0.1:$PORT" --store "$STORE" --agent "$AGENT" \
  >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 1; done
"$LOAD" bench "$URL" "${BENCH_ARGS[@]}" -n "${WARMUP:-200}" --warmup 0 >/dev/null
callgrind_control -z "$PID" >/dev/null
"$LOAD" bench "$URL" "${BENCH_ARGS[@]}" -n "${REQUESTS:-3000}" --warmup 0 --json >"$WORK/bench.json"
callgrind_control -d "$PID" >/dev/null
kill -INT $PID; wait $PID 2>/dev/null || true
# The first dump (`-d`) holds the measured requests only: the counters were zeroed before
# them; the file written at exit holds the shutdown.
LAST="$WORK/cg.out.1"
TOTAL="$(callgrind_annotate "$LAST" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')"
CALLS="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"] - r["errors"])' "$WORK/bench.json")"
echo "store=$STORE agent=$AGENT bench=${BENCH_ARGS[*]}"
echo "instructions: $TOTAL over $CALLS requests = $((TOTAL / (CALLS > 0 ? CALLS : 1))) per request"
