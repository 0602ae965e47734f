import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import type { Application, Endpoint } from '../core/model.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';

export const ids = createIdGenerator(systemClock, systemRandom);

/** For the delivery modules' tests: a SQLite store in a fresh folder, holding one application with one endpoint. */
export async function storeWithEndpoint(): Promise<{ store: Store; app: Application; endpoint: Endpoint; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-delivery-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  const now = Date.now();
  const app: Application = { id: ids('application'), uid: null, name: 'a', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
  const endpoint: Endpoint = {
    id: ids('endpoint'), appId: app.id, uid: null, url: 'http://127.0.0.1:1/', description: '', eventTypes: null, channels: null,
    disabled: false, metadata: {}, throttleRate: null, headers: {}, secrets: [], createdAt: now, updatedAt: now,
  };
  await store.apps.create(app);
  await store.endpoints.create(endpoint);
  return {
    store, app, endpoint,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
