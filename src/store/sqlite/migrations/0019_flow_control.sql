-- Flow control (rate limits, adaptive rate, circuit breaker), one row per endpoint and per
-- application that ever needed one; see src/core/flow-control.ts for what each column means.
-- tat is fractional milliseconds: a rate of 3/s spaces requests 333.33 ms apart.
CREATE TABLE endpoint_flow (
  endpoint_id          TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  tat                  REAL NOT NULL DEFAULT 0,
  rate                 REAL,
  rate_reason          TEXT,
  ceiling              REAL,
  decreased_at         INTEGER,
  throttled_since      INTEGER,
  paused_until         INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  failures_since       INTEGER,
  failing_since        INTEGER,
  circuit_opened_at    INTEGER,
  probe_at             INTEGER,
  probe_interval_ms    INTEGER
);
-- The endpoints whose state is not neutral: what a worker watches (a few rows, read every second).
CREATE INDEX endpoint_flow_watched ON endpoint_flow (endpoint_id)
  WHERE rate IS NOT NULL OR paused_until IS NOT NULL OR circuit_opened_at IS NOT NULL OR consecutive_failures > 0;
CREATE TABLE application_flow (
  app_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
  tat    REAL NOT NULL DEFAULT 0
);
-- Why and when an endpoint was disabled (Herald's extension fields).
ALTER TABLE endpoints ADD COLUMN disabled_reason TEXT;
ALTER TABLE endpoints ADD COLUMN disabled_at INTEGER;
