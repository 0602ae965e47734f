-- Settings Herald keeps for itself, by name: the encryption key check value (a known text sealed
-- with the key of the first start), which a process with another key cannot open.
CREATE TABLE settings (
  name   TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;
