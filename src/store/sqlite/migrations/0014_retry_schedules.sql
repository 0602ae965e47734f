-- Retry schedules per event type (Svix's retry-schedule route) and per endpoint (Herald's
-- extension), as JSON arrays of delays in milliseconds; NULL falls back to the next level.
ALTER TABLE event_types ADD COLUMN retry_schedule TEXT;
ALTER TABLE endpoints ADD COLUMN retry_schedule TEXT;
