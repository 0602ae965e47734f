import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import pg from 'pg';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
// The built entries, through the package's own name, as a service that installed Herald imports them.
import { type IdempotencyStore, MemoryIdempotencyStore, type VerifiedWebhook, verify } from 'herald/receiver';
import { expressWebhook } from 'herald/receiver/express';
import { fastifyWebhook } from 'herald/receiver/fastify';
import { honoWebhook } from 'herald/receiver/hono';
import { nextWebhook } from 'herald/receiver/next';
import { PostgresIdempotencyStore } from 'herald/receiver/postgres';
import { SqliteIdempotencyStore } from 'herald/receiver/sqlite';
import { serveFetch } from './support/fetch-server.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { dropSchema, forEachStore, postgresReachable, TEST_DATABASE_URL, trackFailures, uniqueSchema } from './support/stores.ts';
import { settled, waitFor } from './support/wait.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const secret = `whsec_${Buffer.alloc(24, 11).toString('base64')}`;
const stranger = `whsec_${Buffer.alloc(24, 12).toString('base64')}`;

type AdapterName = 'express' | 'fastify' | 'hono' | 'next';
const ADAPTERS: AdapterName[] = ['express', 'fastify', 'hono', 'next'];

interface ReceiverOptions {
  secret: string | string[];
  idempotency?: IdempotencyStore;
  maxBodyBytes?: number;
  /** The service's code: what it does with a verified delivery. */
  handler(event: VerifiedWebhook): unknown;
}

/** A service on 127.0.0.1 whose webhook route, `<url>/hooks`, is served by one adapter. */
interface Service {
  url: string;
  close(): Promise<void>;
}

