-- Request bins: URLs that keep what is sent to them. `token` is the capture URL's secret segment
-- (sealed), found by its digest; `request_seq` counts the bin's captures, each taking the next
-- number, so the newest N are a range and a stream's cursor never falls behind a commit.
CREATE TABLE bins (
  id               TEXT PRIMARY KEY,
  name             TEXT,
  token            TEXT NOT NULL,
  token_digest     TEXT NOT NULL UNIQUE,
  response         TEXT NOT NULL,
  rules            TEXT NOT NULL,
  request_seq      INTEGER NOT NULL DEFAULT 0,
  last_request_at  INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

-- One captured request, byte for byte: headers as [name, value] pairs in the order received
-- (values of the secret-looking ones, at the positions in `secret_headers`, sealed), the body as sent.
CREATE TABLE bin_requests (
  id               TEXT PRIMARY KEY,
  bin_id           TEXT NOT NULL REFERENCES bins (id) ON DELETE CASCADE,
  seq              INTEGER NOT NULL,
  method           TEXT NOT NULL,
  path             TEXT NOT NULL,
  query            TEXT,
  headers          TEXT NOT NULL,
  secret_headers   TEXT NOT NULL,
  body             BLOB NOT NULL,
  size             INTEGER NOT NULL,
  ip               TEXT NOT NULL,
  response_status  INTEGER,
  rule             TEXT NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;
-- Trimming to the newest N and streaming go by number; listing pages by id, newest first.
CREATE UNIQUE INDEX bin_requests_by_seq ON bin_requests (bin_id, seq);
CREATE INDEX bin_requests_by_bin ON bin_requests (bin_id, id);
