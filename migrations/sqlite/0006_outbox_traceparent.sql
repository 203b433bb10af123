-- The W3C traceparent of the write that queued a notification (NULL when it was not
-- traced), so its delivery continues that trace in any process, after a restart too.
ALTER TABLE a2a_push_outbox ADD COLUMN traceparent TEXT;
