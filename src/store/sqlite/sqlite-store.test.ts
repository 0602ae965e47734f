import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '../store-contract.ts';
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
