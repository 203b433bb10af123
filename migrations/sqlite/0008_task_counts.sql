-- ListTasks' totalSize from counters, not a COUNT over every task of the caller
-- (issue 23): the number of tasks per scope and state, kept by triggers in the
-- transaction that inserts, deletes or changes the state of a task. `shard` is always 0
-- here (one writer at a time); PostgreSQL spreads its writers over shards.

CREATE TABLE a2a_task_counts (
    tenant TEXT NOT NULL,
    owner  TEXT NOT NULL,
    state  TEXT NOT NULL,
    shard  INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (tenant, owner, state, shard)
) WITHOUT ROWID;

INSERT INTO a2a_task_counts (tenant, owner, state, shard, n)
SELECT tenant, owner, state, 0, count(*) FROM a2a_tasks GROUP BY tenant, owner, state;

CREATE TRIGGER a2a_task_counts_insert AFTER INSERT ON a2a_tasks BEGIN
    INSERT INTO a2a_task_counts (tenant, owner, state, shard, n)
    VALUES (NEW.tenant, NEW.owner, NEW.state, 0, 1)
    ON CONFLICT (tenant, owner, state, shard) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER a2a_task_counts_delete AFTER DELETE ON a2a_tasks BEGIN
    UPDATE a2a_task_counts SET n = n - 1
    WHERE tenant = OLD.tenant AND owner = OLD.owner AND state = OLD.state AND shard = 0;
END;

CREATE TRIGGER a2a_task_counts_state AFTER UPDATE OF state ON a2a_tasks
WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE a2a_task_counts SET n = n - 1
    WHERE tenant = OLD.tenant AND owner = OLD.owner AND state = OLD.state AND shard = 0;
    INSERT INTO a2a_task_counts (tenant, owner, state, shard, n)
    VALUES (NEW.tenant, NEW.owner, NEW.state, 0, 1)
    ON CONFLICT (tenant, owner, state, shard) DO UPDATE SET n = n + 1;
END;

-- ListTasks with a status filter: the scope's tasks of one state, newest status first.
CREATE INDEX a2a_tasks_list_state ON a2a_tasks (tenant, owner, state, status_ts DESC, id DESC);
