-- API tokens, stored as SHA-256 digests: the token itself is shown once and never kept.
-- app_id NULL is an admin token; otherwise the token is limited to that application.
CREATE TABLE api_tokens (
  id          text COLLATE "C" PRIMARY KEY,
  digest      text COLLATE "C" NOT NULL UNIQUE,
  app_id      text COLLATE "C" REFERENCES applications (id) ON DELETE CASCADE,
  read_only   boolean NOT NULL,
  created_at  bigint NOT NULL,
  expires_at  bigint
);
CREATE INDEX api_tokens_by_app ON api_tokens (app_id);
