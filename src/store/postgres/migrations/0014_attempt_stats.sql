-- The attempt rollup the dashboard's charts read (src/core/attempt-stats.ts): per application,
-- five-minute bucket and endpoint, the attempts that succeeded, failed and were canceled, and their
-- durations as a histogram (LATENCY_BINS counts), upserted with the results of each batch. The key
-- leads with the application and time, which every read names; the endpoint has no foreign key,
-- as in attempts, so retention can remove a deleted endpoint's row.
CREATE TABLE attempt_stats (
  app_id        text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  bucket_start  bigint NOT NULL,
  endpoint_id   text COLLATE "C" NOT NULL,
  success       integer NOT NULL,
  failure       integer NOT NULL,
  canceled      integer NOT NULL,
  latency       integer[] NOT NULL,
  PRIMARY KEY (app_id, bucket_start, endpoint_id)
);
CREATE INDEX attempt_stats_by_age ON attempt_stats (bucket_start);
