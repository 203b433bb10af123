-- Task store schema (SQLite). Times are unix milliseconds; TEXT compares byte-wise
-- (BINARY), like Rust strings. Foreign keys need `PRAGMA foreign_keys = ON`, which the
-- store sets on every connection.

CREATE TABLE a2a_tasks (
    id          TEXT NOT NULL PRIMARY KEY,
    tenant      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    context_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    status_ts   INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    task        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- The server process running the agent while the task is active, and until when
    -- its lease holds; a lapsed lease means that process died (crash recovery).
    runner      TEXT,
    lease_until INTEGER
) STRICT;

-- ListTasks: newest status first, then id, within a scope (optionally one context).
CREATE INDEX a2a_tasks_list ON a2a_tasks (tenant, owner, status_ts DESC, id DESC);
CREATE INDEX a2a_tasks_context ON a2a_tasks (tenant, owner, context_id, status_ts DESC, id DESC);
-- Retention: terminal tasks older than a cut-off.
CREATE INDEX a2a_tasks_purge ON a2a_tasks (state, status_ts);
-- Crash recovery finds lapsed leases; heartbeats renew one runner's.
CREATE INDEX a2a_tasks_lease ON a2a_tasks (lease_until) WHERE runner IS NOT NULL;
CREATE INDEX a2a_tasks_runner ON a2a_tasks (runner) WHERE runner IS NOT NULL;

CREATE TABLE a2a_task_events (
    task_id     TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    event       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (task_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE a2a_message_ids (
    tenant      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    task_id     TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, owner, message_id)
) STRICT, WITHOUT ROWID;

-- The cascade from a2a_tasks looks message ids up by task.
CREATE INDEX a2a_message_ids_task ON a2a_message_ids (task_id);
