-- Retries are marked by an Idempotency-Key header, not by a reused messageId: a
-- messageId is the client's name for a message, and clients reuse it. The key table
-- replaces the message-id index. A key is scoped by tenant, owner and agent; its record
-- says what the first request answered (a task and where its answer began, or a bare
-- message) and is written in the statement that writes that task.

DROP TABLE a2a_message_ids;

CREATE TABLE a2a_idempotency_keys (
    tenant      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    agent       TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- A hash of the method and the params (src/protocol/idempotency.rs): the same
    -- key with another request is refused.
    fingerprint TEXT NOT NULL,
    -- The task created or continued (no foreign key: a purged task's key just answers
    -- that the task is gone), and the sequence number its answer began after.
    task_id     TEXT COLLATE "C",
    after_seq   BIGINT NOT NULL,
    -- A bare message answer, as JSON text (JSONB would refuse U+0000 in it).
    reply       TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, owner, agent, key)
);

-- The purge of expired keys.
CREATE INDEX a2a_idempotency_keys_expiry ON a2a_idempotency_keys (expires_at);
