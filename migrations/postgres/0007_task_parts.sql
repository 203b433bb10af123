-- A task's history and artifacts leave its row (src/store/parts.rs): the event log holds
-- every message and artifact chunk once, so the row keeps only what a commit changes
-- (status, metadata, counters) and reads rebuild the history and artifacts they return
-- from the events that carry them. Until now each commit rewrote the whole task, history
-- included, and left a dead copy of it behind: a conversation cost the square of its
-- length.
--
-- `messages`: the task's history length. `msgs`: on an event that adds history messages,
-- the history length after it (the newest n messages are the events with msgs > messages
-- - n); `artifact`: 1 on an event that changes the artifacts. NULL otherwise, so the
-- partial indexes hold only the events reads look for.

ALTER TABLE a2a_tasks ADD COLUMN messages BIGINT NOT NULL DEFAULT 0;
ALTER TABLE a2a_task_events ADD COLUMN msgs BIGINT, ADD COLUMN artifact BIGINT;

WITH n AS (
    SELECT task_id, seq,
           CASE WHEN event->'task' IS NOT NULL
                    THEN coalesce(json_array_length(event->'task'->'history'), 0)
                WHEN event->'userMessage' IS NOT NULL THEN 1
                WHEN event->'statusUpdate'->'status'->'message' IS NOT NULL THEN 1
                ELSE 0 END AS added,
           (event->'artifactUpdate' IS NOT NULL
            OR coalesce(json_array_length(event->'task'->'artifacts'), 0) > 0) AS art
    FROM a2a_task_events),
c AS (
    SELECT task_id, seq, added, art,
           sum(added) OVER (PARTITION BY task_id ORDER BY seq) AS total
    FROM n)
UPDATE a2a_task_events e
SET msgs = CASE WHEN c.added > 0 THEN c.total END,
    artifact = CASE WHEN c.art THEN 1 END
FROM c
WHERE e.task_id = c.task_id AND e.seq = c.seq AND (c.added > 0 OR c.art);

UPDATE a2a_tasks t SET messages = m.n
FROM (SELECT task_id, max(msgs) AS n FROM a2a_task_events
      WHERE msgs IS NOT NULL GROUP BY task_id) m
WHERE t.id = m.task_id;

-- Through `json_each`, not `jsonb`: the members keep their text ("\u0000" included).
UPDATE a2a_tasks
SET task = (SELECT json_object_agg(key, value ORDER BY n)
            FROM json_each(task) WITH ORDINALITY AS m(key, value, n)
            WHERE key NOT IN ('history', 'artifacts'))
WHERE task->'history' IS NOT NULL OR task->'artifacts' IS NOT NULL;

CREATE INDEX a2a_task_events_messages ON a2a_task_events (task_id, msgs) WHERE msgs IS NOT NULL;
CREATE INDEX a2a_task_events_artifacts ON a2a_task_events (task_id, seq)
    WHERE artifact IS NOT NULL;
