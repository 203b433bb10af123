#!/usr/bin/env bash
# The cost of a follow-up as a task grows (issue 23): one task in the `conformance` agent's
# input-required loop (benches/long_task.py, one connection, historyLength 0), timed at
# about 10, 500 and 2,000 messages on each store, and the Postgres table sizes after (after
# a VACUUM, which autovacuum would do: dead row versions are reused, not kept). One line per
# store; the target is the 2,000-message cost at most 1.5x the 10-message one, and the
# task's Postgres storage at most 3x the bytes of its messages.
#
#   A2A_BIN=target/dist/a2a benches/long_task.sh [--stores memory,sqlite,postgres]
#
# Postgres: A2A_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/a2a_long?sslmode=disable), recreated each run.
set -euo pipefail
BIN=${A2A_BIN:?the a2a binary to measure}
STORES=memory,sqlite,postgres
[ "${1:-}" = --stores ] && STORES=$2
PG_URL=${A2A_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/a2a_long?sslmode=disable}
PG_BASE=${PG_URL%%\?*}
PG_ADMIN="${PG_BASE%/*}/postgres"
PG_DB=${PG_BASE##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

run() { # store-name store-url
  "$BIN" serve --listen 127.0.0.1:0 --store "$2" --agent conformance >"$WORK/$1.log" 2>&1 &
  PID=$!
  local url=""
  for _ in $(seq 300); do
    url=$(grep -m1 -o 'listening on http://[^ ]*' "$WORK/$1.log" 2>/dev/null) && break
    sleep 0.05
  done
  url=${url#listening on }
  local out
  out=$(python3 "$HERE/long_task.py" "$url")
  kill $PID; wait $PID 2>/dev/null || true; PID=""
  local sizes=""
  if [ "$1" = postgres ]; then
    psql "$PG_BASE" -qc 'VACUUM' >/dev/null
    sizes=$(psql "$PG_BASE" -qtAc "SELECT string_agg(format('%s %s', c, pg_size_pretty(pg_total_relation_size(c))), ', ')
      || format(' (total %s)', sum(pg_total_relation_size(c)))
      FROM unnest(ARRAY['a2a_tasks', 'a2a_task_events']) c")
  fi
  echo "$out" | jq -r --arg s "$1" --arg sizes "$sizes" '
    "\($s): follow-up at 10 messages \(.ms["10"]) ms, at 500 \(.ms["500"]) ms, at 2,000 \(.ms["2000"]) ms (\(.ms["2000"] / .ms["10"] * 100 | round / 100)x); \(.messages) messages, \(.message_bytes) bytes" + (if $sizes != "" then "; Postgres after: \($sizes)" else "" end)'
}

for s in ${STORES//,/ }; do
  case $s in
    memory) run memory memory: ;;
    sqlite) run sqlite "sqlite://$WORK/long.db" ;;
    postgres)
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
      psql "$PG_ADMIN" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
      run postgres "$PG_URL" ;;
  esac
done
