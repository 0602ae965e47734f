-- Flow control (rate limits, adaptive rate, circuit breaker), one row per endpoint and per
-- application that ever needed one; see src/core/flow-control.ts for what each column means.
-- tat is fractional milliseconds: a rate of 3/s spaces requests 333.33 ms apart.
CREATE TABLE endpoint_flow (
  endpoint_id          text COLLATE "C" PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  tat                  double precision NOT NULL DEFAULT 0,
  rate                 double precision,
  rate_reason          text,
  ceiling              double precision,
  decreased_at         bigint,
  throttled_since      bigint,
  paused_until         bigint,
  consecutive_failures integer NOT NULL DEFAULT 0,
  failures_since       bigint,
  failing_since        bigint,
  circuit_opened_at    bigint,
  probe_at             bigint,
  probe_interval_ms    integer
);
CREATE INDEX endpoint_flow_watched ON endpoint_flow (endpoint_id)
  WHERE rate IS NOT NULL OR paused_until IS NOT NULL OR circuit_opened_at IS NOT NULL OR consecutive_failures > 0;
CREATE TABLE application_flow (
  app_id text COLLATE "C" PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
  tat    double precision NOT NULL DEFAULT 0
);
-- The gated endpoints and applications a claim leaves to its flow-controlled path: few rows each.
CREATE INDEX endpoints_throttled ON endpoints (app_id) WHERE throttle_rate IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX applications_throttled ON applications (id) WHERE throttle_rate IS NOT NULL;
-- A gated endpoint's due deliveries, found without walking everyone's due rows.
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, run_at) WHERE status IN (1, 3);
ALTER TABLE endpoints ADD COLUMN disabled_reason text;
ALTER TABLE endpoints ADD COLUMN disabled_at bigint;
