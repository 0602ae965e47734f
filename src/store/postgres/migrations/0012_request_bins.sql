-- Request bins: URLs that keep what is sent to them. `token` is the capture URL's secret segment
-- (sealed), found by its digest; `request_seq` counts the bin's captures, each taking the next
-- number under the bin's row lock, so numbers follow commit order: the newest N are a range, and a
-- stream's cursor never falls behind a capture committed later with a smaller id.
CREATE TABLE bins (
  id               text COLLATE "C" PRIMARY KEY,
  name             text,
  token            text NOT NULL,
  token_digest     text COLLATE "C" NOT NULL UNIQUE,
  response         jsonb NOT NULL,
  rules            jsonb NOT NULL,
  request_seq      bigint NOT NULL DEFAULT 0,
  last_request_at  bigint,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL
);

-- One captured request, byte for byte: headers as [name, value] pairs in the order received
-- (values of the secret-looking ones, at the positions in `secret_headers`, sealed), the body as sent.
CREATE TABLE bin_requests (
  id               text COLLATE "C" PRIMARY KEY,
  bin_id           text COLLATE "C" NOT NULL REFERENCES bins (id) ON DELETE CASCADE,
  seq              bigint NOT NULL,
  method           text NOT NULL,
  path             text NOT NULL,
  query            text,
  headers          jsonb NOT NULL,
  secret_headers   jsonb NOT NULL,
  body             bytea NOT NULL,
  size             integer NOT NULL,
  ip               text NOT NULL,
  response_status  integer,
  rule             text NOT NULL,
  created_at       bigint NOT NULL
);
-- Trimming to the newest N and streaming go by number; listing pages by id, newest first.
CREATE UNIQUE INDEX bin_requests_by_seq ON bin_requests (bin_id, seq);
CREATE INDEX bin_requests_by_bin ON bin_requests (bin_id, id);
