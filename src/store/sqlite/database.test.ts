import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StoreError } from '../errors.ts';
import { SqliteDatabase } from './database.ts';

describe('SQLite group commit', () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-db-'));
    db = new SqliteDatabase(join(dir, 'herald.db'));
    db.run('CREATE TABLE t (x INTEGER UNIQUE) STRICT');
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const values = () => db.all<{ x: number }>('SELECT x FROM t ORDER BY x').map((row) => row.x);
  const insert = (x: number) => db.run('INSERT INTO t (x) VALUES (?)', x);

  it('commits the jobs queued in one turn together, running each once when none fails', async () => {
    let runs = 0;
    const written = await Promise.all([1, 2, 3].map((x) => db.write(() => (runs++, insert(x)))));
    assert.deepEqual(written, [1, 1, 1]);
    assert.equal(runs, 3);
    assert.deepEqual(values(), [1, 2, 3]);
  });

  it('undoes a job that fails halfway through, and only that job, when it shares a commit', async () => {
    const [first, failing, last] = await Promise.allSettled([
      db.write(() => insert(1)),
      db.write(() => { insert(2); insert(1); }),
      db.write(() => insert(3)),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(last.status, 'fulfilled');
    assert.ok(failing.status === 'rejected' && failing.reason instanceof StoreError && failing.reason.code === 'conflict');
    assert.deepEqual(values(), [1, 3]);
  });

  it('leaves nothing of a lone job that fails halfway through', async () => {
    await db.write(() => insert(1));
    await assert.rejects(db.write(() => { insert(2); insert(1); }), (error) => error instanceof StoreError && error.code === 'conflict');
    assert.deepEqual(values(), [1]);
  });
});
