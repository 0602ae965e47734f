-- Operational webhooks. `alerted` is set on a delivery once an operational event said it was
-- failing (its fourth failure) or exhausted, so a later success is reported as recovered; the
-- result that sets it updates the row anyway, so keeping it costs no write of its own.
ALTER TABLE deliveries ADD COLUMN alerted boolean NOT NULL DEFAULT false;