const services: Record<AdapterName, (options: ReceiverOptions) => Promise<Service>> = {
  async express(options) {
    const app = express();
    app.post('/hooks', expressWebhook({ ...options, handler: (event) => options.handler(event) }));
    // The rest of the service parses JSON; the webhook route comes before the parser.
    app.use(express.json());
    app.post('/echo', (req, res) => void res.json(req.body));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: error.message }));
    return listen(app);
  },
  async fastify(options) {
    const app = Fastify();
    app.post('/echo', async (request) => request.body);
    await app.register(fastifyWebhook({ ...options, path: '/hooks', handler: (event) => options.handler(event) }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  async hono(options) {
    const app = new Hono();
    app.post('/hooks', honoWebhook({ ...options, handler: (event) => options.handler(event) }));
    app.post('/echo', async (c) => c.json(await c.req.json()));
    app.onError((error, c) => c.json({ error: error.message }, 500));
    return serveFetch(app.fetch);
  },
  async next(options) {
    // app/hooks/route.ts would be `export const POST = nextWebhook(...)`; the server routes to it.
    const POST = nextWebhook({ ...options, handler: (event) => options.handler(event) });
    return serveFetch((request) => (new URL(request.url).pathname === '/hooks' ? POST(request) : new Response(null, { status: 404 })));
  },
};

function listen(handler: Parameters<typeof createServer>[1]): Promise<Service> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** A request as a Standard Webhooks sender signs it, with `signer`'s key, at `timestamp` (seconds). */
function signedRequest(body: string, options: { signer?: string; id?: string; timestamp?: number; library?: 'standardwebhooks' | 'svix'; contentType?: string } = {}) {
  const { signer = secret, id = `msg_${Math.random().toString(36).slice(2)}`, timestamp = Math.floor(Date.now() / 1000), library = 'standardwebhooks' } = options;
  const prefix = library === 'svix' ? 'svix' : 'webhook';
  const signature = (library === 'svix' ? new SvixWebhook(signer) : new StandardWebhook(signer)).sign(id, new Date(timestamp * 1000), body);
  return {
    id,
    headers: {
      'content-type': options.contentType ?? 'application/json',
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(timestamp),
      [`${prefix}-signature`]: signature,
    } as Record<string, string>,
  };
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

describe('herald/receiver, as installed', () => {
  const ENTRIES = ['herald/receiver', ...['express', 'fastify', 'hono', 'next', 'sqlite', 'postgres'].map((name) => `herald/receiver/${name}`)];
  let consumer: string;

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist/receiver/index.js')), 'dist/receiver is missing: run `npm run build` (npm test does)');
    // A service's node_modules holding Herald as npm installs it: package.json and the built files.
    consumer = mkdtempSync(join(tmpdir(), 'herald-consumer-'));
    mkdirSync(join(consumer, 'node_modules/herald'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(consumer, 'node_modules/herald/package.json'));
    cpSync(join(ROOT, 'dist'), join(consumer, 'node_modules/herald/dist'), { recursive: true });
  });
  after(() => rmSync(consumer, { recursive: true, force: true }));

  /** Imports `entry` in a fresh Node.js inside the consumer, and lists every module it loaded. */
  async function modulesLoadedBy(entry: string): Promise<{ exports: string[]; loaded: string[] }> {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); loaded.push(resolved.url); return resolved; } });
      const exports = Object.keys(await import(${JSON.stringify(entry)}));
      console.log(JSON.stringify({ exports, loaded }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    return JSON.parse(stdout);
  }

  for (const entry of ENTRIES) {
    it(`loads ${entry} from node_modules as JavaScript, and nothing but its own files and Node's built-ins`, async () => {
      const { exports, loaded } = await modulesLoadedBy(entry);
      assert.ok(exports.length > 0, 'the entry exports something');
      const ownFiles = `file://${join(consumer, 'node_modules/herald/dist/receiver/')}`;
      const foreign = loaded.filter((url) => !url.startsWith('node:') && !url.startsWith(ownFiles));
      assert.deepEqual(foreign, [], 'modules outside herald/receiver were loaded');
      assert.ok(!loaded.some((url) => /\/node_modules\/(fastify|pg|undici)\/|\/src\//.test(url)), loaded.join('\n'));
      assert.ok(loaded.every((url) => !url.endsWith('.ts')), 'no TypeScript is loaded from node_modules');
    });
  }

  it('keeps the main entry free of the adapters, the SQL stores and node:sqlite', async () => {
    const { exports, loaded } = await modulesLoadedBy('herald/receiver');
    assert.deepEqual(exports.filter((name) => ['verify', 'verifyWebhook', 'once', 'MemoryIdempotencyStore', 'WebhookVerificationError'].includes(name)).length, 5);
    for (const other of ['express', 'fastify', 'hono', 'next', 'sqlite.js', 'postgres']) {
      assert.ok(!loaded.some((url) => url.includes(`/dist/receiver/${other}`)), `${other} was loaded`);
    }
    assert.ok(!loaded.includes('node:sqlite'));
  });

  it('resolves through the package name from the repository itself (self-reference)', () => {
    const signed = signedRequest('{"ok":true}');
    assert.deepEqual(verify('{"ok":true}', signed.headers, secret), { ok: true });
  });
});

for (const adapter of ADAPTERS) {
  describe(`the ${adapter} adapter, given requests signed by the svix and standardwebhooks libraries`, () => {
    const calls: VerifiedWebhook[] = [];
    let service: Service;
    let hooks: string;
    before(async () => {
      service = await services[adapter]({ secret, maxBodyBytes: 4096, handler: (event) => void calls.push(event) });
      hooks = `${service.url}/hooks`;
    });
    after(() => service.close());

    it('accepts a request signed by the standardwebhooks library and hands the handler the payload', async () => {
      const body = '{"type":"invoice.paid","amount":4200}';
      const request = signedRequest(body);
      assert.deepEqual(await post(hooks, body, request.headers), { status: 200, body: { received: true } });
      const call = calls.find((c) => c.id === request.id);
      assert.deepEqual(call?.payload, { type: 'invoice.paid', amount: 4200 });
    });

    it('accepts a request signed by the svix library, with svix-* headers', async () => {
      const body = '{"type":"user.created","name":"Ada"}';
      const request = signedRequest(body, { library: 'svix' });
      assert.equal((await post(hooks, body, request.headers)).status, 200);
      assert.deepEqual(calls.find((c) => c.id === request.id)?.payload, { type: 'user.created', name: 'Ada' });
    });

    it('verifies the bytes as sent, whatever the content-type, without re-serialising them', async () => {
      // JSON.stringify(JSON.parse(body)) differs from body, so a re-serialising adapter would fail.
      const body = '{ "amount": 1.50,\n  "big": 12345678901234567890, "text": "\\u00e9" }';
      for (const contentType of ['application/json', 'text/plain; charset=utf-8', 'application/octet-stream']) {
        const request = signedRequest(body, { contentType });
        assert.equal((await post(hooks, body, request.headers)).status, 200, contentType);
        assert.equal(Buffer.from(calls.find((c) => c.id === request.id)!.rawBody).toString(), body);
      }
    });

    const refusals: Array<[string, () => { body: string; headers: Record<string, string> }, number, string]> = [
      ['a tampered body', () => ({ body: '{"amount":1}', headers: signedRequest('{"amount":2}').headers }), 401, 'no_matching_signature'],
      ['a stale timestamp', () => ({ body: '{}', headers: signedRequest('{}', { timestamp: Math.floor(Date.now() / 1000) - 600 }).headers }), 401, 'timestamp_too_old'],
      ['a timestamp in the future', () => ({ body: '{}', headers: signedRequest('{}', { timestamp: Math.floor(Date.now() / 1000) + 600 }).headers }), 401, 'timestamp_too_new'],
      ['a signature by another secret', () => ({ body: '{}', headers: signedRequest('{}', { signer: stranger }).headers }), 401, 'no_matching_signature'],
      ['a missing signature header', () => {
        const { headers } = signedRequest('{}');
        delete headers['webhook-signature'];
        return { body: '{}', headers };
      }, 400, 'missing_header'],
      ['an authentic body that is not JSON', () => ({ body: 'hello', headers: signedRequest('hello').headers }), 400, 'invalid_json'],
    ];
    for (const [what, make, status, reason] of refusals) {
      it(`refuses ${what} with ${status} ${reason}, without running the handler`, async () => {
        const { body, headers } = make();
        const before = calls.length;
        const answer = await post(hooks, body, headers);
        assert.equal(answer.status, status);
        assert.equal(answer.body.code, reason);
        assert.equal(typeof answer.body.detail, 'string');
        assert.equal(calls.length, before);
      });
    }

    it('answers 413 to a body over maxBodyBytes, and takes one just under it', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(5000) });
      assert.equal((await post(hooks, big, signedRequest(big).headers)).status, 413);
      const fits = JSON.stringify({ pad: 'x'.repeat(4000) });
      assert.equal((await post(hooks, fits, signedRequest(fits).headers)).status, 200);
    });
  });
}

