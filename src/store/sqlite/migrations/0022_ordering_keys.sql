-- Ordering keys (Herald's extension to Svix's message): deliveries of one key to one endpoint go
-- in publish order, one at a time. The key is kept on the message (to be shown) and copied onto
-- each delivery, so the claim sees it in the due index without reading the message; the partial
-- index holds only unfinished keyed deliveries, so the check "is one of this key ahead of me?" is
-- one probe and costs nothing to deliveries without a key.
ALTER TABLE messages ADD COLUMN ordering_key TEXT;
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (run_at, message_id, endpoint_id, app_id, ordering_key) WHERE status IN (1, 3) AND pulled = 0;
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id, ordering_key, id) WHERE ordering_key IS NOT NULL AND status IN (1, 3);
