#!/usr/bin/env bash
# What JWT authentication costs (issue 20, Speed). On the memory store, SendMessage at 64
# connections, three servers in turn, ROUNDS times alternating, in the same run:
#   off     no authentication
#   jwt     [[auth.jwt]], the same RS256 token on every connection (verified once, then
#           answered from the verified-token cache)
#   nocache the same with `token_cache_size = 0`: every request verifies the signature
# The server is pinned to CPU 0 and the load to CPU 1, so a saturated server spends 1/rps
# CPU seconds a request: 1/rps(nocache) - 1/rps(jwt) is the uncached verification cost.
#
#   benches/auth.sh [--quick]    (run.sh calls it with the dist binary)
#   A2A_BIN: the server and load generator (default target/dist/a2a)
#   BENCH_TOKEN_BIN: examples/bench_token (default beside A2A_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
A2A="${A2A_BIN:-$PWD/target/dist/a2a}"
TOKEN_BIN="${BENCH_TOKEN_BIN:-$(dirname "$A2A")/examples/bench_token}"
if [ "${1:-}" = "--quick" ]; then DURATION=3s WARMUP=1s ROUNDS=2; else DURATION=8s WARMUP=2s ROUNDS=3; fi
command -v jq >/dev/null || { echo "benches/auth.sh needs jq" >&2; exit 1; }
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c 0); PIN_LOAD=(taskset -c 1)
else
  PIN_SERVER=(); PIN_LOAD=()
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The key set on loopback (the server fetches it once at start).
ISSUER="https://bench.invalid"
TOKEN=$("$TOKEN_BIN" "$WORK" "$ISSUER")
JWKS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$WORK" "$JWKS_PORT" >"$WORK/jwks.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$JWKS_PORT/jwks.json" >/dev/null && break; sleep 0.05; done

config() { # NAME CACHE_SIZE
  cat >"$WORK/$1.toml" <<TOML
[auth]
token_cache_size = $2
[[auth.jwt]]
issuer = "$ISSUER"
audience = ["a2a-bench"]
jwks_url = "http://127.0.0.1:$JWKS_PORT/jwks.json"
algorithms = ["RS256"]
TOML
}
config jwt 10000
config nocache 0
: >"$WORK/off.toml"

# run NAME ROUND: one server, one measurement, requests/s on stdout.
run() {
  local name=$1 log="$WORK/$1-$2.log" url="" args=()
  "${PIN_SERVER[@]}" "$A2A" serve --listen 127.0.0.1:0 --store memory: --config "$WORK/$name.toml" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do
    url=$(grep -m1 -o 'listening on http://[^ ]*' "$log" 2>/dev/null) && break
    sleep 0.05
  done
  url=${url#listening on }
  [ "$name" != off ] && args=(--token "$TOKEN")
  "${PIN_LOAD[@]}" "$A2A" bench "$url" --json -c 64 --duration "$DURATION" --warmup "$WARMUP" "${args[@]}" >"$WORK/$name-$2.json" 2>"$WORK/$name-$2.err" || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local errors
  errors=$(jq -r '.errors // "failed"' "$WORK/$name-$2.json" 2>/dev/null || echo failed)
  [ "$errors" = 0 ] || echo "warning: $name round $2: errors $errors $(cat "$WORK/$name-$2.err" | tail -n 2)" >&2
  jq -r '.requests_per_sec // 0' "$WORK/$name-$2.json"
}

declare -A SUM
for name in off jwt nocache; do SUM[$name]=0; done
for round in $(seq 1 "$ROUNDS"); do
  for name in off jwt nocache; do
    rps=$(run "$name" "$round")
    printf 'round %d %-8s %10.0f req/s\n' "$round" "$name" "$rps"
    SUM[$name]=$(awk -v a="${SUM[$name]}" -v b="$rps" 'BEGIN { print a + b }')
  done
done
awk -v off="${SUM[off]}" -v jwt="${SUM[jwt]}" -v nc="${SUM[nocache]}" -v n="$ROUNDS" 'BEGIN {
  off /= n; jwt /= n; nc /= n
  printf "SendMessage, memory store, 64 connections, mean of %d rounds (%s each)\n", n, "'"$DURATION"'"
  printf "  no authentication      %10.0f req/s\n", off
  printf "  JWT, cached            %10.0f req/s  %5.1f%% of no authentication (target >= 85%%)\n", jwt, 100 * jwt / off
  printf "  JWT, cache off         %10.0f req/s  %5.1f%%\n", nc, 100 * nc / off
  if (nc > 0 && jwt > 0) printf "  uncached verification  %10.1f us of server CPU a request (1/rps difference, server on one CPU)\n", 1e6 / nc - 1e6 / jwt
}'
