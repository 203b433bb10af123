#!/usr/bin/env bash
# The standard benchmark set of issue 6: our server against the bare hyper + serde_json
# baseline (examples/baseline.rs), each in turn pinned to CPU 0 with `a2a bench` on CPU 1;
# memory, SQLite and Postgres stores; 1, 16 and 64 connections; SendMessage, streaming,
# GetTask, subscribe fan-out, push; tracing off vs on (OTLP export to a local receiver);
# idle RSS and RSS with 10,000 open SSE subscribers; the storage set of issue 23
# (benches/store.sh: long tasks, Postgres round trips and pgbench, ListTasks at 1M tasks).
# Results go between the bench markers of BENCHMARKS.md (created if missing).
#
#   benches/run.sh            full run (about 20 minutes; memory-store send and stream: median of 5 rounds)
#   benches/run.sh --quick    smoke run (about 1 minute): shorter runs, 1 and 64
#                             connections, 2,000 held subscribers, no Postgres or Python
#   --no-write                print the results, leave BENCHMARKS.md alone
#   --python                  also measure the official Python SDK server (needs
#                             `bash .ci/setup-interop.sh` first)
#
# Postgres: A2A_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/a2a_bench?sslmode=disable: a database on loopback, no
# TLS); the database is recreated each run and the Postgres runs are skipped if it is
# unreachable. The Postgres runs leave the server unpinned (it shares both cores with the
# database and the load generator), and pgbench measures plain one-row INSERTs on the same
# database for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0
WRITE=1
PYTHON=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-write) WRITE=0 ;;
    --python) PYTHON=1 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  DURATION=2s WARMUP=0.5s CONNS="1 64" HOLD=2000 SUBSCRIBERS=50 POSTGRES=0 ROUNDS=1
else
  DURATION=8s WARMUP=2s CONNS="1 16 64" HOLD=10000 SUBSCRIBERS=100 POSTGRES=1 ROUNDS=5
fi
PG_URL="${A2A_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/a2a_bench?sslmode=disable}"

command -v jq >/dev/null || { echo "benches/run.sh needs jq (apt-get install jq)" >&2; exit 1; }

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c 0)
  PIN_LOAD=(taskset -c 1)
else
  echo "warning: fewer than 2 CPUs or no taskset: running unpinned" >&2
  PIN_SERVER=()
  PIN_LOAD=()
fi
# 10,000 subscribers need 10,000 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# cpu_check CPU: the fastest and slowest of five timings of a fixed awk loop on CPU, in
# seconds. On a shared host the spread shows how steady the CPUs were: pairs measured while
# it is wide swing with the neighbours, not with the code.
cpu_check() {
  local t0 t1 times=()
  for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    taskset -c "$1" awk 'BEGIN { for (i = 0; i < 2000000; i++) s += i }' 2>/dev/null || true
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000000))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f s", lo / 1000, hi / 1000 }'
}
cpu_line() {
  command -v taskset >/dev/null || { echo "n/a"; return; }
  echo "CPU 0 $(cpu_check 0), CPU 1 $(cpu_check 1)"
}
# verdict LINES...: whether any CPU's slowest timing was over 1.25x its fastest.
verdict() {
  printf '%s\n' "$@" | grep -o '[0-9.]*-[0-9.]*' | awk -F- '
    $1 > 0 && $2 > 1.25 * $1 { wide = 1 }
    END { print (wide ? "a wide spread: a busy shared host, and ratios that swing with it" : "steady") }'
}
CPU_BEFORE=$(cpu_line)

# The `dist` profile (fat LTO, one codegen unit) with jemalloc, as the Docker image ships
# it; the baseline gets the same profile. The first build takes a while (see README "Build").
echo "== building (dist profile, jemalloc)"
cargo build --profile dist --features jemalloc --bin a2a --example baseline --example bench_token 2>&1 | tail -n 1
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
A2A="$TARGET/dist/a2a"
BASELINE="$TARGET/dist/examples/baseline"

WORK=$(mktemp -d)
SERVER_PID=""
LOAD_PID=""
SINK_PID=""
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

COMMANDS=()
RESULTS=()   # markdown table rows
NOTES=()

