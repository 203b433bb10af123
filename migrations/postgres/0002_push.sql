-- Push notifications: webhook configs per task, and the transactional outbox of
-- notifications still to deliver (written in the same transaction as their event).

-- How many push configs the task has: commits skip the outbox when it is zero.
ALTER TABLE a2a_tasks ADD COLUMN push_configs BIGINT NOT NULL DEFAULT 0;

CREATE TABLE a2a_push_configs (
    task_id        TEXT COLLATE "C" NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    id             TEXT COLLATE "C" NOT NULL,
    url            TEXT NOT NULL,
    token          TEXT,
    authentication JSONB,
    origin         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (task_id, id)
);

-- One row per (event, config) still to deliver. The webhook's address and credentials
-- are copied in, so a row is deliverable on its own. Delivered rows are deleted;
-- rows that exhausted their attempts keep `dead_at` (dead letters).
CREATE TABLE a2a_push_outbox (
    id              BIGSERIAL PRIMARY KEY,
    task_id         TEXT COLLATE "C" NOT NULL,
    config_id       TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    origin          TEXT NOT NULL,
    url             TEXT NOT NULL,
    token           TEXT,
    authentication  JSONB,
    payload         JSONB NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    last_error      TEXT,
    dead_at         BIGINT,
    FOREIGN KEY (task_id, config_id) REFERENCES a2a_push_configs (task_id, id) ON DELETE CASCADE
);

-- Per-webhook order: the head of each config's queue.
CREATE INDEX a2a_push_outbox_queue ON a2a_push_outbox (task_id, config_id, id) WHERE dead_at IS NULL;
-- The worker's scan for due rows.
CREATE INDEX a2a_push_outbox_due ON a2a_push_outbox (next_attempt_at, id) WHERE dead_at IS NULL;
CREATE INDEX a2a_push_outbox_dead ON a2a_push_outbox (dead_at) WHERE dead_at IS NOT NULL;
