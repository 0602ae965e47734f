-- Claims skip applications whose share of the send slots is taken, as they skip busy endpoints:
-- each delivery carries its message's application, so a claim need not join the messages to know it.
ALTER TABLE deliveries ADD COLUMN app_id text COLLATE "C";
UPDATE deliveries d SET app_id = m.app_id FROM messages m WHERE m.id = d.message_id;
ALTER TABLE deliveries ALTER COLUMN app_id SET NOT NULL;
