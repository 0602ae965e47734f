import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { postgresReachable, SKIPPED_POSTGRES, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * What PostgreSQL cannot hold, SQLite is not allowed to take either: a NUL (`%00`) in any path
 * segment or query parameter, and a NUL or a lone surrogate (`\udc00`, `\ud800`) in any JSON
 * string, get the same 4xx from a Herald on each store, side by side. The one exception is the
 * message payload, which is bytes: it is stored, on both, exactly as sent.
 */

/** The names each path placeholder stands for; the same uids on both Heralds, so the paths match. */
interface Fixture {
  app: string;
  ep: string;
  msg: string;
  type: string;
  source: string;
  attempt: string;
  token: string;
  bin: string;
  binToken: string;
  binRequest: string;
}

interface Route {
  method: string;
  /** With `{app}`, `{ep}`, ... for the fixture's values. */
  path: string;
  /** The query parameters the route declares. */
  query?: string[];
  body?: unknown;
}

const LIST = ['limit', 'iterator', 'order'];
const MESSAGE_FILTERS = [...LIST, 'event_types', 'channel', 'before', 'after', 'with_content'];
const ATTEMPT_FILTERS = [...MESSAGE_FILTERS, 'status', 'status_code_class', 'endpoint_id', 'with_msg'];

/** Routes that an application and a source both have (a source's endpoints, messages and attempts). */
const ownerRoutes = (base: string, withMessageCreate: boolean): Route[] => [
  { method: 'GET', path: `${base}/endpoint`, query: LIST },
  { method: 'POST', path: `${base}/endpoint`, body: { url: 'http://127.0.0.1:9/x' } },
  { method: 'GET', path: `${base}/endpoint/{ep}` },
  { method: 'PUT', path: `${base}/endpoint/{ep}`, body: { url: 'http://127.0.0.1:9/x' } },
  { method: 'PATCH', path: `${base}/endpoint/{ep}`, body: {} },
  { method: 'DELETE', path: `${base}/endpoint/{ep}` },
  { method: 'GET', path: `${base}/endpoint/{ep}/secret` },
  { method: 'POST', path: `${base}/endpoint/{ep}/secret/rotate`, body: {} },
  { method: 'GET', path: `${base}/endpoint/{ep}/headers` },
  { method: 'PUT', path: `${base}/endpoint/{ep}/headers`, body: { headers: {} } },
  { method: 'PATCH', path: `${base}/endpoint/{ep}/headers`, body: { headers: {} } },
  { method: 'GET', path: `${base}/endpoint/{ep}/stats`, query: ['since', 'until'] },
  { method: 'POST', path: `${base}/endpoint/{ep}/recover`, body: { since: '2020-01-01T00:00:00Z' } },
  { method: 'POST', path: `${base}/endpoint/{ep}/send-example`, body: { eventType: 'invoice.paid' } },
  ...(withMessageCreate ? [{ method: 'POST', path: `${base}/msg`, query: ['with_content'], body: { eventType: 'invoice.paid', payload: {} } }] : []),
  { method: 'GET', path: `${base}/msg`, query: [...MESSAGE_FILTERS, 'status'] },
  { method: 'GET', path: `${base}/msg/{msg}`, query: ['with_content'] },
  { method: 'GET', path: `${base}/attempt/endpoint/{ep}`, query: ATTEMPT_FILTERS },
  { method: 'GET', path: `${base}/attempt/msg/{msg}`, query: ATTEMPT_FILTERS },
  { method: 'GET', path: `${base}/msg/{msg}/attempt/{attempt}` },
  { method: 'GET', path: `${base}/msg/{msg}/attempt/{attempt}/headers` },
  { method: 'GET', path: `${base}/msg/{msg}/endpoint`, query: LIST },
  { method: 'GET', path: `${base}/endpoint/{ep}/msg`, query: [...MESSAGE_FILTERS, 'status'] },
  { method: 'POST', path: `${base}/msg/{msg}/endpoint/{ep}/resend` },
];

const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/app', query: [...LIST, 'search', 'with_stats'] },
  { method: 'POST', path: '/api/v1/app', query: ['get_if_exists'], body: { name: 'New' } },
  { method: 'GET', path: '/api/v1/app/{app}' },
  { method: 'PUT', path: '/api/v1/app/{app}', body: { name: 'Acme', uid: 'acme' } },
  { method: 'PATCH', path: '/api/v1/app/{app}', body: {} },
  { method: 'DELETE', path: '/api/v1/app/{app}' },
  { method: 'GET', path: '/api/v1/event-type', query: [...LIST, 'include_archived', 'with_content'] },
  { method: 'GET', path: '/api/v1/event-type/{type}' },
  { method: 'PUT', path: '/api/v1/event-type/{type}', body: { description: 'd' } },
  { method: 'PATCH', path: '/api/v1/event-type/{type}', body: {} },
  { method: 'DELETE', path: '/api/v1/event-type/{type}', query: ['expunge'] },
  ...ownerRoutes('/api/v1/app/{app}', true),
  { method: 'POST', path: '/api/v1/auth/app-portal-access/{app}', body: {} },
  { method: 'POST', path: '/api/v1/auth/app/{app}/expire-all', body: {} },
  { method: 'GET', path: '/ingest/api/v1/source', query: LIST },
  { method: 'GET', path: '/ingest/api/v1/source/{source}' },
  { method: 'PUT', path: '/ingest/api/v1/source/{source}', body: { name: 'Source', uid: 'src', type: 'generic-webhook' } },
  { method: 'DELETE', path: '/ingest/api/v1/source/{source}' },
  { method: 'POST', path: '/ingest/api/v1/source/{source}/token/rotate' },
  ...ownerRoutes('/ingest/api/v1/source/{source}', false),
  { method: 'GET', path: '/api/v1/source/{source}/request', query: LIST },
  { method: 'GET', path: '/api/v1/source/{source}/request/{msg}', query: ['reveal'] },
  { method: 'POST', path: '/in/{token}', body: {} },
  { method: 'GET', path: '/api/v1/bin', query: LIST },
  { method: 'GET', path: '/api/v1/bin/{bin}' },
  { method: 'PATCH', path: '/api/v1/bin/{bin}', body: {} },
  { method: 'DELETE', path: '/api/v1/bin/{bin}' },
  { method: 'POST', path: '/api/v1/bin/{bin}/token/rotate' },
  { method: 'GET', path: '/api/v1/bin/{bin}/request', query: [...LIST, 'reveal', 'with_content'] },
  { method: 'GET', path: '/api/v1/bin/{bin}/request/{binRequest}', query: ['reveal'] },
  { method: 'DELETE', path: '/api/v1/bin/{bin}/request/{binRequest}' },
  { method: 'GET', path: '/api/v1/bin/{bin}/request/stream', query: ['reveal'] },
  { method: 'POST', path: '/bin/{binToken}', body: {} },
];

