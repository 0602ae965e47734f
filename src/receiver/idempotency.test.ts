import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresReachable, SKIPPED_POSTGRES, TEST_DATABASE_URL, dropSchema, uniqueSchema } from '../../test/support/stores.ts';
import { WebhookInProgressError } from './errors.ts';
import { type ClaimOutcome, type IdempotencyStore, MemoryIdempotencyStore, once } from './idempotency.ts';
import { PostgresIdempotencyStore } from './postgres.ts';
import { SqliteIdempotencyStore } from './sqlite.ts';

interface StoreFixture {
  /** A store; every store made by one fixture shares its data (one file, one table), except memory. */
  make(options?: { retentionMs?: number }): IdempotencyStore;
  shared: boolean;
  close(): Promise<void>;
}

function memoryFixture(): StoreFixture {
  return { make: (options) => new MemoryIdempotencyStore(options), shared: false, close: async () => {} };
}

function sqliteFixture(): StoreFixture {
  const dir = mkdtempSync(join(tmpdir(), 'herald-receiver-'));
  const stores: SqliteIdempotencyStore[] = [];
  return {
    make: (options) => {
      const store = new SqliteIdempotencyStore(join(dir, 'ids.db'), options);
      stores.push(store);
      return store;
    },
    shared: true,
    async close() {
      for (const store of stores) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresFixture(): Promise<StoreFixture> {
  const schema = uniqueSchema();
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return {
    make: (options) => new PostgresIdempotencyStore(pool, { ...options, table: `${schema}.webhook_ids` }),
    shared: true,
    async close() {
      await pool.end();
      await dropSchema(schema);
    },
  };
}

/** A store that reports each claim's outcome, so a test can wait until a duplicate found the id busy. */
function watched(store: IdempotencyStore): IdempotencyStore & { outcomes: ClaimOutcome[]; until(outcome: ClaimOutcome): Promise<void> } {
  const outcomes: ClaimOutcome[] = [];
  const waiting: Array<() => void> = [];
  return {
    outcomes,
    async claim(...args) {
      const outcome = await store.claim(...args);
      outcomes.push(outcome);
      waiting.splice(0).forEach((wake) => wake());
      return outcome;
    },
    complete: (...args) => store.complete(...args),
    release: (...args) => store.release(...args),
    async until(outcome) {
      while (!outcomes.includes(outcome)) await new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const kinds: Array<[string, () => StoreFixture | Promise<StoreFixture>]> = [
  ['memory', memoryFixture],
  ['SQLite', sqliteFixture],
  ...((await postgresReachable()) ? [['PostgreSQL', postgresFixture] as [string, () => Promise<StoreFixture>]] : []),
];
if (!(await postgresReachable())) describe.skip(SKIPPED_POSTGRES, () => {});

for (const [kind, makeFixture] of kinds) {
  describe(`once() on the ${kind} store`, { timeout: 30_000 }, () => {
    let fixture: StoreFixture;
    before(async () => {
      fixture = await makeFixture();
    });
    after(() => fixture.close());

    it('runs the handler once for an id, and answers later duplicates without running it', async () => {
      const store = fixture.make();
      let runs = 0;
      const first = await once(store, 'msg_once', () => ++runs);
      assert.deepEqual(first, { ran: true, result: 1 });
      for (let i = 0; i < 3; i++) assert.deepEqual(await once(store, 'msg_once', () => ++runs), { ran: false });
      assert.deepEqual(await once(store, 'msg_other', () => ++runs), { ran: true, result: 2 });
      assert.equal(runs, 2);
    });

    it('makes a concurrent duplicate wait for the running handler, then answer without running it', async () => {
      const store = watched(fixture.make());
      const release = gate();
      let runs = 0;
      const first = once(store, 'msg_wait', async () => {
        runs++;
        await release.promise;
      });
      await store.until('claimed');
      let secondSettled = false;
      const second = once(store, 'msg_wait', () => runs++).finally(() => (secondSettled = true));
      await store.until('busy');
      assert.equal(secondSettled, false, 'the duplicate answered while the first was still running');
      release.open();
      assert.deepEqual(await first, { ran: true, result: undefined });
      assert.deepEqual(await second, { ran: false });
      assert.equal(runs, 1);
    });

    it('runs the handler once among twenty simultaneous duplicates', async () => {
      const store = fixture.make();
      let runs = 0;
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () =>
          once(store, 'msg_herd', async () => {
            runs++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }),
        ),
      );
      assert.equal(runs, 1);
      assert.equal(outcomes.filter((outcome) => outcome.ran).length, 1);
    });

    it('frees the id when the handler throws, so the retry runs it again', async () => {
      const store = fixture.make();
      await assert.rejects(once(store, 'msg_throw', () => { throw new Error('database down'); }), /database down/);
      assert.deepEqual(await once(store, 'msg_throw', () => 'second try'), { ran: true, result: 'second try' });
      assert.deepEqual(await once(store, 'msg_throw', () => 'third try'), { ran: false });
    });

    it('lets a waiting duplicate run the handler itself when the first one throws', async () => {
      const store = watched(fixture.make());
      const release = gate();
      const first = once(store, 'msg_takeover', async () => {
        await release.promise;
        throw new Error('first failed');
      });
      await store.until('claimed');
      const second = once(store, 'msg_takeover', () => 'ran by the duplicate');
      await store.until('busy');
      release.open();
      await assert.rejects(first, /first failed/);
      assert.deepEqual(await second, { ran: true, result: 'ran by the duplicate' });
    });

    it('gives up on a duplicate that waited waitMs with WebhookInProgressError', async () => {
      const store = watched(fixture.make());
      const release = gate();
      const first = once(store, 'msg_slow', () => release.promise);
      await store.until('claimed');
      const started = Date.now();
      await assert.rejects(once(store, 'msg_slow', () => 'never', { waitMs: 50 }), WebhookInProgressError);
      assert.ok(Date.now() - started >= 50);
      release.open();
      await first;
    });

    it('takes over an id whose holder died once its lock has run out, and not before', async () => {
      const store = fixture.make();
      const t0 = 1_750_000_000_000;
      assert.equal(await store.claim('msg_dead', 'a-process-that-died', t0, 60_000), 'claimed');
      await assert.rejects(once(store, 'msg_dead', () => 'too early', { now: () => t0 + 59_000, waitMs: 0 }), WebhookInProgressError);
      assert.deepEqual(await once(store, 'msg_dead', () => 'taken over', { now: () => t0 + 60_000 }), { ran: true, result: 'taken over' });
    });

    it('forgets a handled id after the retention period', async () => {
      const store = fixture.make({ retentionMs: 1_000 });
      const t0 = 1_750_000_000_000;
      await once(store, 'msg_old', () => 1, { now: () => t0 });
      assert.deepEqual(await once(store, 'msg_old', () => 2, { now: () => t0 + 999 }), { ran: false });
      assert.deepEqual(await once(store, 'msg_old', () => 3, { now: () => t0 + 1_000 }), { ran: true, result: 3 });
    });

    it('does not let a holder whose lock was taken over free the new holder\'s claim', async () => {
      const store = fixture.make();
      const t0 = 1_750_000_000_000;
      assert.equal(await store.claim('msg_stale', 'old', t0, 1_000), 'claimed');
      assert.equal(await store.claim('msg_stale', 'new', t0 + 1_000, 60_000), 'claimed');
      await store.release('msg_stale', 'old');
      assert.equal(await store.claim('msg_stale', 'third', t0 + 2_000, 60_000), 'busy');
    });

    if (kind !== 'memory') {
      it('keeps the promise across two store instances on the same database, as two processes would have', async () => {
        const [one, two] = [watched(fixture.make()), watched(fixture.make())];
        const release = gate();
        let runs = 0;
        const first = once(one, 'msg_shared', async () => {
          runs++;
          await release.promise;
        });
        await one.until('claimed');
        const second = once(two, 'msg_shared', () => runs++);
        await two.until('busy');
        release.open();
        await first;
        assert.deepEqual(await second, { ran: false });
        assert.deepEqual(await once(fixture.make(), 'msg_shared', () => runs++), { ran: false });
        assert.equal(runs, 1);
      });
    }
  });
}
