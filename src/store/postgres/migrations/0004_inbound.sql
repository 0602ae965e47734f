-- An inbound request is a message like any other: its body is the payload, and `inbound` holds
-- the rest of the request (method, original URL, headers) and what verification found.
ALTER TABLE messages ADD COLUMN inbound jsonb;

-- A source is an application that receives: the row with the same id in `applications` holds its
-- name, uid and metadata, and its endpoints, messages and deliveries hang off that id as usual.
CREATE TABLE sources (
  app_id        text COLLATE "C" PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
  type          text NOT NULL,
  config        jsonb NOT NULL,
  token         text NOT NULL,
  token_digest  text COLLATE "C" NOT NULL UNIQUE
);
