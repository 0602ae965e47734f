-- Ordering keys (Herald's extension to Svix's message): deliveries of one key to one endpoint go
-- in publish order, one at a time. The key is kept on the message (to be shown) and copied onto
-- each delivery, so the claim checks it without reading the message; the partial index holds only
-- unfinished keyed deliveries, so the check "is one of this key ahead of me?" is one probe and
-- costs nothing to deliveries without a key.
ALTER TABLE messages ADD COLUMN ordering_key text;
ALTER TABLE deliveries ADD COLUMN ordering_key text COLLATE "C";
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id, ordering_key, id) WHERE ordering_key IS NOT NULL AND status IN (1, 3);