/** A string field of a request body: where it is, `@key` meaning the first key of the object there. */
interface BodyRoute {
  method: string;
  path: string;
  body: Record<string, unknown>;
  fields: string[][];
  /** Fields whose strings are kept as bytes, so they are stored rather than refused. */
  stored?: string[][];
}

const SCHEMAS = { '1': { description: 'v1', properties: { amount: { type: 'integer' } } } };
const HMAC_CONFIG = { secret: 'acme-secret', header: 'X-Acme-Signature', prefix: 'sha256=', signedContent: '{body}', timestampHeader: 'X-Acme-Timestamp' };
const endpointBody = (n: () => string) => ({
  url: 'http://127.0.0.1:9/hook', description: 'd', uid: `ep-${n()}`, eventTypes: ['invoice.paid'], channels: ['eu'],
  headers: { 'x-tenant': 'acme' }, metadata: { tier: 'gold' }, secret: `whsec_${Buffer.alloc(24, 3).toString('base64')}`,
});
const ENDPOINT_FIELDS = [['url'], ['description'], ['uid'], ['eventTypes', '0'], ['channels', '0'], ['headers', '@key'], ['headers', 'x-tenant'], ['metadata', '@key'], ['metadata', 'tier'], ['secret']];

let counter = 0;
const n = () => `${Date.now().toString(36)}-${++counter}`;