# start_server LOGNAME CMD... : starts CMD pinned to CPU 0 and waits for "listening on URL".
start_server() {
  local log="$WORK/$1.log"
  shift
  "${PIN_SERVER[@]}" "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  COMMANDS+=("${PIN_SERVER[*]} $*")
  for _ in $(seq 1 300); do
    if SERVER_URL=$(grep -m1 -o 'listening on http://[^ ]*' "$log" 2>/dev/null); then
      SERVER_URL=${SERVER_URL#listening on }
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "server did not start: $*" >&2
  cat "$log" >&2
  exit 1
}

# SIGTERM, then SIGKILL after 2 s: a graceful drain of held streams is not what we measure.
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f MB", kb / 1024}'; }

# CPU time a process has used, in clock ticks (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
TICKS=$(getconf CLK_TCK)

# bench OUTNAME ARGS... : runs `a2a bench SERVER_URL ARGS --json` on CPU 1 into OUTNAME.json,
# and the CPU use of the server and of the load generator over the run (warm-up included)
# into OUTNAME.cpu: a side near 100% is the one that bounds the run.
bench() {
  local out="$WORK/$1.json"
  shift
  local cmd=("$A2A" bench "$SERVER_URL" --json --duration "$DURATION" --warmup "$WARMUP" "$@")
  COMMANDS+=("${PIN_LOAD[*]} a2a bench URL --json --duration $DURATION --warmup $WARMUP $*")
  local rc=0 before after
  before=$(cpu_ticks "$SERVER_PID")
  { TIMEFORMAT='%U %S %R'; time "${PIN_LOAD[@]}" "${cmd[@]}" >"$out" 2>"$out.err" || rc=$?; } 2>"$out.time"
  after=$(cpu_ticks "$SERVER_PID")
  awk -v b="$before" -v a="$after" -v t="$TICKS" '{ if ($3 > 0) printf "%.0f%% / %.0f%%\n", 100 * (a - b) / t / $3, 100 * ($1 + $2) / $3 }' \
    "$out.time" >"${out%.json}.cpu" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    if ! jq -e . "$out" >/dev/null 2>&1; then
      echo "{\"failed\": $(tail -n 3 "$out.err" | jq -Rs .)}" >"$out"
    fi
  fi
}

field() { jq -r "$2 // empty" "$WORK/$1.json"; }
cpu() { [ -n "$1" ] && cat "$WORK/$1.cpu" 2>/dev/null || echo "-"; }
us() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else if (u < 1000) printf "%d µs", u; else printf "%.2f ms", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.0f%%", 100 * a / b }'; }
errs() {
  local n
  n=$(field "$1" .errors)
  if [ -z "$n" ]; then
    field "$1" .failed | tr '\n' ' ' | cut -c1-80
  elif [ "$n" = 0 ]; then
    echo 0
  else
    echo "$n ($(jq -r '.error_kinds | to_entries | map("\(.key): \(.value)") | join(", ")' "$WORK/$1.json"))"
  fi
}

# row WHAT STORE CONNS OURS BASE : a table row comparing two result files (BASE may be "").
row() {
  local what=$1 store=$2 conns=$3 ours=$4 base=$5
  local o_rps b_rps="" b_p99=""
  o_rps=$(field "$ours" .requests_per_sec)
  if [ -n "$base" ]; then
    b_rps=$(field "$base" .requests_per_sec)
    b_p99=$(field "$base" .latency.p99_us)
  fi
  local ttfe="-" b_ttfe="-"
  if [ -n "$(field "$ours" .time_to_first_event.p99_us)" ]; then
    ttfe=$(us "$(field "$ours" .time_to_first_event.p99_us)")
    [ -n "$base" ] && b_ttfe=$(us "$(field "$base" .time_to_first_event.p99_us)")
  fi
  RESULTS+=("| $what | $store | $conns | ${o_rps:--} | ${b_rps:--} | $(ratio "$o_rps" "$b_rps") | $(us "$(field "$ours" .latency.p50_us)") | $(us "$(field "$ours" .latency.p99_us)") | $(us "$b_p99") | $ttfe | $b_ttfe | $(cpu "$ours") | $(cpu "$base") | $(errs "$ours") |")
  printf '%-28s %-9s %3s conns  ours %10s req/s  baseline %10s req/s  ratio %5s  errors %s\n' \
    "$what" "$store" "$conns" "${o_rps:--}" "${b_rps:--}" "$(ratio "$o_rps" "$b_rps")" "$(errs "$ours")"
}

# compare KIND CONNS: ROUNDS alternating runs of the baseline and ours; the pair whose
# ratio is the median becomes b-KIND-CONNS / o-KIND-CONNS. On a shared machine one pair
# can swing by a third either way; the median pair of several is what we report.
compare() {
  local kind=$1 c=$2 r ratios=()
  for r in $(seq 1 "$ROUNDS"); do
    start_server "baseline-$kind-$c-$r" "$BASELINE" --listen 127.0.0.1:0
    bench "b-$kind-$c-$r" --scenario "$kind" -c "$c"
    stop_server
    if [ "$kind" = send ]; then
      start_server "ours-$kind-$c-$r" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
      bench "o-$kind-$c-$r" --scenario send -c "$c"
    else
      # The conformance agent's tck-stream- run: task, working, artifact, completed.
      start_server "ours-$kind-$c-$r" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent conformance
      bench "o-$kind-$c-$r" --scenario stream -c "$c" --message-id-prefix tck-stream-
    fi
    stop_server
    ratios+=("$(awk -v a="$(field "o-$kind-$c-$r" .requests_per_sec)" \
      -v b="$(field "b-$kind-$c-$r" .requests_per_sec)" \
      'BEGIN { print (b > 0 ? a / b : 0) }') $r")
  done
  local mid
  mid=$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n "$(((ROUNDS + 1) / 2))p" | cut -d' ' -f2)
  cp "$WORK/b-$kind-$c-$mid.json" "$WORK/b-$kind-$c.json"
  cp "$WORK/o-$kind-$c-$mid.json" "$WORK/o-$kind-$c.json"
  cp "$WORK/b-$kind-$c-$mid.cpu" "$WORK/b-$kind-$c.cpu" 2>/dev/null || true
  cp "$WORK/o-$kind-$c-$mid.cpu" "$WORK/o-$kind-$c.cpu" 2>/dev/null || true
}

