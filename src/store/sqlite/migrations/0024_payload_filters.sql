-- Payload filters (Herald's extension `filter` on endpoints): the MongoDB-style query as JSON,
-- checked and compiled by the API before it is stored; NULL lets every payload through.
ALTER TABLE endpoints ADD COLUMN payload_filter TEXT;
