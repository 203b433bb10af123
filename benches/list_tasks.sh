#!/usr/bin/env bash
# ListTasks as tasks pile up (issue 23): a page of 50, with and without the status
# filter, timed through the server (benches/list_tasks.py) at 1,000, 100,000 and
# 1,000,000 tasks of one caller on each store. The target: at 1M within 2x of 1k.
#
# Memory tasks go in through the server (`a2a bench --scenario send`, echo agent). SQL
# tasks go straight into the table with one bulk INSERT per step (a quarter working, the
# rest completed), which fires the same triggers as the server's own inserts. Postgres's
# statistics are taken at 1,000 tasks and autovacuum is off for the table, so the later
# steps run on statistics that are 1,000x stale, the case that misled the planner before.
#
#   A2A_BIN=target/dist/a2a benches/list_tasks.sh [--stores memory,sqlite,postgres] [--max 1000000]
#
# Postgres: A2A_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/a2a_list?sslmode=disable), recreated each run.
set -euo pipefail
BIN=${A2A_BIN:?the a2a binary to measure}
STORES=memory,sqlite,postgres
MAX=1000000
while [ $# -gt 0 ]; do
  case $1 in
    --stores) STORES=$2; shift 2 ;;
    --max) MAX=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
STEPS="1000 100000 $MAX"
PG_URL=${A2A_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/a2a_list?sslmode=disable}
PG_BASE=${PG_URL%%\?*}
PG_ADMIN="${PG_BASE%/*}/postgres"
PG_DB=${PG_BASE##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

URL=""
start() { # store-url
  rm -f "$WORK/server.log" # a stale log would give the last server's address
  "$BIN" serve --listen 127.0.0.1:0 --store "$1" --agent echo >"$WORK/server.log" 2>&1 &
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

# The row of task number i (SQL expression text for both dialects, `i` a column).
row_sql() { # timestamp-expression json-type
  cat <<SQL
SELECT 'bulk-' || i, '', '', 'ctx-' || (i % 1000),
       CASE WHEN i % 4 = 0 THEN 'TASK_STATE_WORKING' ELSE 'TASK_STATE_COMPLETED' END,
       1700000000000 + i * 10, '1.0', 1, 0,
       CAST('{"id":"bulk-' || i || '","contextId":"ctx-' || (i % 1000)
         || '","status":{"state":"' || CASE WHEN i % 4 = 0 THEN 'TASK_STATE_WORKING' ELSE 'TASK_STATE_COMPLETED' END
         || '","timestamp":"' || $1 || '"}}' AS $2),
       1700000000000 + i * 10, 1700000000000 + i * 10, 0, 0
SQL
}
COLS="id, tenant, owner, context_id, state, status_ts, origin, version, last_seq, task, created_at, updated_at, push_configs, messages"

measure() { # store from to
  local out
  out=$(python3 "$HERE/list_tasks.py" "$URL") || { echo "ListTasks failed; the server's log:" >&2; tail -n 20 "$WORK/server.log" >&2; exit 1; }
  echo "$out" | jq -c --arg s "$1" --argjson n "$3" '{store: $s, tasks: $n} + .'
}

results=()
for s in ${STORES//,/ }; do
  have=0
  case $s in
    memory)
      start memory:
      for n in $STEPS; do
        "$BIN" bench "$URL" --scenario send -c 16 -n $((n - have)) --warmup 0 --json >/dev/null
        have=$n
        results+=("$(measure memory "$have" "$n")")
      done
      stop ;;
    sqlite)
      db="$WORK/list.db"
      start "sqlite://$db"; stop
      for n in $STEPS; do
        sqlite3 "$db" "PRAGMA journal_mode=WAL; WITH RECURSIVE g(i) AS (SELECT $((have + 1)) UNION ALL SELECT i + 1 FROM g WHERE i < $n)
          INSERT INTO a2a_tasks ($COLS) $(row_sql "strftime('%Y-%m-%dT%H:%M:%fZ', (1700000000000 + i * 10) / 1000.0, 'unixepoch')" TEXT) FROM g;" >/dev/null
        have=$n
        start "sqlite://$db"
        results+=("$(measure sqlite "$have" "$n")")
        stop
      done ;;
    postgres)
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
      psql "$PG_ADMIN" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
      start "$PG_URL"; stop
      psql "$PG_BASE" -qc "ALTER TABLE a2a_tasks SET (autovacuum_enabled = off)" >/dev/null
      for n in $STEPS; do
        psql "$PG_BASE" -qc "INSERT INTO a2a_tasks ($COLS) $(row_sql "to_char(to_timestamp((1700000000000 + i * 10) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')" json) FROM generate_series($((have + 1)), $n) i" >/dev/null
        [ "$have" = 0 ] && psql "$PG_BASE" -qc "ANALYZE" >/dev/null
        have=$n
        start "$PG_URL"
        results+=("$(measure postgres "$have" "$n")")
        stop
      done ;;
  esac
done
printf '%s\n' "${results[@]}" | jq -rs '
  group_by(.store)[] | . as $r | ($r | min_by(.tasks)) as $small |
  "\($r[0].store): ListTasks pageSize 50 at " +
  ([$r[] | "\(.tasks): \(.all.ms) ms (totalSize \(.all.total)), status filter \(.completed.ms) ms (\(.completed.total))"] | join("; ")) +
  "; at the most / at the fewest: \(($r | max_by(.tasks)).all.ms / $small.all.ms * 100 | round / 100)x, status filter \(($r | max_by(.tasks)).completed.ms / $small.completed.ms * 100 | round / 100)x"'
