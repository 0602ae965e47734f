-- Which consumer holds a listen session: the one that opened it last (its own random id). An
-- earlier one polling on is told the session was taken over, instead of competing for its events.
ALTER TABLE endpoints ADD COLUMN listen_listener TEXT;
