-- What an application's token may do, as a JSON array of Svix's AppPortalCapability names; NULL
-- for an admin token. It replaces read_only: a read-only token could only read (ViewBase), any
-- other application token could do everything a portal token could (Svix's default, all of them).
ALTER TABLE api_tokens ADD COLUMN capabilities jsonb;
UPDATE api_tokens SET capabilities = CASE WHEN read_only THEN '["ViewBase"]'::jsonb
  ELSE '["ViewBase","ViewEndpointSecret","ManageEndpointSecret","ManageTransformations","CreateAttempts","ManageEndpoint"]'::jsonb END
  WHERE app_id IS NOT NULL;
ALTER TABLE api_tokens DROP COLUMN read_only;