# ttfe_rounds CONNS: the first-event p99 ratio of every streaming round, not only of the
# median pair shown in the table: at saturation it swings with the machine from round to round.
ttfe_rounds() {
  local c=$1 r ratios=()
  for r in $(seq 1 "$ROUNDS"); do
    ratios+=("$(awk -v a="$(field "o-stream-$c-$r" .time_to_first_event.p99_us)" \
      -v b="$(field "b-stream-$c-$r" .time_to_first_event.p99_us)" \
      'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }')")
  done
  local median
  median=$(printf '%s\n' "${ratios[@]}" | tr -d x | grep -v '^-$' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) printf "%.2fx", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "-" }')
  NOTES+=("streaming, $c conns: first event p99, ours / baseline, in each of the $ROUNDS rounds: ${ratios[*]} (median $median)")
}

echo "== baseline vs ours (memory store)"
for c in $CONNS; do
  compare send "$c"
  row "SendMessage (echo)" memory "$c" "o-send-$c" "b-send-$c"
  compare stream "$c"
  row "SendStreamingMessage" memory "$c" "o-stream-$c" "b-stream-$c"
  ttfe_rounds "$c"
done

# HTTP+JSON: the same calls under /rest, compared with our own JSON-RPC rows above (the
# "baseline" columns of these rows are ours over JSON-RPC). One run each.
echo "== HTTP+JSON (REST) vs JSON-RPC (ours, memory store)"
for c in $CONNS; do
  start_server "ours-rest-send-$c" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
  bench "o-rest-send-$c" --transport rest --scenario send -c "$c"
  stop_server
  row "REST SendMessage (vs JSON-RPC)" memory "$c" "o-rest-send-$c" "o-send-$c"
  start_server "ours-rest-stream-$c" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent conformance
  bench "o-rest-stream-$c" --transport rest --scenario stream -c "$c" --message-id-prefix tck-stream-
  stop_server
  row "REST streaming (vs JSON-RPC)" memory "$c" "o-rest-stream-$c" "o-stream-$c"
done

