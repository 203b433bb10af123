-- Task store schema (PostgreSQL). Times are unix milliseconds. Task ids compare
-- byte-wise (COLLATE "C") so list order and page tokens match every backend.

CREATE TABLE a2a_tasks (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    context_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    status_ts   BIGINT NOT NULL,
    origin      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    task        JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- The server process running the agent while the task is active, and until when
    -- its lease holds; a lapsed lease means that process died (crash recovery).
    runner      TEXT,
    lease_until BIGINT
);

-- ListTasks: newest status first, then id, within a scope (optionally one context).
CREATE INDEX a2a_tasks_list ON a2a_tasks (tenant, owner, status_ts DESC, id DESC);
CREATE INDEX a2a_tasks_context ON a2a_tasks (tenant, owner, context_id, status_ts DESC, id DESC);
-- Retention: terminal tasks older than a cut-off.
CREATE INDEX a2a_tasks_purge ON a2a_tasks (state, status_ts);
-- Crash recovery finds lapsed leases; heartbeats renew one runner's.
CREATE INDEX a2a_tasks_lease ON a2a_tasks (lease_until) WHERE runner IS NOT NULL;
CREATE INDEX a2a_tasks_runner ON a2a_tasks (runner) WHERE runner IS NOT NULL;

CREATE TABLE a2a_task_events (
    task_id     TEXT COLLATE "C" NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    event       JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq)
);

CREATE TABLE a2a_message_ids (
    tenant      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    task_id     TEXT COLLATE "C" NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, owner, message_id)
);

-- The cascade from a2a_tasks looks message ids up by task.
CREATE INDEX a2a_message_ids_task ON a2a_message_ids (task_id);
