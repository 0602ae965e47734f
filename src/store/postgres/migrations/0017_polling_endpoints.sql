-- A polling endpoint (Svix's `pollingEndpoint` destination) is an endpoint whose messages are
-- read, never sent: fan-out gives it a delivery per message its filters take, stored done
-- (status 0) and pulled, so the dispatcher never claims it and retention purges it with its
-- message. The delivery's id is the message's offset in the endpoint's log.
ALTER TABLE endpoints ADD COLUMN polling boolean NOT NULL DEFAULT false;
CREATE INDEX deliveries_polled ON deliveries (endpoint_id, id) WHERE pulled AND status = 0;
-- Each consumer's position in a polling endpoint's log: what it committed, and what its current
-- lease handed out beyond that (`leased_to`, until `lease_until`).
CREATE TABLE poll_consumers (
  endpoint_id text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  consumer_id text COLLATE "C" NOT NULL,
  committed   bigint NOT NULL,
  leased_to   bigint NOT NULL DEFAULT 0,
  lease_until bigint NOT NULL DEFAULT 0,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (endpoint_id, consumer_id)
);
