import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../../test/support/stores.ts';
import { StoreError } from '../errors.ts';
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

    it('runs prepared statements again and again, on every connection, each under its own name, with new values', async () => {
      const sums = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        db.one<{ n: number }>('SELECT ?::int + ?::int AS n', [i, 1], { prepared: true, durable: i % 2 === 0 })));
      assert.deepEqual(sums.map((row) => row!.n), Array.from({ length: 12 }, (_, i) => i + 1));
      // A second text on the same connections: were it given the first one's name, PostgreSQL would refuse it.
      const products = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        db.one<{ n: number }>('SELECT ?::int * ?::int AS n', [i, 2], { prepared: true, durable: i % 2 === 0 })));
      assert.deepEqual(products.map((row) => row!.n), Array.from({ length: 12 }, (_, i) => i * 2));
      const [prepared] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'herald\\_%'", [], { durable: true });
      assert.ok(prepared!.n >= 1, 'the connection that answers holds its statements prepared by name');
    });

    it('turns a value PostgreSQL cannot hold into StoreError invalid, whatever the column type', async () => {
      const invalid = (error: unknown) => error instanceof StoreError && error.code === 'invalid';
      await assert.rejects(db.query('SELECT ?::text AS t', ['a\u0000b']), invalid, 'a NUL in text');
      await assert.rejects(db.query('SELECT ?::jsonb AS j', ['{"k":"\\ud800"}']), invalid, 'a lone surrogate in jsonb');
      await assert.rejects(db.query('SELECT ?::jsonb AS j', ['{"k":"\\u0000"}']), invalid, 'a NUL escape in jsonb');
      await assert.rejects(db.query('SELECT ?::int AS n', ['99999999999']), invalid, 'a number out of range');
      assert.deepEqual(await db.one('SELECT ?::text AS t', ['fine']), { t: 'fine' }, 'and the pool goes on');
    });
  });
} else {
  describe.skip(SKIPPED_POSTGRES, () => {});
}
