import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
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
 * Every byte Herald keeps: every file of the data directory but the encryption key (which is what
 * it is), and on PostgreSQL every row of the schema as text too.
 */
async function everythingStored(dataDir: string, schema: string | null): Promise<Buffer> {
  const files = Buffer.concat(readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file !== 'encryption-key' && statSync(join(dataDir, file)).isFile())
    .map((file) => readFileSync(join(dataDir, file))));
  if (!schema) return files;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const tables = (await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows;
    const dumps: string[] = [];
    for (const { table_name: table } of tables) {
      const { rows } = await client.query(`SELECT t::text AS row FROM "${schema}"."${table}" t`);
      dumps.push(...rows.map((row) => row.row));
    }
    return Buffer.concat([files, Buffer.from(dumps.join('\n'))]);
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

  it('keeps no source secret, URL token or header carrying a secret in clear, and still forwards those headers', async () => {
    const receiver = await startReceiver();
    const h = await startTestHerald({ store });
    let closed = false;
    try {
      const GITLAB = 'gitlab-token-3b8e1f0c9d';
      const OLD_GITLAB = 'gitlab-old-token-5c2a7e41';
      const HMAC = 'hmac-secret-8f3d2a6b1e';
      const GITHUB = 'github-secret-4e9b7c0d2f';
      const source = async (type: string, config: Record<string, unknown>) => {
        const created = (await h.api('POST', '/ingest/api/v1/source', { name: type, type, config })).body;
        await h.api('POST', `/ingest/api/v1/source/${created.id}/endpoint`, { url: `${receiver.url}/${type}` });
        return { id: created.id as string, url: created.ingestUrl as string, token: new URL(created.ingestUrl).pathname.split('/').pop()! };
      };
      const gitlab = await source('gitlab', { secret: GITLAB });
      const hmac = await source('hmac', { secret: HMAC, header: 'X-Webhook-Token' });
      const github = await source('github', { secret: GITHUB });
      const generic = await source('generic-webhook', {});
      const post = async (url: string, headers: Record<string, string>, body = '{"event":"x"}') =>
        (await fetch(`${url}?from=test`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).status;

      assert.equal(await post(gitlab.url, { 'x-gitlab-token': GITLAB, 'x-gitlab-event': 'Push Hook' }), 200);
      assert.equal(await post(gitlab.url, { 'x-gitlab-token': OLD_GITLAB, 'x-gitlab-event': 'Push Hook' }), 401, 'kept as a rejected request');
      // A sender that puts the secret itself where the signature belongs: rejected, and kept.
      assert.equal(await post(hmac.url, { 'x-webhook-token': HMAC }), 401);
      const signed = '{"event":"signed"}';
      assert.equal(await post(hmac.url, { 'x-webhook-token': createHmac('sha256', HMAC).update(signed).digest('hex') }, signed), 200);
      const githubBody = '{"action":"opened"}';
      assert.equal(await post(github.url, { 'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB).update(githubBody).digest('hex')}`, 'x-github-event': 'push', 'x-github-delivery': 'd-1' }, githubBody), 200);
      assert.equal(await post(generic.url, {}), 200);
      // The token again, percent-encoded in the path, and in the headers a proxy adds.
      const encoded = generic.url.replace(`/in/${generic.token}`, `/in/%${generic.token.charCodeAt(0).toString(16).toUpperCase()}${generic.token.slice(1)}`);
      assert.equal(await post(encoded, { 'x-forwarded-uri': `/in/${generic.token}?from=proxy`, 'x-original-url': encodeURIComponent(`/in/${generic.token}`) }, '{"event":"proxied"}'), 200);

      const forwarded = await waitFor('the GitLab request forwarded', () => receiver.requests.find((r) => r.path === '/gitlab'));
      assert.equal(forwarded.headers['x-gitlab-token'], GITLAB, 'the sealed header is opened to be forwarded');
      await waitFor('every accepted request forwarded', () => receiver.requests.length === 5);
      const proxied = (await h.api('GET', `/ingest/api/v1/source/${generic.id}/msg`)).body.data.find((m: any) => m.inbound.headers['x-forwarded-uri']);
      assert.deepEqual([proxied.inbound.url.replace(/^.*\/in\//, '/in/'), proxied.inbound.headers['x-forwarded-uri'], proxied.inbound.headers['x-original-url']],
        ['/in/{token}?from=test', '/in/{token}?from=proxy', '/in/{token}']);

      const listed = (await h.api('GET', `/ingest/api/v1/source/${gitlab.id}/msg`)).body.data;
      assert.equal(listed.length, 2);
      for (const message of listed) {
        assert.equal(message.inbound.headers['x-gitlab-token'], undefined, 'the API does not show it either');
        assert.deepEqual(message.inbound.secretHeaders, ['x-gitlab-token']);
        assert.ok(!message.inbound.url.includes(gitlab.token), message.inbound.url);
        assert.match(message.inbound.url, /\?from=test$/);
      }

      await h.herald.close();
      closed = true;
      const stored = await everythingStored(h.dataDir, h.schema);
      for (const [what, value] of [
        ['the GitLab token', GITLAB], ['a wrong GitLab token', OLD_GITLAB], ['the hmac secret', HMAC], ['the GitHub secret', GITHUB],
        ['the GitLab URL token', gitlab.token], ['the hmac URL token', hmac.token], ['the GitHub URL token', github.token], ['the generic URL token', generic.token],
      ] as const) {
        assert.equal(stored.includes(value), false, `${what} is stored in clear`);
      }
    } finally {
      if (!closed) await h.herald.close();
      rmSync(h.dataDir, { recursive: true, force: true });
      if (h.schema) await dropSchema(h.schema);
      await receiver.close();
    }
  });
  it('keeps no bin URL token and no secret-looking header a bin captured in clear, and still shows those headers when revealed', async () => {
    const h = await startTestHerald({ store });
    let closed = false;
    try {
      const AUTHORIZATION = 'Bearer bin-sender-secret-7c1d9e3a';
      const SIGNATURE = 'v1,bin-signature-2f8b6d0c4e';
      const PLAIN = 'plain-header-value-6a0e';
      const bin = (await h.api('POST', '/api/v1/bin', {})).body;
      const rotated = (await h.api('POST', '/api/v1/bin', {})).body;
      const oldToken = new URL(rotated.url).pathname.split('/').pop()!;
      const newUrl = (await h.api('POST', `/api/v1/bin/${rotated.id}/token/rotate`)).body.url as string;
      const answer = await fetch(bin.url, { method: 'POST', headers: { authorization: AUTHORIZATION, 'webhook-signature': SIGNATURE, 'x-plain': PLAIN }, body: 'x' });
      assert.equal(answer.status, 200);
      const revealed = (await h.api('GET', `/api/v1/bin/${bin.id}/request?reveal=true`)).body.data[0];
      const value = (name: string) => revealed.headers.find((header: { name: string }) => header.name === name).value;
      assert.deepEqual([value('authorization'), value('webhook-signature'), value('x-plain')], [AUTHORIZATION, SIGNATURE, PLAIN]);

      await h.herald.close();
      closed = true;
      const stored = await everythingStored(h.dataDir, h.schema);
      assert.equal(stored.includes(PLAIN), true, 'a control: what is not secret-looking is kept in clear, where this search finds it');
      for (const [what, stored_] of [
        ['the Authorization header', AUTHORIZATION], ['the signature header', SIGNATURE], ['the bin\'s URL token', new URL(bin.url).pathname.split('/').pop()!],
        ['a rotated bin\'s old URL token', oldToken], ['a rotated bin\'s new URL token', new URL(newUrl).pathname.split('/').pop()!],
      ] as const) {
        assert.equal(stored.includes(stored_), false, `${what} is stored in clear`);
      }
    } finally {
      if (!closed) await h.herald.close();
      rmSync(h.dataDir, { recursive: true, force: true });
      if (h.schema) await dropSchema(h.schema);
    }
  });
}));
