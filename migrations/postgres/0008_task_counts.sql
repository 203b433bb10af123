-- ListTasks' totalSize from counters, not a COUNT over every task of the caller
-- (issue 23): the number of tasks per scope and state, kept by triggers in the
-- transaction that inserts, deletes or changes the state of a task, whatever statement
-- does it. Each connection adds to its own shard of a counter (its backend pid modulo 8),
-- so concurrent commits do not queue on one row; a total is the sum of the shards.
-- Every statement touches counter rows in key order, so two never deadlock.

CREATE TABLE a2a_task_counts (
    tenant TEXT NOT NULL,
    owner  TEXT NOT NULL,
    state  TEXT NOT NULL,
    shard  SMALLINT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (tenant, owner, state, shard)
);

INSERT INTO a2a_task_counts (tenant, owner, state, shard, n)
SELECT tenant, owner, state, 0, count(*) FROM a2a_tasks GROUP BY tenant, owner, state;

CREATE FUNCTION a2a_task_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO a2a_task_counts AS c (tenant, owner, state, shard, n)
        SELECT tenant, owner, state, pg_backend_pid() % 8, count(*) FROM added
        GROUP BY tenant, owner, state ORDER BY tenant, owner, state
        ON CONFLICT (tenant, owner, state, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO a2a_task_counts AS c (tenant, owner, state, shard, n)
        SELECT tenant, owner, state, pg_backend_pid() % 8, -count(*) FROM removed
        GROUP BY tenant, owner, state ORDER BY tenant, owner, state
        ON CONFLICT (tenant, owner, state, shard) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;

-- A state change moves one task from one counter to another. Row-level, as a column
-- list and transition tables do not go together; the WHEN clause keeps commits that do
-- not change the state (most of them) from calling the function at all.
CREATE FUNCTION a2a_task_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO a2a_task_counts AS c (tenant, owner, state, shard, n)
    SELECT NEW.tenant, NEW.owner, s, pg_backend_pid() % 8, d
    FROM (VALUES (OLD.state, -1), (NEW.state, 1)) AS v(s, d) ORDER BY s
    ON CONFLICT (tenant, owner, state, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER a2a_task_counts_insert AFTER INSERT ON a2a_tasks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION a2a_task_counts_add();
CREATE TRIGGER a2a_task_counts_delete AFTER DELETE ON a2a_tasks
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION a2a_task_counts_add();
CREATE TRIGGER a2a_task_counts_state AFTER UPDATE OF state ON a2a_tasks
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION a2a_task_counts_move();

-- ListTasks with a status filter: the scope's tasks of one state, newest status first.
CREATE INDEX a2a_tasks_list_state ON a2a_tasks (tenant, owner, state, status_ts DESC, id DESC);