describe('adapters and the rest of their application', () => {
  it('Express: works after express.raw({ type: "*/*" }), and answers 500 raw_body_unavailable after express.json()', async () => {
    const calls: unknown[] = [];
    const app = express();
    app.post('/raw', express.raw({ type: '*/*' }), expressWebhook({ secret, handler: (event) => void calls.push(event.payload) }));
    app.post('/parsed', express.json(), expressWebhook({ secret, handler: (event) => void calls.push(event.payload) }));
    const service = await listen(app);
    try {
      const body = '{"n": 1}';
      assert.equal((await post(`${service.url}/raw`, body, signedRequest(body).headers)).status, 200);
      const parsed = await post(`${service.url}/parsed`, body, signedRequest(body).headers);
      assert.deepEqual([parsed.status, parsed.body.code], [500, 'raw_body_unavailable']);
      assert.deepEqual(calls, [{ n: 1 }]);
    } finally {
      await service.close();
    }
  });

  it("Fastify: the plugin's raw parser stays inside it, so the application's other routes still parse JSON", async () => {
    const service = await services.fastify({ secret, handler: () => {} });
    try {
      assert.deepEqual(await post(`${service.url}/echo`, '{"a": 1}', { 'content-type': 'application/json' }), { status: 200, body: { a: 1 } });
    } finally {
      await service.close();
    }
  });

  it('Hono: verifies after a middleware already read the body with c.req.json()', async () => {
    const seen: unknown[] = [];
    const app = new Hono();
    app.use('/hooks', async (c, next) => {
      seen.push(await c.req.json());
      await next();
    });
    app.post('/hooks', honoWebhook({ secret, handler: (event) => void seen.push(event.payload) }));
    const service = await serveFetch(app.fetch);
    try {
      const body = '{ "spaced" :  true }';
      assert.equal((await post(`${service.url}/hooks`, body, signedRequest(body).headers)).status, 200);
      assert.deepEqual(seen, [{ spaced: true }, { spaced: true }]);
    } finally {
      await service.close();
    }
  });

  it('Next.js: answers 500 raw_body_unavailable when the request body was already read', async () => {
    const POST = nextWebhook({ secret, handler: () => assert.fail('the handler ran') });
    const body = '{"n": 1}';
    const request = new Request('http://127.0.0.1/hooks', { method: 'POST', headers: signedRequest(body).headers, body });
    await request.json();
    const response = await POST(request);
    assert.equal(response.status, 500);
    assert.equal(((await response.json()) as { code: string }).code, 'raw_body_unavailable');
  });

  it('refuses to start with a secret that cannot be a key', () => {
    for (const make of [() => expressWebhook({ secret: 'whsec_!', handler: () => {} }), () => nextWebhook({ secret: [], handler: () => {} })]) {
      assert.throws(make, { name: 'WebhookVerificationError', reason: 'invalid_secret' });
    }
  });
});