const bodyRoutes = (): BodyRoute[] => [
  { method: 'POST', path: '/api/v1/app', body: { name: 'Acme', uid: `app-${n()}`, metadata: { tier: 'gold' } }, fields: [['name'], ['uid'], ['metadata', '@key'], ['metadata', 'tier']] },
  { method: 'PUT', path: '/api/v1/app/acme', body: { name: 'Acme', uid: 'acme', metadata: { tier: 'gold' } }, fields: [['name'], ['uid'], ['metadata', '@key'], ['metadata', 'tier']] },
  { method: 'PATCH', path: '/api/v1/app/acme', body: { name: 'Acme', metadata: { tier: 'gold' } }, fields: [['name'], ['metadata', '@key'], ['metadata', 'tier']] },
  {
    method: 'POST', path: '/api/v1/event-type', body: { name: `type-${n()}`, description: 'd', featureFlag: 'beta', schemas: SCHEMAS },
    fields: [['name'], ['description'], ['featureFlag'], ['schemas', '@key'], ['schemas', '1', 'description'], ['schemas', '1', 'properties', '@key'], ['schemas', '1', 'properties', 'amount', 'type']],
  },
  { method: 'PUT', path: '/api/v1/event-type/invoice.paid', body: { description: 'd', schemas: SCHEMAS }, fields: [['description'], ['schemas', '@key'], ['schemas', '1', 'description']] },
  { method: 'PATCH', path: '/api/v1/event-type/invoice.paid', body: { description: 'd', schemas: SCHEMAS }, fields: [['description'], ['schemas', '1', 'description']] },
  { method: 'POST', path: '/api/v1/app/acme/endpoint', body: endpointBody(n), fields: ENDPOINT_FIELDS },
  { method: 'PUT', path: '/api/v1/app/acme/endpoint/primary', body: { url: 'http://127.0.0.1:9/hook', description: 'd', uid: 'primary', metadata: { tier: 'gold' } }, fields: [['url'], ['description'], ['uid'], ['metadata', '@key'], ['metadata', 'tier']] },
  { method: 'PATCH', path: '/api/v1/app/acme/endpoint/primary', body: { description: 'd', metadata: { tier: 'gold' } }, fields: [['description'], ['metadata', '@key'], ['metadata', 'tier']] },
  { method: 'PUT', path: '/api/v1/app/acme/endpoint/primary/headers', body: { headers: { 'x-tenant': 'acme' } }, fields: [['headers', '@key'], ['headers', 'x-tenant']] },
  { method: 'PATCH', path: '/api/v1/app/acme/endpoint/primary/headers', body: { headers: { 'x-tenant': 'acme' } }, fields: [['headers', '@key'], ['headers', 'x-tenant']] },
  { method: 'POST', path: '/api/v1/app/acme/endpoint/primary/secret/rotate', body: { key: `whsec_${Buffer.alloc(24, 4).toString('base64')}` }, fields: [['key']] },
  { method: 'POST', path: '/api/v1/app/acme/endpoint/primary/recover', body: { since: '2020-01-01T00:00:00Z' }, fields: [['since']] },
  { method: 'POST', path: '/api/v1/app/acme/endpoint/primary/send-example', body: { eventType: 'invoice.paid' }, fields: [['eventType']] },
  {
    method: 'POST', path: '/api/v1/app/acme/msg',
    body: { eventType: 'invoice.paid', eventId: `evt-${n()}`, channels: ['eu'], payload: { note: 'n', nested: { deeper: ['x'] } }, application: { name: 'Acme', uid: 'acme' } },
    fields: [['eventType'], ['eventId'], ['channels', '0'], ['application', 'name']],
    stored: [['payload', 'note'], ['payload', '@key'], ['payload', 'nested', 'deeper', '0']],
  },
  { method: 'POST', path: '/api/v1/auth/app-portal-access/acme', body: { application: { name: 'Acme', uid: 'acme' } }, fields: [['application', 'name']] },
  {
    method: 'POST', path: '/ingest/api/v1/source', body: { name: 'Source', uid: `src-${n()}`, type: 'hmac', config: HMAC_CONFIG, metadata: { team: 'billing' } },
    fields: [['name'], ['uid'], ['type'], ['config', 'secret'], ['config', 'header'], ['config', 'prefix'], ['config', 'signedContent'], ['config', 'timestampHeader'], ['config', '@key'], ['metadata', '@key'], ['metadata', 'team']],
  },
  { method: 'PUT', path: '/ingest/api/v1/source/src', body: { name: 'Source', uid: 'src', type: 'hmac', config: HMAC_CONFIG }, fields: [['name'], ['config', 'secret'], ['config', 'signedContent']] },
  { method: 'POST', path: '/ingest/api/v1/source/src/endpoint', body: endpointBody(n), fields: ENDPOINT_FIELDS },
  {
    method: 'POST', path: '/api/v1/bin', body: { name: 'Bin', response: { body: 'ok', headers: { 'X-Bin': 'yes' } } },
    fields: [['name'], ['response', 'body'], ['response', 'headers', '@key'], ['response', 'headers', 'X-Bin']],
  },
];

