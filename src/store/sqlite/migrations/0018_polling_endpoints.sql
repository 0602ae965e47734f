-- A polling endpoint (Svix's `pollingEndpoint` destination) is an endpoint whose messages are
-- read, never sent: fan-out gives it a delivery per message its filters take, stored done
-- (status 0) and pulled, so the dispatcher never claims it and retention purges it with its
-- message. The delivery's id is the message's offset in the endpoint's log: it grows in commit
-- order (SQLite has one writer), so a consumer that commits an offset has seen everything before.
ALTER TABLE endpoints ADD COLUMN polling INTEGER NOT NULL DEFAULT 0;
-- The enqueue's look-up of an application's endpoints whose deliveries are pulled, which holds
-- only them (none for most applications).
CREATE INDEX endpoints_pulled ON endpoints (app_id) WHERE (listen_name IS NOT NULL OR polling = 1) AND deleted_at IS NULL;
CREATE INDEX deliveries_polled ON deliveries (endpoint_id, id) WHERE pulled = 1 AND status = 0;
-- Each consumer's position in a polling endpoint's log: what it committed, and what its current
-- lease handed out beyond that (`leased_to`, until `lease_until`).
CREATE TABLE poll_consumers (
  endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  consumer_id TEXT NOT NULL,
  committed   INTEGER NOT NULL,
  leased_to   INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, consumer_id)
) WITHOUT ROWID;
