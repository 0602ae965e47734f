import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { type BinRequest, DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES } from '../core/bins.ts';
import { systemRandom } from '../core/clock.ts';
import { createSecretBox } from '../core/secret-box.ts';
import { withEncryptedSecrets } from './encrypted-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

it('reads a captured request whose secret header was sealed under another key, marking that header unopened and leaving it empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sealed-'));
  const raw = openSqliteStore(join(dir, 'herald.db'));
  try {
    const sealing = withEncryptedSecrets(raw, createSecretBox(Buffer.alloc(32, 1), systemRandom));
    const other = withEncryptedSecrets(raw, createSecretBox(Buffer.alloc(32, 2), systemRandom));
    await sealing.bins.create({ id: 'bin_k', name: null, token: 't', response: DEFAULT_BIN_RESPONSE, rules: DEFAULT_BIN_RULES, createdAt: 1, updatedAt: 1, lastRequestAt: null, requestSeq: 0 }, 'd');
    const request: BinRequest = {
      id: 'breq_k', binId: 'bin_k', seq: 0, method: 'POST', path: '', query: null, headers: [['Authorization', 'Bearer sealed'], ['X-Plain', 'p']],
      secretHeaders: [0], body: Buffer.from('b'), size: 1, ip: '127.0.0.1', responseStatus: 200, rule: 'configured', createdAt: 1,
    };
    await sealing.bins.capture(request, 10);
    assert.notEqual((await raw.bins.getRequest('bin_k', 'breq_k'))!.headers[0]![1], 'Bearer sealed', 'sealed at rest');
    assert.deepEqual((await sealing.bins.getRequest('bin_k', 'breq_k'))!.headers, request.headers, 'opened with its key');
    const [elsewhere] = (await other.bins.listRequests('bin_k', { limit: 10, after: null, order: 'desc' }, true)).items;
    assert.deepEqual(elsewhere!.unopenedHeaders, [0]);
    assert.deepEqual(elsewhere!.headers, [['Authorization', ''], ['X-Plain', 'p']], 'the rest of the request is still read');
  } finally {
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
