import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../../test/support/stores.ts';
import { PostgresDatabase } from './database.ts';

if (await postgresReachable()) {
  describe('PostgreSQL database', () => {
    const schema = uniqueSchema();
    let db: PostgresDatabase;
    before(async () => {
      db = new PostgresDatabase({ url: postgresUrl(schema), schema, poolSize: 3 });
      await db.query(`CREATE SCHEMA "${schema}"`);
    });
    after(async () => {
      await db.close();
      await dropSchema(schema);
    });

    it('commits bookkeeping without waiting for the log flush, and everything else with it', async () => {
      const setting = async (durable: boolean) => (await db.one<{ s: string }>('SELECT current_setting(\'synchronous_commit\') AS s', [], { durable }))!.s;
      assert.equal(await setting(false), 'off');
      assert.equal(await setting(true), 'on');
    });

    it('runs a prepared statement again and again, on every connection, with new values', async () => {
      const sums = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        db.one<{ n: number }>('SELECT ?::int + ?::int AS n', [i, 1], { prepared: true, durable: i % 2 === 0 })));
      assert.deepEqual(sums.map((row) => row!.n), Array.from({ length: 12 }, (_, i) => i + 1));
    });
  });
} else {
  describe.skip(SKIPPED_POSTGRES, () => {});
}