# gRPC (lf.a2a.v1 over h2c on the same port, one HTTP/2 connection per slot, one call in
# flight on each), compared with our own JSON-RPC rows above. One run each.
echo "== gRPC vs JSON-RPC (ours, memory store)"
for c in $CONNS; do
  start_server "ours-grpc-send-$c" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
  bench "o-grpc-send-$c" --transport grpc --scenario send -c "$c"
  stop_server
  row "gRPC SendMessage (vs JSON-RPC)" memory "$c" "o-grpc-send-$c" "o-send-$c"
  start_server "ours-grpc-stream-$c" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent conformance
  bench "o-grpc-stream-$c" --transport grpc --scenario stream -c "$c" --message-id-prefix tck-stream-
  stop_server
  row "gRPC streaming (vs JSON-RPC)" memory "$c" "o-grpc-stream-$c" "o-stream-$c"
done

# tracing_pair CONNS: ROUNDS alternating runs of ours (memory store, SendMessage) with
# tracing off (no OTEL_* variables) and on (the always-on sampler, exporting over OTLP/HTTP
# to benches/otlp_sink.py, which answers 200 at once and discards; on CPU 1 beside the
# load). The median round's on/off ratio goes to the notes, with every round's and what
# the receiver got (no exports would mean the "on" runs measured nothing).
tracing_pair() {
  local c=$1 r ratios=() sink_url=""
  "${PIN_LOAD[@]}" python3 "$ROOT/benches/otlp_sink.py" >"$WORK/otlp-sink.log" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 100); do
    sink_url=$(grep -m1 -o 'http://[^ ]*' "$WORK/otlp-sink.log" 2>/dev/null) && break
    sleep 0.05
  done
  [ -n "$sink_url" ] || { echo "benches/otlp_sink.py did not start" >&2; cat "$WORK/otlp-sink.log" >&2; exit 1; }
  COMMANDS+=("${PIN_LOAD[*]} python3 benches/otlp_sink.py")
  for r in $(seq 1 "$ROUNDS"); do
    start_server "trace-off-$c-$r" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
    bench "t-off-$c-$r" --scenario send -c "$c"
    stop_server
    start_server "trace-on-$c-$r" env OTEL_EXPORTER_OTLP_ENDPOINT="$sink_url" OTEL_TRACES_SAMPLER=always_on \
      "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
    bench "t-on-$c-$r" --scenario send -c "$c"
    stop_server
    ratios+=("$(awk -v a="$(field "t-on-$c-$r" .requests_per_sec)" \
      -v b="$(field "t-off-$c-$r" .requests_per_sec)" \
      'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') $r")
  done
  kill -TERM "$SINK_PID" 2>/dev/null || true
  wait "$SINK_PID" 2>/dev/null || true
  SINK_PID=""
  local got mid each
  got=$(awk '/^exports/ { printf "%s exports, %s bytes", $2, $4; exit }' "$WORK/otlp-sink.log")
  mid=$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n "$(((ROUNDS + 1) / 2))p")
  each=$(printf '%s\n' "${ratios[@]}" | cut -d' ' -f1 | tr '\n' ' ')
  r=${mid#* }
  TRACE_LINE="tracing on / off (SendMessage, memory store, $c connections; on: OTEL_TRACES_SAMPLER=always_on exporting OTLP/HTTP to benches/otlp_sink.py): ${mid%% *} (target at least 0.70) in the median of $ROUNDS rounds: on $(field "t-on-$c-$r" .requests_per_sec) req/s p99 $(us "$(field "t-on-$c-$r" .latency.p99_us)") (server / load CPU $(cpu "t-on-$c-$r")), off $(field "t-off-$c-$r" .requests_per_sec) req/s p99 $(us "$(field "t-off-$c-$r" .latency.p99_us)"); every round: ${each% }; the receiver got ${got:-nothing}, errors on $(errs "t-on-$c-$r")"
  NOTES+=("$TRACE_LINE")
  echo "$TRACE_LINE"
}

echo "== tracing off vs on (memory store)"
tracing_pair 64

c=64
start_server "baseline-get" "$BASELINE" --listen 127.0.0.1:0
bench "b-get" --scenario get -c $c
stop_server
start_server "ours-get" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo
bench "o-get" --scenario get -c $c
stop_server
row "GetTask" memory $c "o-get" "b-get"

