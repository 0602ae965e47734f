import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import pg from 'pg';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, TEST_DATABASE_URL, uniqueSchema } from '../../test/support/stores.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

describe('SQLite migrations', () => {
  it('refuses a database migrated by a newer Herald', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-migrate-'));
    try {
      const path = join(dir, 'herald.db');
      await openSqliteStore(path).close();
      const raw = new DatabaseSync(path);
      raw.exec("INSERT INTO herald_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)");
      raw.close();
      assert.throws(() => openSqliteStore(path), /schema is at version 999, but this Herald only knows versions up to \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const postgres = await postgresReachable();
(postgres ? describe : describe.skip)(postgres ? 'PostgreSQL migrations' : SKIPPED_POSTGRES, () => {
  it('migrates a fresh schema exactly once when several processes start at the same time', async () => {
    const schema = uniqueSchema();
    try {
      const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresStore({ url: postgresUrl(schema) })));
      await Promise.all(stores.map((store) => store.close()));
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      const { rows } = await client.query(`SELECT version, count(*)::int AS n FROM "${schema}".herald_migrations GROUP BY version`);
      await client.end();
      assert.ok(rows.length > 0);
      assert.ok(rows.every((row) => row.n === 1), 'each migration is recorded once');
    } finally {
      await dropSchema(schema);
    }
  });

  it('refuses a schema migrated by a newer Herald', async () => {
    const schema = uniqueSchema();
    try {
      await (await openPostgresStore({ url: postgresUrl(schema) })).close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`INSERT INTO "${schema}".herald_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)`);
      await client.end();
      await assert.rejects(openPostgresStore({ url: postgresUrl(schema) }), /schema is at version 999/);
    } finally {
      await dropSchema(schema);
    }
  });
});
