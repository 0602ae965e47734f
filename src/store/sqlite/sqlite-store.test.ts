import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { storeContract } from '../store-contract.ts';
import type { Store } from '../store.ts';
import { openSqliteStore } from './sqlite-store.ts';

storeContract('SQLite store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  return {
    store,
    async dispose(keep) {
      await store.close();
      if (keep) console.log(`kept the failed test's database in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
});

it('frees the idempotency keys held by the last process when the file is opened again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
  try {
    const path = join(dir, 'herald.db');
    const claimAt = (store: Store, claim: string) =>
      store.idempotency.claim({ key: 'k', claim, now: 1_000, lockedUntil: 61_000, notBefore: 0 });
    const first = openSqliteStore(path);
    assert.equal((await claimAt(first, 'crashed')).state, 'claimed');
    assert.equal((await claimAt(first, 'waiting')).state, 'pending');
    await first.close();
    const second = openSqliteStore(path);
    assert.equal((await claimAt(second, 'retry')).state, 'claimed', 'only one process opens the file, so no request still holds a key');
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
