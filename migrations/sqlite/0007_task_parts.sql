-- A task's history and artifacts leave its row: see migrations/postgres/0007.

ALTER TABLE a2a_tasks ADD COLUMN messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE a2a_task_events ADD COLUMN msgs INTEGER;
ALTER TABLE a2a_task_events ADD COLUMN artifact INTEGER;

WITH n AS (
    SELECT task_id, seq,
           CASE WHEN json_type(event, '$.task') IS NOT NULL
                    THEN coalesce(json_array_length(event, '$.task.history'), 0)
                WHEN json_type(event, '$.userMessage') IS NOT NULL THEN 1
                WHEN json_type(event, '$.statusUpdate.status.message') IS NOT NULL THEN 1
                ELSE 0 END AS added,
           (json_type(event, '$.artifactUpdate') IS NOT NULL
            OR coalesce(json_array_length(event, '$.task.artifacts'), 0) > 0) AS art
    FROM a2a_task_events),
c AS (
    SELECT task_id, seq, added, art,
           sum(added) OVER (PARTITION BY task_id ORDER BY seq) AS total
    FROM n)
UPDATE a2a_task_events
SET msgs = CASE WHEN c.added > 0 THEN c.total END,
    artifact = CASE WHEN c.art THEN 1 END
FROM c
WHERE a2a_task_events.task_id = c.task_id AND a2a_task_events.seq = c.seq
  AND (c.added > 0 OR c.art);

UPDATE a2a_tasks
SET messages = coalesce((SELECT max(msgs) FROM a2a_task_events e WHERE e.task_id = a2a_tasks.id), 0),
    task = json_remove(task, '$.history', '$.artifacts');

CREATE INDEX a2a_task_events_messages ON a2a_task_events (task_id, msgs) WHERE msgs IS NOT NULL;
CREATE INDEX a2a_task_events_artifacts ON a2a_task_events (task_id, seq)
    WHERE artifact IS NOT NULL;
