-- API tokens, stored as SHA-256 digests: the token itself is shown once and never kept.
-- app_id NULL is an admin token; otherwise the token is limited to that application.
CREATE TABLE api_tokens (
  id          TEXT PRIMARY KEY,
  digest      TEXT NOT NULL UNIQUE,
  app_id      TEXT REFERENCES applications (id) ON DELETE CASCADE,
  read_only   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER
) STRICT;
CREATE INDEX api_tokens_by_app ON api_tokens (app_id);