echo "== stores"
for c in $CONNS; do
  rm -f "$WORK/bench.db"
  start_server "sqlite-$c" "$A2A" serve --listen 127.0.0.1:0 --store "sqlite://$WORK/bench.db" --agent echo
  bench "o-sqlite-$c" --scenario send -c "$c"
  stop_server
  row "SendMessage (echo)" sqlite "$c" "o-sqlite-$c" "b-send-$c"
done

if [ "$POSTGRES" = 1 ]; then
  PG_QUERY=""
  case "$PG_URL" in *\?*) PG_QUERY="?${PG_URL#*\?}" ;; esac
  PG_BASE="${PG_URL%%\?*}"
  PG_ADMIN="${PG_BASE%/*}/postgres$PG_QUERY"
  PG_DB="${PG_BASE##*/}"
  if psql "$PG_ADMIN" -qtAc 'select 1' >/dev/null 2>&1; then
    # A fresh database each run, so earlier runs' tasks do not weigh on this one.
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
    psql "$PG_ADMIN" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
    SAVED_PIN=("${PIN_SERVER[@]}")
    PIN_SERVER=()
    for c in $CONNS; do
      start_server "pg-$c" "$A2A" serve --listen 127.0.0.1:0 --store "$PG_URL" --agent echo
      bench "o-pg-$c" --scenario send -c "$c"
      stop_server
      row "SendMessage (echo)" "postgres (unpinned)" "$c" "o-pg-$c" "b-send-$c"
    done
    PIN_SERVER=("${SAVED_PIN[@]}")
    if command -v pgbench >/dev/null; then
      PG_DB_URL="${PG_BASE}${PG_QUERY}"
      psql "$PG_DB_URL" -qc "CREATE TABLE IF NOT EXISTS pgbench_inserts (id text PRIMARY KEY, v jsonb)" >/dev/null
      echo "INSERT INTO pgbench_inserts VALUES (gen_random_uuid()::text, '{\"a\": 1}');" >"$WORK/insert.sql"
      PGB_SECS=${DURATION%s}
      PGB_TPS=$(pgbench -n -c 64 -j 2 -T "$PGB_SECS" -f "$WORK/insert.sql" "$PG_DB_URL" 2>/dev/null |
        awk '/^tps/ {printf "%.0f", $3}')
      COMMANDS+=("pgbench -n -c 64 -j 2 -T $PGB_SECS -f insert.sql (INSERT INTO pgbench_inserts VALUES (gen_random_uuid()::text, '{\"a\": 1}'))")
      NOTES+=("pgbench on the same database, 64 clients, one-row INSERT per transaction: ${PGB_TPS:-?} tps.")
      echo "pgbench: ${PGB_TPS:-?} tps"
    fi
  else
    echo "skipping Postgres: $PG_ADMIN is unreachable (set A2A_BENCH_POSTGRES_URL)"
    NOTES+=("Postgres skipped: $PG_ADMIN was unreachable.")
  fi
else
  NOTES+=("Postgres skipped (--quick).")
fi

echo "== subscribe fan-out and push"
start_server "ours-subscribe" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent conformance
bench "o-subscribe" --scenario subscribe --subscribers "$SUBSCRIBERS"
stop_server
SUB_LINE="subscribe fan-out ($SUBSCRIBERS subscribers, one publisher, memory): $(field o-subscribe .metrics.events_per_sec) events/s delivered, $(field o-subscribe .requests_per_sec) publishes/s, delivery p50 $(us "$(field o-subscribe .delivery_latency.p50_us)") p99 $(us "$(field o-subscribe .delivery_latency.p99_us)"), errors $(errs o-subscribe)"
echo "$SUB_LINE"

