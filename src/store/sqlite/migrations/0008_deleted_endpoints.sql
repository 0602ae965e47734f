-- A deleted endpoint keeps its row (without uid, secrets or headers) while deliveries name it, so
-- a message's attempted destinations still show it; retention removes the row afterwards.
ALTER TABLE endpoints ADD COLUMN deleted_at INTEGER;
CREATE INDEX endpoints_deleted ON endpoints (deleted_at) WHERE deleted_at IS NOT NULL;
