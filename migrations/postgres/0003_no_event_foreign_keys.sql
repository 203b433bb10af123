-- Events and message ids no longer reference their task by foreign key: every insert
-- checked the key against a2a_tasks, about a sixth of a SendMessage's throughput. They
-- are only ever inserted in the statement that writes their task, and the purge deletes
-- them with it (see PURGE_DEPENDENTS in src/store/postgres.rs).
-- a2a_message_ids_task stays: the purge finds a task's message ids by it.

ALTER TABLE a2a_task_events DROP CONSTRAINT IF EXISTS a2a_task_events_task_id_fkey;
ALTER TABLE a2a_message_ids DROP CONSTRAINT IF EXISTS a2a_message_ids_task_id_fkey;