/** The body with the string at `field` (or the first key there, for `@key`) replaced by `bad`. */
function poisoned(body: Record<string, unknown>, field: string[], bad: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let at: Record<string, unknown> = copy;
  for (const key of field.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = field.at(-1)!;
  if (last === '@key') {
    const [first] = Object.keys(at);
    const value = at[first!];
    delete at[first!];
    at[`${first}${bad}`] = value;
  } else {
    at[last] = `${at[last]}${bad}`;
  }
  return copy;
}

const BAD_STRINGS: Array<[string, string]> = [['a lone low surrogate', '\udc00'], ['a lone high surrogate', '\ud800'], ['a NUL', '\u0000']];

if (!(await postgresReachable())) {
  describe.skip(SKIPPED_POSTGRES, () => {});
} else {
  describe('SQLite and PostgreSQL answer what PostgreSQL cannot store alike', () => {
    const failures = trackFailures();
    const heralds: Array<{ h: TestHerald; fixture: Fixture }> = [];
    let receiver: Receiver;

    async function seed(h: TestHerald): Promise<Fixture> {
      const ok = async (method: string, path: string, body?: unknown) => {
        const answer = await h.api(method, path, body);
        assert.ok(answer.status < 300, `seeding ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return answer.body;
      };
      await ok('POST', '/api/v1/app', { name: 'Acme', uid: 'acme' });
      await ok('POST', '/api/v1/event-type', { name: 'invoice.paid', description: 'An invoice was paid' });
      await ok('POST', '/api/v1/app/acme/endpoint', { url: `${receiver.url}/acme`, uid: 'primary' });
      const message = await ok('POST', '/api/v1/app/acme/msg', { eventType: 'invoice.paid', eventId: 'evt-1', payload: { a: 1 } });
      const source = await ok('POST', '/ingest/api/v1/source', { name: 'Source', uid: 'src', type: 'generic-webhook' });
      await ok('POST', '/ingest/api/v1/source/src/endpoint', { url: `${receiver.url}/src`, uid: 'primary' });
      const attempt = await waitFor('the first attempt', async () => (await h.api('GET', `/api/v1/app/acme/attempt/msg/${message.id}`)).body.data[0]);
      const bin = await ok('POST', '/api/v1/bin', { name: 'Bin' });
      const binRequest = (await fetch(bin.url, { method: 'POST', body: 'x' })).headers.get('herald-request-id')!;
      return {
        app: 'acme', ep: 'primary', msg: 'evt-1', type: 'invoice.paid', source: 'src', attempt: attempt.id, token: new URL(source.ingestUrl).pathname.split('/').pop()!,
        bin: bin.id, binToken: new URL(bin.url).pathname.split('/').pop()!, binRequest,
      };
    }

    before(async () => {
      receiver = await startReceiver();
      for (const store of ['sqlite', 'postgres'] as const) {
        const h = await startTestHerald({ store });
        heralds.push({ h, fixture: await seed(h) });
      }
    });
    after(async () => {
      await Promise.all(heralds.map(({ h }) => h.close(failures.any())));
      await receiver.close();
    });

    /** Sends the request to both Heralds and returns both answers, SQLite's first. */
    const both = (method: string, path: (fixture: Fixture) => string, body?: unknown) =>
      Promise.all(heralds.map(({ h, fixture }) => h.api(method, path(fixture), body)));

    const assertAlike4xx = (answers: Array<{ status: number; body: any }>, what: string) => {
      const [sqlite, postgres] = answers.map((answer) => `${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`);
      assert.ok(answers.every((answer) => answer.status >= 400 && answer.status < 500), `${what}: SQLite ${sqlite}, PostgreSQL ${postgres}`);
      assert.equal(answers[0]!.status, answers[1]!.status, `${what}: SQLite ${sqlite}, PostgreSQL ${postgres}`);
      assert.deepEqual(answers[0]!.body, answers[1]!.body, `${what}: SQLite ${sqlite}, PostgreSQL ${postgres}`);
    };

    describe('a NUL (%00) in a path segment or a query parameter', () => {
      for (const route of ROUTES) {
        const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as keyof Fixture);
        const query = route.query ?? [];
        if (params.length === 0 && query.length === 0) continue;
        it(`${route.method} ${route.path}: gets the same 4xx on both stores, for each of ${[...params.map((p) => `{${p}}`), ...query].join(', ')}`, async () => {
          const fill = (fixture: Fixture, poison: string | null) =>
            route.path.replace(/\{(\w+)\}/g, (_, name: keyof Fixture) => (name === poison ? `${fixture[name]}%00x` : encodeURIComponent(fixture[name])));
          for (const param of params) {
            assertAlike4xx(await both(route.method, (fixture) => fill(fixture, param), route.body), `{${param}}`);
          }
          for (const name of query) {
            assertAlike4xx(await both(route.method, (fixture) => `${fill(fixture, null)}?${name}=a%00b`, route.body), `?${name}`);
          }
        });
      }
    });

    describe('a NUL or a lone surrogate in a JSON string', () => {
      for (const route of bodyRoutes()) {
        for (const field of route.fields) {
          it(`${route.method} ${route.path}: gets the same 422 on both stores for each in ${field.join('.')}`, async () => {
            for (const [what, bad] of BAD_STRINGS) {
              const answers = await both(route.method, () => route.path, poisoned(route.body, field, bad));
              assertAlike4xx(answers, what);
              assert.equal(answers[0]!.status, 422, what);
            }
          });
        }
        for (const field of route.stored ?? []) {
          it(`${route.method} ${route.path}: stores each in ${field.join('.')} as sent, on both stores`, async () => {
            for (const [what, bad] of BAD_STRINGS) {
              const body = poisoned({ ...route.body, eventId: `evt-${n()}` }, field, bad);
              const answers = await both(route.method, () => route.path, body);
              for (const answer of answers) assert.equal(answer.status, 202, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
              const stored = await Promise.all(heralds.map(({ h }, i) => h.api('GET', `/api/v1/app/acme/msg/${answers[i]!.body.id}`)));
              for (const message of stored) assert.deepEqual(message.body.payload, body.payload, what);
            }
          });
        }
      }
    });

    it('a bin keeps a NUL escape in its sub-path and query as sent, on both stores', async () => {
      const answers = await Promise.all(heralds.map(async ({ h, fixture }) => {
        const answer = await fetch(`${h.url}/bin/${fixture.binToken}/a%00b?c=%00&%00`, { method: 'POST', body: 'x' });
        assert.equal(answer.status, 200);
        return (await h.api('GET', `/api/v1/bin/${fixture.bin}/request/${answer.headers.get('herald-request-id')}`)).body;
      }));
      for (const captured of answers) assert.deepEqual([captured.path, captured.query], ['/a%00b', 'c=%00&%00']);
    });

    it('leaves both Heralds up', async () => {
      for (const { h } of heralds) assert.equal((await h.api('GET', '/api/v1/health')).status, 204);
    });
  });
}