# The bench's webhook receiver is on loopback, which the server refuses by default.
PUSH_LINES=()
for c in 1 64; do
  start_server "ours-push-$c" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent echo --push-allow-private-networks
  bench "o-push-$c" --scenario push -c "$c"
  stop_server
  out="o-push-$c"
  if [ -n "$(field "$out" .failed)" ]; then
    line="push delivery ($c connections, memory): not measured: $(field "$out" .failed | tr '\n' ' ')"
  elif [ "$(field "$out" .metrics.deliveries)" = 0 ]; then
    line="push delivery ($c connections, memory): the server accepted the push configs but no notification reached the webhook ($(field "$out" .requests_per_sec) SendMessage/s with a config)"
  else
    line="push delivery ($c connections, memory): $(field "$out" .metrics.deliveries_per_sec) deliveries/s ($(field "$out" .metrics.deliveries_per_request) per request), delivery p50 $(us "$(field "$out" .delivery_latency.p50_us)") p99 $(us "$(field "$out" .delivery_latency.p99_us)"), errors $(errs "$out")"
  fi
  echo "$line"
  PUSH_LINES+=("$line")
done

echo "== memory"
start_server "baseline-idle" "$BASELINE" --listen 127.0.0.1:0
sleep 1
BASE_IDLE=$(rss_kb "$SERVER_PID")
stop_server
start_server "ours-idle" "$A2A" serve --listen 127.0.0.1:0 --store memory: --agent conformance
sleep 1
OURS_IDLE=$(rss_kb "$SERVER_PID")
# The held streams on one input-required task, on the same server.
COMMANDS+=("${PIN_LOAD[*]} a2a bench URL --scenario hold --subscribers $HOLD --duration 4s")
"${PIN_LOAD[@]}" "$A2A" bench "$SERVER_URL" --scenario hold --subscribers "$HOLD" --duration 4s --json \
  >"$WORK/hold.json" 2>"$WORK/hold.err" &
LOAD_PID=$!
HOLD_RSS=""
for _ in $(seq 1 1200); do
  if grep -q '^holding' "$WORK/hold.err"; then
    sleep 1
    HOLD_RSS=$(rss_kb "$SERVER_PID")
    break
  fi
  kill -0 "$LOAD_PID" 2>/dev/null || break
  sleep 0.1
done
wait "$LOAD_PID" || true
LOAD_PID=""
stop_server
HELD=$(jq -r '.metrics.held // 0' "$WORK/hold.json" 2>/dev/null || echo 0)
MEM_LINE="idle RSS: ours $(mb "$OURS_IDLE"), baseline $(mb "$BASE_IDLE"); with $HELD of $HOLD SSE subscribers open: ours ${HOLD_RSS:+$(mb "$HOLD_RSS")} (hold errors: $(jq -r '.errors // "?"' "$WORK/hold.json" 2>/dev/null))"
echo "$MEM_LINE"

PY_LINES=()
if [ "$PYTHON" = 1 ]; then
  PY="$ROOT/tests/interop/.venv-v1/bin/python"
  if [ -x "$PY" ]; then
    echo "== official Python SDK server (tests/interop/py_server_v1.py)"
    PORT=$((20000 + RANDOM % 10000))
    "${PIN_SERVER[@]}" "$PY" tests/interop/py_server_v1.py --port "$PORT" >"$WORK/py.log" 2>&1 &
    SERVER_PID=$!
    COMMANDS+=("${PIN_SERVER[*]} tests/interop/.venv-v1/bin/python tests/interop/py_server_v1.py --port $PORT")
    SERVER_URL="http://127.0.0.1:$PORT"
    for _ in $(seq 1 100); do curl -sf "$SERVER_URL/.well-known/agent-card.json" >/dev/null && break; sleep 0.1; done
    bench "py-send" --scenario send-task -c 64
    bench "py-stream" --scenario stream -c 64 --message-id-prefix tck-stream-
    sleep 1
    PY_IDLE=$(rss_kb "$SERVER_PID")
    stop_server
    row "Python SDK: SendMessage" memory 64 "py-send" "b-send-64"
    row "Python SDK: streaming" memory 64 "py-stream" "b-stream-64"
    PY_LINES+=("Python SDK server RSS after the runs: $(mb "$PY_IDLE").")
  else
    echo "skipping the Python SDK: run bash .ci/setup-interop.sh first"
  fi
fi