/** Where each adapter keeps the ids it handled in the end-to-end suite: each store is used by one. */
async function idempotencyStoreFor(adapter: AdapterName): Promise<{ store: IdempotencyStore; close(): Promise<void> }> {
  if (adapter === 'express' || (adapter === 'next' && !(await postgresReachable()))) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-receiver-ids-'));
    const store = new SqliteIdempotencyStore(join(dir, 'ids.db'));
    return { store, close: async () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  if (adapter === 'next') {
    const schema = uniqueSchema();
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    await pool.query(`CREATE SCHEMA "${schema}"`);
    return { store: new PostgresIdempotencyStore(pool, { table: `${schema}.handled` }), close: async () => (await pool.end(), await dropSchema(schema)) };
  }
  return { store: new MemoryIdempotencyStore(), close: async () => {} };
}

await forEachStore((store) =>
  describe(`real deliveries from Herald (${store})`, () => {
    const failures = trackFailures();
    let h: TestHerald;
    const cleanups: Array<() => Promise<void>> = [];
    before(async () => {
      h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '100ms,200ms' } });
    });
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await h.close(failures.any());
    });

    /**
     * An application and an endpoint of Herald's (HMAC unless `keyType`), a service of `adapter`
     * verifying with the secret Herald shows for it, and the endpoint pointed at the service.
     */
    async function serviceFor(adapter: AdapterName, options: { keyType?: 'ed25519'; secret?: string; receiverSecret?: (shown: string) => string | string[]; handler?: (event: VerifiedWebhook, calls: VerifiedWebhook[]) => unknown } = {}) {
      const app = await h.svix.application.create({ name: `receiver ${adapter}` });
      const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, {
        url: 'http://127.0.0.1:9/not-yet',
        ...(options.keyType ? { keyType: options.keyType } : {}),
        ...(options.secret ? { secret: options.secret } : {}),
      });
      assert.equal(created.status, 201);
      const endpointId: string = created.body.id;
      const shown = (await h.svix.endpoint.getSecret(app.id, endpointId)).key;
      const calls: VerifiedWebhook[] = [];
      const ids = await idempotencyStoreFor(adapter);
      const service = await services[adapter]({
        secret: options.receiverSecret?.(shown) ?? shown,
        idempotency: ids.store,
        handler: (event) => {
          calls.push(event);
          return options.handler?.(event, calls);
        },
      });
      cleanups.push(() => service.close(), ids.close);
      await h.svix.endpoint.patch(app.id, endpointId, { url: `${service.url}/hooks` });
      const attempts = async (msgId: string, count: number) =>
        waitFor(`${count} attempt(s) of ${msgId}`, async () => {
          const { data } = await h.svix.messageAttempt.listByMsg(app.id, msgId, { withContent: true });
          return data.length >= count ? [...data].reverse() : null;
        });
      const quiet = () => settled((path) => h.api('GET', path), [`/api/v1/app/${app.id}/endpoint/${endpointId}`]);
      return { appId: app.id, endpointId, shown, calls, attempts, quiet };
    }

    for (const adapter of ADAPTERS) {
      describe(`through the ${adapter} adapter`, () => {
        it('runs the handler once with the payload of a delivery, byte for byte as published', async () => {
          const s = await serviceFor(adapter);
          // Published as raw JSON: Herald sends these bytes, which JSON.stringify would change.
          const published = await h.api('POST', `/api/v1/app/${s.appId}/msg`, '{"eventType":"invoice.paid","payload":{"invoice": "inv_1", "amount": 42.10}}');
          assert.equal(published.status, 202);
          const [attempt] = await s.attempts(published.body.id, 1);
          await s.quiet();
          assert.equal(attempt!.responseStatusCode, 200);
          assert.deepEqual(JSON.parse(attempt!.response), { received: true });
          assert.equal(s.calls.length, 1);
          assert.equal(s.calls[0]!.id, published.body.id);
          assert.deepEqual(s.calls[0]!.payload, { invoice: 'inv_1', amount: 42.1 });
          assert.equal(Buffer.from(s.calls[0]!.rawBody).toString(), '{"invoice": "inv_1", "amount": 42.10}');
        });

        it("verifies an ed25519 endpoint's v1a deliveries with the whpk_ public key Herald shows", async () => {
          const s = await serviceFor(adapter, { keyType: 'ed25519' });
          assert.match(s.shown, /^whpk_/);
          const message = await h.svix.message.create(s.appId, { eventType: 'user.created', payload: { user: 'ada' } });
          const [attempt] = await s.attempts(message.id, 1);
          assert.equal(attempt!.responseStatusCode, 200);
          assert.deepEqual(s.calls.map((c) => c.payload), [{ user: 'ada' }]);
        });

        it('does not run the handler again when Herald sends the same message again (resend), and says so', async () => {
          const s = await serviceFor(adapter);
          const message = await h.svix.message.create(s.appId, { eventType: 'invoice.paid', payload: { n: 1 } });
          await s.attempts(message.id, 1);
          await h.svix.messageAttempt.resend(s.appId, message.id, s.endpointId);
          const attempts = await s.attempts(message.id, 2);
          await s.quiet();
          assert.deepEqual(attempts.map((a) => a.responseStatusCode), [200, 200]);
          assert.deepEqual(JSON.parse(attempts[1]!.response), { received: true, duplicate: true });
          assert.equal(s.calls.length, 1);
        });

        it("runs the handler again on Herald's retry when it threw, and once it succeeded, no more", async () => {
          const s = await serviceFor(adapter, {
            handler: (_event, calls) => {
              if (calls.length === 1) throw new Error('the database was down');
            },
          });
          const message = await h.svix.message.create(s.appId, { eventType: 'invoice.paid', payload: { n: 2 } });
          const attempts = await s.attempts(message.id, 2);
          await s.quiet();
          assert.deepEqual(attempts.map((a) => a.responseStatusCode), [500, 200]);
          assert.equal(s.calls.length, 2);
          assert.ok(s.calls.every((c) => c.id === message.id));
        });

        it('verifies through a rotation with both secrets, each message signed by only one of them', async () => {
          const rotated = `whsec_${Buffer.alloc(32, 21).toString('base64')}`;
          const s = await serviceFor(adapter, { secret, receiverSecret: () => [secret, rotated] });
          const first = await h.svix.message.create(s.appId, { eventType: 'invoice.paid', payload: { n: 'before' } });
          await s.attempts(first.id, 1);
          // No grace period: from now on Herald signs with the new secret alone.
          const rotation = await h.api('POST', `/api/v1/app/${s.appId}/endpoint/${s.endpointId}/secret/rotate`, { key: rotated, gracePeriodSeconds: 0 });
          assert.equal(rotation.status, 204);
          assert.equal((await h.svix.endpoint.getSecret(s.appId, s.endpointId)).key, rotated);
          const second = await h.svix.message.create(s.appId, { eventType: 'invoice.paid', payload: { n: 'after' } });
          const [attempt] = await s.attempts(second.id, 1);
          assert.equal(attempt!.responseStatusCode, 200);
          assert.deepEqual(s.calls.map((c) => c.payload), [{ n: 'before' }, { n: 'after' }]);
        });

        it("refuses Herald's deliveries with a wrong secret, and Herald's attempt log shows why", async () => {
          const s = await serviceFor(adapter, { receiverSecret: () => stranger });
          const message = await h.svix.message.create(s.appId, { eventType: 'invoice.paid', payload: { n: 3 } });
          const [attempt] = await s.attempts(message.id, 1);
          assert.equal(attempt!.responseStatusCode, 401);
          assert.equal(JSON.parse(attempt!.response).code, 'no_matching_signature');
          assert.equal(s.calls.length, 0);
        });
      });
    }
  }),
);
