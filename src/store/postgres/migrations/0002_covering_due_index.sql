-- Claims skip endpoints that have no free slot; with the endpoint in the index, skipping a busy
-- endpoint's backlog reads only the index, not every row.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (run_at, endpoint_id) WHERE status IN (1, 3);
