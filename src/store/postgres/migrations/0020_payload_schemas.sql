-- Payload schemas checked at publish (Herald's extension): an event type's own choice of
-- off / warn / enforce (NULL follows HERALD_SCHEMA_VALIDATION), and what a check found wrong
-- with a message accepted under `warn` ({"version", "violations"}; NULL when nothing).
ALTER TABLE event_types ADD COLUMN schema_validation text;
ALTER TABLE messages ADD COLUMN schema_violations jsonb;
