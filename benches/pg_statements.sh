#!/usr/bin/env bash
# Statements and round trips to Postgres per SendMessage (issue 23): N sends of the echo
# agent over one connection, one at a time, against a scratch database whose sessions
# log every statement (log_statement = all, set on that database only). Statements:
# the log's lines of that database during the sends, by kind. Round trips: the writes the
# server makes to its Postgres sockets (strace), as sqlx writes each request, a
# statement or a connection check, at once and then waits for the answer. Idle
# background work (the push worker's polls) is measured alone for as long and taken off.
#
#   A2A_BIN=target/release/a2a benches/pg_statements.sh [N]
#
# Needs strace, and read access to the Postgres log (/var/log/postgresql/*.log).
# Postgres: A2A_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/a2a_stmts?sslmode=disable), recreated each run.
set -euo pipefail
BIN=${A2A_BIN:?the a2a binary to measure}
LOAD=${A2A_LOAD_BIN:-$BIN}
N=${1:-500}
PG_URL=${A2A_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/a2a_stmts?sslmode=disable}
PG_BASE=${PG_URL%%\?*}
PG_ADMIN="${PG_BASE%/*}/postgres"
PG_DB=${PG_BASE##*/}
LOG=$(ls -t /var/log/postgresql/*.log | head -1)
WORK=$(mktemp -d)
PID=""
SPID=""
trap '[ -n "$SPID" ] && kill $SPID 2>/dev/null; [ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1
psql "$PG_ADMIN" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
psql "$PG_ADMIN" -qc "ALTER DATABASE \"$PG_DB\" SET log_statement = 'all'" >/dev/null

"$BIN" serve --listen 127.0.0.1:0 --store "$PG_URL" --agent echo >"$WORK/server.log" 2>&1 &
PID=$!
URL=""
for _ in $(seq 600); do
  URL=$(grep -m1 -o 'listening on http://[^ ]*' "$WORK/server.log" 2>/dev/null) && break
  sleep 0.05
done
URL=${URL#listening on }
# Warm up: every statement prepared, the pool's connections open.
"$LOAD" bench "$URL" --scenario send -c 1 -n 50 --warmup 0 --json >/dev/null

# window SECONDS-OR-SENDS: log lines and Postgres writes during it.
window() {
  local from=$(($(wc -l <"$LOG") + 1))
  strace -f -qq -e trace=write,writev,sendto,sendmsg -p "$PID" -o "$WORK/strace" 2>/dev/null &
  SPID=$!
  sleep 0.5
  local t0=$(date +%s%N)
  if [ "$1" = idle ]; then sleep "$2"; else "$LOAD" bench "$URL" --scenario send -c 1 -n "$N" --warmup 0 --json >/dev/null; fi
  local t1=$(date +%s%N)
  sleep 0.3
  kill $SPID; wait $SPID 2>/dev/null || true; SPID=""
  ELAPSED=$(((t1 - t0) / 1000000))
  tail -n +"$from" "$LOG" | grep -a "@$PG_DB LOG:  \(statement\|execute\)" |
    sed -E 's/.*LOG:  (statement|execute [^:]*): *//' | cut -c1-60 | sort | uniq -c | sort -rn >"$WORK/$1.stmts" || true
  # The server's sockets to Postgres, by fd number.
  local inodes fds
  inodes=$(awk 'NR > 1 && $3 ~ /:1538$/ { print $10 }' /proc/net/tcp /proc/net/tcp6 | sort -u)
  fds=$(for f in /proc/"$PID"/fd/*; do
    l=$(readlink "$f" 2>/dev/null) || continue
    for i in $inodes; do [ "$l" = "socket:[$i]" ] && echo "${f##*/}"; done
  done | sort -u | paste -sd'|' || true)
  # A round trip ends with a Sync (the extended protocol: a statement, or the pool's
  # connection check) or is one simple Query (BEGIN, COMMIT).
  grep -cE "^[0-9]+ +(write|writev|sendto|sendmsg)\(($fds), \"(S\\\\0\\\\0\\\\0\\\\4\", 5,|Q)" "$WORK/strace" >"$WORK/$1.trips" || echo 0 >"$WORK/$1.trips"
  echo "$ELAPSED" >"$WORK/$1.ms"
  if [ -n "${KEEP_STRACE:-}" ]; then cp "$WORK/strace" "$KEEP_STRACE.$1"; echo "$fds" >"$KEEP_STRACE.fds"; fi
}

window send
SEND_MS=$(cat "$WORK/send.ms")
window idle "$(awk -v ms="$SEND_MS" 'BEGIN { printf "%.2f", ms / 1000 }')"
stmts=$(awk '{ s += $1 } END { print s + 0 }' "$WORK/send.stmts")
idle_stmts=$(awk '{ s += $1 } END { print s + 0 }' "$WORK/idle.stmts")
trips=$(cat "$WORK/send.trips")
idle_trips=$(cat "$WORK/idle.trips")
echo "Postgres per SendMessage ($N sends, one connection, $SEND_MS ms; idle background over as long: $idle_stmts statements, $idle_trips round trips):"
awk -v n="$N" -v s="$stmts" -v i="$idle_stmts" -v t="$trips" -v it="$idle_trips" 'BEGIN {
  printf "  statements %.2f, round trips %.2f\n", (s - i) / n, (t - it) / n }'
echo "  by statement (per send, idle not taken off):"
awk -v n="$N" '{ c = $1; $1 = ""; printf "    %.2f %s\n", c / n, $0 }' "$WORK/send.stmts" | head -12