echo "== storage (benches/store.sh)"
# Issue 23: a follow-up's cost as one task grows to 2,000 messages, statements and round
# trips per SendMessage on Postgres, Postgres SendMessage against pgbench, SQLite against
# OLD_BIN (when given: the release before the issue), ListTasks at 1k/100k/1M tasks.
STORE_OUT=$(A2A_BIN="$A2A" benches/store.sh --no-write $([ "$QUICK" = 1 ] && echo --quick) | tee /dev/stderr)
while IFS= read -r l; do NOTES+=("${l#- }"); done < <(printf '%s\n' "$STORE_OUT" | grep '^- ' | tail -n +3)
COMMANDS+=("A2A_BIN=target/dist/a2a benches/store.sh $([ "$QUICK" = 1 ] && echo --quick)")

echo "== authentication (JWT, benches/auth.sh)"
# SendMessage with one bearer token against no authentication, and with the token cache off.
AUTH_OUT=$(A2A_BIN="$A2A" BENCH_TOKEN_BIN="$TARGET/dist/examples/bench_token" \
  benches/auth.sh $([ "$QUICK" = 1 ] && echo --quick) | tee /dev/stderr)
while IFS= read -r l; do NOTES+=("JWT: ${l#  }"); done < <(printf '%s\n' "$AUTH_OUT" | grep -v '^round' | tail -n 4)
COMMANDS+=("benches/auth.sh $([ "$QUICK" = 1 ] && echo --quick)")

CPU_AFTER=$(cpu_line)
MODEL=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
MEM_TOTAL=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
SECTION="$WORK/section.md"
{
  echo "<!-- bench:begin (generated by benches/run.sh; edit outside the markers) -->"
  echo "## Results$([ "$QUICK" = 1 ] && echo " (quick run: not the reference figures)")"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "- machine: $(nproc) CPUs, $MODEL, $MEM_TOTAL memory; server pinned to CPU 0, load generator to CPU 1"
  echo "- CPU steadiness (a fixed awk loop, fastest-slowest of 5 per CPU): before the runs $CPU_BEFORE; after $CPU_AFTER ($(verdict "$CPU_BEFORE" "$CPU_AFTER"))"
  echo "- each run: $WARMUP warm-up, then $DURATION measured; one keep-alive connection per slot; a fresh messageId per request"
  echo "- memory-store SendMessage and streaming rows: $ROUNDS alternating runs of the baseline and ours; the pair with the median ratio is shown (the other rows: one run)"
  echo "- baseline: \`examples/baseline.rs\` (bare hyper 1 + serde_json, fixed replies; its stream is 5 events)"
  echo "- CPU columns: the share of one CPU the server and the load generator used over the run; the side near 100% bounds it (a server that is not saturated answers with a tighter latency spread)"
  echo
  echo "| what | store | conns | ours req/s | baseline req/s | ours / baseline | ours p50 | ours p99 | baseline p99 | ours first event p99 | baseline first event p99 | ours CPU: server / load | baseline CPU: server / load | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${RESULTS[@]}"
  echo
  echo "- $SUB_LINE"
  for l in "${PUSH_LINES[@]}"; do echo "- $l"; done
  echo "- $MEM_LINE"
  for l in "${PY_LINES[@]}" "${NOTES[@]}"; do echo "- $l"; done
  echo
  echo "Commands (URL is the address the server printed):"
  echo
  echo '```'
  echo "benches/run.sh $*"
  printf '%s\n' "${COMMANDS[@]}" | sed "s|$ROOT/||g; s|$WORK|\$TMP|g" | awk '!seen[$0]++'
  echo '```'
  echo "<!-- bench:end -->"
} >"$SECTION"

echo
cat "$SECTION"
if [ "$WRITE" = 1 ]; then
  if [ -f BENCHMARKS.md ] && grep -q '<!-- bench:begin' BENCHMARKS.md; then
    awk -v f="$SECTION" '
      /<!-- bench:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
      /<!-- bench:end/ { skip = 0; next }
      !skip { print }' BENCHMARKS.md >"$WORK/new.md"
    cp "$WORK/new.md" BENCHMARKS.md
  else
    {
      [ -f BENCHMARKS.md ] && cat BENCHMARKS.md && echo
      [ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nReproduce with `benches/run.sh` (see its header).\n\n'
      cat "$SECTION"
    } >"$WORK/new.md"
    cp "$WORK/new.md" BENCHMARKS.md
  fi
  echo "wrote BENCHMARKS.md"
fi
