#!/usr/bin/env bash
# SendMessage against the stores (issue 23), in one run:
#  - Postgres: our SendMessage (echo agent, 64 connections, unpinned) and pgbench (one-row
#    INSERT per transaction, 64 clients) on the same database, alternating, ROUNDS times;
#    for each, the rate and the CPU time the Postgres processes spent per task or per
#    transaction (from /proc: every process named postgres, the checkpointer and WAL
#    writer included).
#  - SQLite: this binary and OLD_BIN (the release before the issue), alternating, 64
#    connections, server pinned to CPU 0 and load to CPU 1, ROUNDS times.
#
#   A2A_BIN=target/dist/a2a [OLD_BIN=...] benches/store_send.sh [--rounds 3] [--secs 8]
#
# Postgres: A2A_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/a2a_send?sslmode=disable), recreated each round.
set -euo pipefail
BIN=${A2A_BIN:?the a2a binary to measure}
OLD=${OLD_BIN:-}
ROUNDS=3
SECS=8
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --secs) SECS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
PG_URL=${A2A_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/a2a_send?sslmode=disable}
PG_BASE=${PG_URL%%\?*}
PG_ADMIN="${PG_BASE%/*}/postgres"
PG_DB=${PG_BASE##*/}
TICKS=$(getconf CLK_TCK)
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

URL=""
start() { # pin binary store-url
  local pin=()
  [ "$1" = pin ] && pin=(taskset -c 0)
  rm -f "$WORK/server.log" # a stale log would give the last server's address
  "${pin[@]}" "$2" serve --listen 127.0.0.1:0 --store "$3" --agent echo >"$WORK/server.log" 2>&1 &
  PID=$!
  URL=""
  for _ in $(seq 600); do
    URL=$(grep -m1 -o 'listening on http://[^ ]*' "$WORK/server.log" 2>/dev/null) && break
    sleep 0.05
  done
  [ -n "$URL" ] || { cat "$WORK/server.log" >&2; exit 1; }
  URL=${URL#listening on }
}
stop() { kill $PID; wait $PID 2>/dev/null || true; PID=""; }
# CPU ticks (user + system) of every postgres process, and of the ones that ended (their
# parent, the postmaster, collects them: pgbench's backends end with it).
pg_ticks() {
  local t=0 f
  for f in /proc/[0-9]*/stat; do
    read -r line <"$f" 2>/dev/null || continue
    case $line in *"(postgres)"*) ;; *) continue ;; esac
    set -- ${line#*) }
    t=$((t + ${12} + ${13} + ${14} + ${15}))
  done
  echo $t
}
pid_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# window: the CPU ticks Postgres (PG_D) and our server (SRV_D, when running) use per
# second in the middle of a run (its first and last second left out: connections open
# and close there), sampled from /proc while the load runs in the background.
window() {
  sleep 1
  local b s t0 a sa t1
  local i0 i1
  b=$(pg_ticks); s=$([ -n "$PID" ] && pid_ticks "$PID" || echo 0); t0=$(date +%s%N); i0=$(idle_busy)
  sleep $((SECS - 2))
  a=$(pg_ticks); sa=$([ -n "$PID" ] && pid_ticks "$PID" || echo 0); t1=$(date +%s%N); i1=$(idle_busy)
  BUSY=$(awk -v a="$i0" -v b="$i1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[2] - x[2]) / ((y[1] + y[2]) - (x[1] + x[2])) }')
  PG_D=$(awk -v d=$((a - b)) -v ns=$((t1 - t0)) 'BEGIN { print d / (ns / 1e9) }')
  SRV_D=$(awk -v d=$((sa - s)) -v ns=$((t1 - t0)) 'BEGIN { print d / (ns / 1e9) }')
}
# "IDLE BUSY": the machine's idle and busy ticks so far, from /proc/stat.
idle_busy() { awk '/^cpu / { idle = $5 + $6; busy = $2 + $3 + $4 + $7 + $8 + $9; print idle, busy }' /proc/stat; }
# per_op TICKS-PER-SECOND OPS-PER-SECOND: CPU µs per operation.
per_op() { awk -v d="$1" -v r="$2" -v t="$TICKS" 'BEGIN { printf "%.0f", d / t * 1e6 / r }'; }
fresh_db() {
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1
  psql "$PG_ADMIN" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
}

LINES=()
if psql "$PG_ADMIN" -qtAc 'select 1' >/dev/null 2>&1 && command -v pgbench >/dev/null; then
  for r in $(seq "$ROUNDS"); do
    fresh_db
    start nopin "$BIN" "$PG_URL"
    "$BIN" bench "$URL" --scenario send -c 64 --duration 2s --warmup 0 --json >/dev/null
    "$BIN" bench "$URL" --scenario send -c 64 --duration "${SECS}s" --warmup 0 --json >"$WORK/ours.json" &
    window
    wait $!
    stop
    ours_rps=$(jq -r .requests_per_sec "$WORK/ours.json")
    ours_pg_us=$(per_op "$PG_D" "$ours_rps")
    ours_srv_us=$(per_op "$SRV_D" "$ours_rps")
    ours_busy=$BUSY

    psql "$PG_BASE" -qc "CREATE TABLE pgbench_inserts (id text PRIMARY KEY, v jsonb)" >/dev/null
    echo "INSERT INTO pgbench_inserts VALUES (gen_random_uuid()::text, '{\"a\": 1}');" >"$WORK/insert.sql"
    pgbench -n -c 64 -j 2 -T 2 -f "$WORK/insert.sql" "$PG_BASE" >/dev/null 2>&1
    pgbench -n -c 64 -j 2 -T "$SECS" -f "$WORK/insert.sql" "$PG_BASE" >"$WORK/pgbench.out" 2>/dev/null &
    window
    wait $!
    pgb_tps=$(awk '/^tps/ { printf "%.0f", $3 }' "$WORK/pgbench.out")
    pgb_pg_us=$(per_op "$PG_D" "$pgb_tps")
    pgb_busy=$BUSY
    LINES+=("$(awk -v r="$r" -v o="$ours_rps" -v p="$pgb_tps" -v oc="$ours_pg_us" -v pc="$pgb_pg_us" -v sc="$ours_srv_us" -v ob="$ours_busy" -v pb="$pgb_busy" 'BEGIN {
      printf "Postgres round %d: our SendMessage (64 conns) %.0f/s, pgbench (one-row INSERT, 64 clients) %d tps, ratio %.2f; Postgres CPU per task %d µs, per pgbench transaction %d µs (%.2fx); our server %d µs per task; both CPUs busy %d%% (ours) / %d%% (pgbench)", r, o, p, o / p, oc, pc, oc / pc, sc, ob, pb }')")
    echo "${LINES[-1]}" >&2
  done
else
  echo "Postgres or pgbench unavailable: Postgres rounds skipped" >&2
fi

if [ -n "$OLD" ]; then
  for r in $(seq "$ROUNDS"); do
    for which in old new; do
      bin=$BIN; [ $which = old ] && bin=$OLD
      rm -f "$WORK"/send.db*
      start pin "$bin" "sqlite://$WORK/send.db"
      taskset -c 1 "$BIN" bench "$URL" --scenario send -c 64 --duration "${SECS}s" --warmup 2s --json >"$WORK/$which.json"
      stop
    done
    LINES+=("$(jq -rs --arg r "$r" '"SQLite round \($r): SendMessage (echo, 64 conns) before the issue \(.[0].requests_per_sec | round)/s, now \(.[1].requests_per_sec | round)/s (\(.[1].requests_per_sec / .[0].requests_per_sec * 100 | round / 100)x)"' "$WORK/old.json" "$WORK/new.json")")
    echo "${LINES[-1]}" >&2
  done
fi
printf '%s\n' "${LINES[@]}"
