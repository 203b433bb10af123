-- Push notifications: webhook configs per task, and the transactional outbox of
-- notifications still to deliver (written in the same transaction as their event).

-- How many push configs the task has: commits skip the outbox when it is zero.
ALTER TABLE a2a_tasks ADD COLUMN push_configs INTEGER NOT NULL DEFAULT 0;

CREATE TABLE a2a_push_configs (
    task_id        TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    url            TEXT NOT NULL,
    token          TEXT,
    authentication TEXT,
    origin         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (task_id, id)
) STRICT, WITHOUT ROWID;

-- One row per (event, config) still to deliver. The webhook's address and credentials
-- are copied in, so a row is deliverable on its own. Delivered rows are deleted;
-- rows that exhausted their attempts keep `dead_at` (dead letters).
CREATE TABLE a2a_push_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id         TEXT NOT NULL,
    config_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    origin          TEXT NOT NULL,
    url             TEXT NOT NULL,
    token           TEXT,
    authentication  TEXT,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER,
    last_error      TEXT,
    dead_at         INTEGER,
    FOREIGN KEY (task_id, config_id) REFERENCES a2a_push_configs (task_id, id) ON DELETE CASCADE
) STRICT;

-- Per-webhook order: the head of each config's queue.
CREATE INDEX a2a_push_outbox_queue ON a2a_push_outbox (task_id, config_id, id) WHERE dead_at IS NULL;
-- The worker's scan for due rows.
CREATE INDEX a2a_push_outbox_due ON a2a_push_outbox (next_attempt_at, id) WHERE dead_at IS NULL;
CREATE INDEX a2a_push_outbox_dead ON a2a_push_outbox (dead_at) WHERE dead_at IS NOT NULL;
