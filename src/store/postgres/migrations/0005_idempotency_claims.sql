-- An idempotency key is claimed before its request runs: a pending row (claim, locked_until) that
-- the request completes with its answer (status_code, body) or deletes. `digest` hashes the key
-- with its route and the token's owner. Keys kept before were scoped by path alone and would never
-- be looked up again, so they are dropped rather than converted.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
  digest       text COLLATE "C" PRIMARY KEY,
  claim        text,
  locked_until bigint,
  status_code  integer,
  body         text,
  created_at   bigint NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
