-- Times are epoch milliseconds (bigint), as in the SQLite schema. Ids use the "C" collation so
-- they sort byte-wise, which keyset pagination relies on.

CREATE TABLE applications (
  id            text COLLATE "C" PRIMARY KEY,
  uid           text COLLATE "C" UNIQUE,
  name          text NOT NULL,
  metadata      jsonb NOT NULL,
  throttle_rate integer,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);

CREATE TABLE event_types (
  name          text COLLATE "C" PRIMARY KEY,
  description   text NOT NULL,
  schemas       jsonb,
  archived      boolean NOT NULL,
  deprecated    boolean NOT NULL,
  feature_flag  text,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);

CREATE TABLE endpoints (
  id            text COLLATE "C" PRIMARY KEY,
  app_id        text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid           text COLLATE "C",
  url           text NOT NULL,
  description   text NOT NULL,
  event_types   jsonb,
  channels      jsonb,
  disabled      boolean NOT NULL,
  metadata      jsonb NOT NULL,
  throttle_rate integer,
  headers       jsonb NOT NULL,
  secrets       jsonb NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX endpoints_by_app ON endpoints (app_id, id);

CREATE TABLE messages (
  id            text COLLATE "C" PRIMARY KEY,
  app_id        text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  event_type    text NOT NULL,
  event_id      text COLLATE "C",
  channels      jsonb,
  payload       bytea NOT NULL,
  created_at    bigint NOT NULL,
  UNIQUE (app_id, event_id)
);
CREATE INDEX messages_by_app ON messages (app_id, id);

-- The queue: see the SQLite schema for the meaning of run_at and lease.
CREATE TABLE deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id      text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id     text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status          smallint NOT NULL,
  attempt_count   integer NOT NULL,
  trigger         smallint NOT NULL,
  run_at          bigint NOT NULL,
  lease           integer NOT NULL,
  next_attempt_at bigint,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  UNIQUE (message_id, endpoint_id)
) WITH (fillfactor = 80);
CREATE INDEX deliveries_due ON deliveries (run_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, message_id);

CREATE TABLE attempts (
  id                   text COLLATE "C" PRIMARY KEY,
  app_id               text COLLATE "C" NOT NULL,
  message_id           text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id          text COLLATE "C" NOT NULL,
  url                  text NOT NULL,
  status               smallint NOT NULL,
  response_status_code integer NOT NULL,
  response             text NOT NULL,
  response_duration_ms integer NOT NULL,
  trigger              smallint NOT NULL,
  failure_reason       text,
  attempt_number       integer NOT NULL,
  created_at           bigint NOT NULL
);
CREATE INDEX attempts_by_message ON attempts (message_id, id);
CREATE INDEX attempts_by_endpoint ON attempts (endpoint_id, id);

CREATE TABLE idempotency_keys (
  scope       text COLLATE "C" NOT NULL,
  key         text COLLATE "C" NOT NULL,
  status_code integer NOT NULL,
  body        text NOT NULL,
  created_at  bigint NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
