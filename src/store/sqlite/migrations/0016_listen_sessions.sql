-- A listen session (`herald listen`) is an endpoint whose deliveries wait for their consumer to
-- pull them through the API instead of being sent: `listen_name` names the session within its
-- application, `listen_dropped` counts the deliveries its bounds dropped unread. Each delivery
-- copies whether its endpoint is pulled, so the dispatcher's claim (and its partial index) leaves
-- them out without a join, and a session's backlog is one range of its own index, in arrival order.
ALTER TABLE endpoints ADD COLUMN listen_name TEXT;
ALTER TABLE endpoints ADD COLUMN listen_dropped INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX endpoints_listen_name ON endpoints (app_id, listen_name) WHERE listen_name IS NOT NULL AND deleted_at IS NULL;
ALTER TABLE deliveries ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (run_at, message_id, endpoint_id, app_id) WHERE status IN (1, 3) AND pulled = 0;
CREATE INDEX deliveries_pulled ON deliveries (endpoint_id, id) WHERE status IN (1, 3) AND pulled = 1;
