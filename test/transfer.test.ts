import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Webhook } from 'svix';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { runCli } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, trackFailures, uniqueSchema } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * `herald export` from a Herald on SQLite and `herald import` into a fresh PostgreSQL database with
 * another encryption key, as docs/operations.md tells: run as real commands, and the moved
 * configuration read back through the API of a Herald started on it.
 */
const suite = (await postgresReachable()) ? describe : describe.skip;

suite((await postgresReachable()) ? 'moving a Herald from SQLite to PostgreSQL with export and import' : SKIPPED_POSTGRES, () => {
  const failures = trackFailures();
  const cleanups: Array<() => Promise<void> | void> = [];
  // Servers always stop; a failed test's data stays to look at.
  const servers: Array<{ close(keep?: boolean): Promise<void> }> = [];
  after(async () => {
    for (const server of servers.reverse()) await server.close(failures.any());
    if (failures.any()) return;
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const dir = mkdtempSync(join(tmpdir(), 'herald-transfer-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[], env: Record<string, string>) => runCli(args, { PATH: process.env.PATH, HOME: dir, ...env });

  /** Everything the API shows of the configuration, secrets included, in a comparable form. */
  async function configuration(h: TestHerald) {
    const get = async (path: string) => (await h.api('GET', path)).body;
    const apps = (await get('/api/v1/app?limit=250')).data;
    // A source's URL keeps its token; its origin is the Herald's (another port here).
    const sources = (await get('/ingest/api/v1/source?limit=250')).data
      .map((s: { ingestUrl: string }) => ({ ...s, ingestUrl: new URL(s.ingestUrl).pathname }));
    const owners = [...apps.map((a: { id: string }) => `/api/v1/app/${a.id}`), ...sources.map((s: { id: string }) => `/ingest/api/v1/source/${s.id}`)];
    const endpoints: unknown[] = [];
    for (const owner of owners) {
      for (const endpoint of (await get(`${owner}/endpoint?limit=250`)).data) {
        const path = `${owner}/endpoint/${endpoint.id}`;
        endpoints.push({
          endpoint,
          secret: await get(`${path}/secret`),
          headers: await get(`${path}/headers`),
          transformation: await get(`${path}/transformation`),
        });
      }
    }
    const operational = [];
    for (const endpoint of (await get('/api/v1/operational-webhook/endpoint')).data) {
      operational.push({ endpoint, secret: await get(`/api/v1/operational-webhook/endpoint/${endpoint.id}/secret`) });
    }
    return { eventTypes: (await get('/api/v1/event-type?include_archived=true&limit=250')).data, apps, sources, endpoints, operational };
  }

  it('moves event types, applications, sources and endpoints with their ids and secrets, sealed again under the new key, and is safe to run twice', async () => {
    const receiver = await startReceiver();
    servers.push(receiver);
    const old = await startTestHerald();
    cleanups.push(() => rmSync(old.dataDir, { recursive: true, force: true }));
    const api = old.api;
    await api('POST', '/api/v1/event-type', { name: 'invoice.paid', description: 'An invoice was paid', schemas: { 1: { type: 'object', properties: { amount: { type: 'integer' } } } } });
    await api('POST', '/api/v1/event-type', { name: 'invoice.voided', description: 'Gone', archived: true });
    const app = (await api('POST', '/api/v1/app', { name: 'Acme', uid: 'acme', metadata: { plan: 'pro' }, throttleRate: 40 })).body;
    const main = (await api('POST', `/api/v1/app/${app.id}/endpoint`, {
      url: `${receiver.url}/acme`, uid: 'main', eventTypes: ['invoice.paid'], channels: ['eu'], headers: { 'X-Api-Key': 'k_live_1' },
      filter: { 'payload.amount': { $gte: 100 } }, metadata: { team: 'billing' },
    })).body;
    await api('POST', `/api/v1/app/${app.id}/endpoint/${main.id}/secret/rotate`, {});
    await api('PATCH', `/api/v1/app/${app.id}/endpoint/${main.id}/transformation`, { code: 'function handler(webhook) { webhook.payload.moved = true; return webhook; }', enabled: true });
    await api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/off`, disabled: true });
    const source = (await api('POST', '/ingest/api/v1/source', { name: 'Stripe', uid: 'stripe', type: 'stripe', config: { secret: 'whsec_test_stripe' } })).body;
    await api('POST', `/ingest/api/v1/source/${source.id}/endpoint`, { url: `${receiver.url}/stripe` });
    await api('POST', '/api/v1/operational-webhook/endpoint', { url: `${receiver.url}/ops`, filterTypes: ['endpoint.disabled'] });
    const before = await configuration(old);
    await old.herald.close();

    const file = join(dir, 'export.jsonl');
    const exported = await cli(['export', file], { HERALD_DATA_DIR: old.dataDir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the file holds secrets: its owner alone reads it');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines[0], { kind: 'header', format: 'herald-export', version: 1, exportedAt: lines[0].exportedAt });
    assert.match(exported.stderr, /Exported \d+ records/);

    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const target = { HERALD_DATABASE_URL: postgresUrl(schema), HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64'), HERALD_DATA_DIR: join(dir, 'new') };
    const imported = await cli(['import', file], target);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^Created 2 eventTypes, 2 applications, 1 source, 4 endpoints\.$/m);
    const again = await cli(['import', file], target);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Created 0 eventTypes, 0 applications, 0 sources, 0 endpoints\.\nAlready there \(left as they were\): 2 eventTypes, 2 applications, 1 source, 4 endpoints\.$/m);

    const moved = await startTestHerald({ env: target });
    servers.push(moved);
    assert.deepEqual(await configuration(moved), before);

    // The secrets work: a delivery from the new Herald verifies with the secret the old one showed.
    const secret = before.endpoints.find((e: any) => e.endpoint.id === main.id) as { secret: { key: string } };
    await moved.api('POST', `/api/v1/app/acme/msg`, { eventType: 'invoice.paid', payload: { amount: 4200 }, channels: ['eu'] });
    const request = await waitFor('the delivery at the moved endpoint', () => receiver.requests.find((r) => r.path === '/acme'));
    new Webhook(secret.secret.key).verify(request.body.toString(), request.headers as Record<string, string>);
    assert.deepEqual(JSON.parse(request.body.toString()), { amount: 4200, moved: true }, 'signed with the moved secret, transformed by the moved code');
    assert.equal(request.headers['x-api-key'], 'k_live_1');
  });

  it('refuses a file that is not an export, naming the line, and changes nothing', async () => {
    const file = join(dir, 'not-an-export.jsonl');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"kind":"application","application":{}}\n');
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const result = await cli(['import', file], { HERALD_DATABASE_URL: postgresUrl(schema), HERALD_DATA_DIR: join(dir, 'refused') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /line 1 is not a Herald export's header/);
  });
});
