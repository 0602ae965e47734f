import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { startReceiver } from './support/receiver.ts';
import { startTestHerald } from './support/herald.ts';
import { dropSchema, forEachStore, TEST_DATABASE_URL } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const firstKey = Buffer.alloc(32, 0x42).toString('base64');
const secondKey = Buffer.alloc(32, 0x43).toString('base64');
const headerValue = 'Bearer header-secret-5f0c2b9e';

/**
 * Every byte Herald keeps: the files of the data directory (but the encryption key, which is what
 * it is), or every row of the schema as text.
 */
async function everythingStored(dataDir: string, schema: string | null): Promise<Buffer> {
  if (!schema) return Buffer.concat(readdirSync(dataDir).filter((file) => file !== 'encryption-key').map((file) => readFileSync(join(dataDir, file))));
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const tables = (await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows;
    const dumps: string[] = [];
    for (const { table_name: table } of tables) {
      const { rows } = await client.query(`SELECT t::text AS row FROM "${schema}"."${table}" t`);
      dumps.push(...rows.map((row) => row.row));
    }
    return Buffer.from(dumps.join('\n'));
  } finally {
    await client.end();
  }
}

await forEachStore((store) => describe(`secrets at rest (${store})`, () => {
  it('keeps no endpoint secret, header value or token in clear in the database or the data directory', async () => {
    const receiver = await startReceiver();
    const h = await startTestHerald({ store });
    let closed = false;
    try {
      const app = await h.svix.application.create({ name: 'vault' });
      const endpoint = await h.svix.endpoint.create(app.id, { url: receiver.url, secret: `whsec_${firstKey}`, headers: { Authorization: headerValue } });
      await h.svix.endpoint.rotateSecret(app.id, endpoint.id, { key: `whsec_${secondKey}` });
      receiver.secret = `whsec_${secondKey}`;
      const portalToken = (await h.svix.authentication.appPortalAccess(app.id, {})).token;
      await h.svix.message.create(app.id, { eventType: 'vault.test', payload: { n: 1 } });
      const delivered = await waitFor('the delivery', () => receiver.requests[0]);
      assert.equal(delivered.verified, true, 'the sealed secret still signs');
      assert.equal(delivered.headers.authorization, headerValue, 'the sealed header is still sent');
      assert.equal((await h.svix.endpoint.getSecret(app.id, endpoint.id)).key, `whsec_${secondKey}`);

      assert.equal(statSync(join(h.dataDir, 'encryption-key')).mode & 0o777, 0o600, 'the generated key is readable by its owner only');
      await h.herald.close();
      closed = true;
      const stored = await everythingStored(h.dataDir, h.schema);
      for (const [what, value] of [
        ['the first secret', firstKey], ['the rotated secret', secondKey], ['the header value', headerValue],
        ['the admin token', h.token], ['the portal token', portalToken],
      ] as const) {
        assert.equal(stored.includes(value), false, `${what} is stored in clear`);
      }
      assert.equal(stored.includes(Buffer.alloc(32, 0x42)), false, 'the raw key bytes are stored');
    } finally {
      if (!closed) await h.herald.close();
      rmSync(h.dataDir, { recursive: true, force: true });
      if (h.schema) await dropSchema(h.schema);
      await receiver.close();
    }
  });
}));
