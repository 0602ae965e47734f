-- Times are epoch milliseconds. JSON columns hold arrays or objects as text.

CREATE TABLE applications (
  id            TEXT PRIMARY KEY,
  uid           TEXT UNIQUE,
  name          TEXT NOT NULL,
  metadata      TEXT NOT NULL,
  throttle_rate INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE event_types (
  name          TEXT PRIMARY KEY,
  description   TEXT NOT NULL,
  schemas       TEXT,
  archived      INTEGER NOT NULL,
  deprecated    INTEGER NOT NULL,
  feature_flag  TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
  id            TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid           TEXT,
  url           TEXT NOT NULL,
  description   TEXT NOT NULL,
  event_types   TEXT,
  channels      TEXT,
  disabled      INTEGER NOT NULL,
  metadata      TEXT NOT NULL,
  throttle_rate INTEGER,
  headers       TEXT NOT NULL,
  secrets       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (app_id, uid)
) STRICT;
CREATE INDEX endpoints_by_app ON endpoints (app_id, id);

CREATE TABLE messages (
  id            TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  event_type    TEXT NOT NULL,
  event_id      TEXT,
  channels      TEXT,
  payload       BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  UNIQUE (app_id, event_id)
) STRICT;
CREATE INDEX messages_by_app ON messages (app_id, id);

-- The queue. `run_at` is when a pending delivery is due, or when a sending one's lease expires,
-- so "claimable" is one range scan on deliveries_due. `lease` counts claims: a worker's result
-- only lands while the lease it claimed is still the current one.
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id     TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status          INTEGER NOT NULL,
  attempt_count   INTEGER NOT NULL,
  trigger         INTEGER NOT NULL,
  run_at          INTEGER NOT NULL,
  lease           INTEGER NOT NULL,
  next_attempt_at INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (message_id, endpoint_id)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (run_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, message_id);

CREATE TABLE attempts (
  id                   TEXT PRIMARY KEY,
  app_id               TEXT NOT NULL,
  message_id           TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id          TEXT NOT NULL,
  url                  TEXT NOT NULL,
  status               INTEGER NOT NULL,
  response_status_code INTEGER NOT NULL,
  response             TEXT NOT NULL,
  response_duration_ms INTEGER NOT NULL,
  trigger              INTEGER NOT NULL,
  failure_reason       TEXT,
  attempt_number       INTEGER NOT NULL,
  created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_by_message ON attempts (message_id, id);
CREATE INDEX attempts_by_endpoint ON attempts (endpoint_id, id);

CREATE TABLE idempotency_keys (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
