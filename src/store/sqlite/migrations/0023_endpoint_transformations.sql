-- Svix's endpoint transformation: JavaScript run on each delivery before it is sent. Kept in
-- plain text (configuration the portal shows back, not a secret); `transformation_updated_at`
-- is null until one is first set.
ALTER TABLE endpoints ADD COLUMN transformation_code TEXT;
ALTER TABLE endpoints ADD COLUMN transformation_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN transformation_updated_at INTEGER;
