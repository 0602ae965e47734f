-- Claims skip applications whose share of the send slots is taken, as they skip busy endpoints:
-- each delivery carries its message's application, and the due index carries it too, so skipping
-- a busy application's backlog still reads only the index.
ALTER TABLE deliveries ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET app_id = (SELECT app_id FROM messages WHERE messages.id = deliveries.message_id);
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (run_at, message_id, endpoint_id, app_id) WHERE status IN (1, 3);
