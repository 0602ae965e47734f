-- Background tasks (Svix's recover, replay-missing and bulk-replay): a row per task, leased by the
-- worker running it, so a task resumes after its cursor when that worker dies. A delivery a task
-- queued names it, so the task reports how many of them are done.
CREATE TABLE background_tasks (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  status       TEXT NOT NULL,
  app_id       TEXT NOT NULL,
  endpoint_id  TEXT NOT NULL,
  params       TEXT NOT NULL,
  progress     TEXT NOT NULL,
  cursor       TEXT,
  pace_at      INTEGER NOT NULL,
  lease        INTEGER NOT NULL DEFAULT 0,
  lease_until  INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX background_tasks_running ON background_tasks (lease_until) WHERE status = 'running';
ALTER TABLE deliveries ADD COLUMN task_id TEXT;
CREATE INDEX deliveries_by_task ON deliveries (task_id) WHERE task_id IS NOT NULL;
