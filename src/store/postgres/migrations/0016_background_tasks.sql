-- Background tasks (Svix's recover, replay-missing and bulk-replay): a row per task, leased by the
-- worker running it, so a task resumes after its cursor when that worker dies. A delivery a task
-- queued names it, so the task reports how many of them are done.
CREATE TABLE background_tasks (
  id           text PRIMARY KEY,
  kind         text NOT NULL,
  status       text NOT NULL,
  app_id       text NOT NULL,
  endpoint_id  text NOT NULL,
  params       jsonb NOT NULL,
  progress     jsonb NOT NULL,
  cursor       text,
  pace_at      bigint NOT NULL,
  lease        bigint NOT NULL DEFAULT 0,
  lease_until  bigint NOT NULL DEFAULT 0,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);
CREATE INDEX background_tasks_running ON background_tasks (lease_until) WHERE status = 'running';
ALTER TABLE deliveries ADD COLUMN task_id text;
CREATE INDEX deliveries_by_task ON deliveries (task_id) WHERE task_id IS NOT NULL;
