-- A message's payload can be erased before the message is purged (DELETE …/content, or its
-- payloadRetentionPeriod running out): the bytes become none and payload_erased_at says when.
-- payload_expires_at is when the maintenance job erases it, NULL when the message's own retention
-- ends first, so the index holds only the messages that will need it.
ALTER TABLE messages ADD COLUMN payload_expires_at INTEGER;
ALTER TABLE messages ADD COLUMN payload_erased_at INTEGER;
CREATE INDEX messages_payload_expiry ON messages (payload_expires_at) WHERE payload_expires_at IS NOT NULL;
