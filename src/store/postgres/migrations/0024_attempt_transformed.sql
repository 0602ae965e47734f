-- The request an endpoint's transformation made (method, headers, content type, body in base64),
-- as JSON, for the attempt's view: it cannot be rebuilt later as an ordinary request is. NULL for
-- an attempt without a transformation, which is nearly all of them, so they cost nothing more.
ALTER TABLE attempts ADD COLUMN transformed text;
