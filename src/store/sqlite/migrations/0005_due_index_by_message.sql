-- Deliveries due in the same millisecond are claimed message by message, not endpoint by
-- endpoint: with ties ordered by endpoint, a claim's window of candidates held one endpoint's
-- rows whenever many messages shared a millisecond, and a fan-out ran one endpoint at a time.
-- The endpoint stays in the index, so skipping a busy endpoint's backlog still reads only the index.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (run_at, message_id, endpoint_id) WHERE status IN (1, 3);
