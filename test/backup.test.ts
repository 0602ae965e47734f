import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { it } from 'node:test';
import { call, freePort, kill, runCli, spawnHerald } from './support/process.ts';

it('herald backup copies a running Herald\'s SQLite database into a consistent file holding what was committed, while writes go on', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-backup-'));
  const herald = await spawnHerald(dataDir, await freePort());
  const copy = join(dataDir, 'copy.db');
  try {
    const app = await call(herald.url, 'POST', '/api/v1/app', { name: 'kept in the backup' });
    // Writes keep landing while the copy is made.
    let writing = true;
    const writes = (async () => {
      while (writing) await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'backup.test', payload: {} });
    })();
    const result = await runCli(['backup', copy, '--data-dir', dataDir], { PATH: process.env.PATH });
    writing = false;
    await writes;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Copied .*herald\.db to .*copy\.db/);
    const db = new DatabaseSync(copy, { readOnly: true });
    try {
      assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map((row) => Object.values(row)[0]), ['ok']);
      assert.equal(db.prepare('SELECT name FROM applications WHERE id = ?').get(app.body.id)?.name, 'kept in the backup');
    } finally {
      db.close();
    }
    const again = await runCli(['backup', copy, '--data-dir', dataDir], { PATH: process.env.PATH });
    assert.equal(again.code, 1, 'an existing file is never overwritten');
    const postgres = await runCli(['backup', join(dataDir, 'x.db'), '--database-url', 'postgres://u@127.0.0.1:1/x'], { PATH: process.env.PATH });
    assert.equal(postgres.code, 2);
    assert.match(postgres.stderr, /pg_dump/);
  } finally {
    await kill(herald);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
