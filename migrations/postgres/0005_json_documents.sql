-- Tasks, events, webhook credentials and notification payloads as `json`, not `jsonb`.
-- `jsonb` refuses the valid JSON string "\u0000" (its text type has no NUL), so a message
-- holding one could not be stored; `json` keeps the document's text as written. Nothing
-- queries these columns with JSON operators, so nothing needs `jsonb`'s parsed form, and
-- checking `json` on insert and returning it on read costs less than converting to and
-- from `jsonb` (psql on a busy 2-core host, 200,000 task documents of 0.9 KB: inserting
-- took 1.09-1.23 s as jsonb, 0.46-0.49 s as json; reading them as text 0.74-0.82 s and
-- 0.31 s). The change rewrites the tables once.

ALTER TABLE a2a_tasks ALTER COLUMN task TYPE json USING task::json;
ALTER TABLE a2a_task_events ALTER COLUMN event TYPE json USING event::json;
ALTER TABLE a2a_push_configs ALTER COLUMN authentication TYPE json USING authentication::json;
ALTER TABLE a2a_push_outbox
    ALTER COLUMN authentication TYPE json USING authentication::json,
    ALTER COLUMN payload TYPE json USING payload::json;
