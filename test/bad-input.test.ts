import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { MAX_EVENT_TYPES_PER_ENDPOINT } from '../src/core/limits.ts';

/**
 * Bad input on every write route gets a clear 4xx in Svix's `{code, detail}` shape, never a 5xx
 * or a crash, and writes nothing. Each case is one request; the last test checks that the server
 * still answers and that the data seeded before the bad requests is exactly as it was.
 */

interface BadRequest {
  /** What is wrong with the request, as the middle of a sentence. */
  does: string;
  method: string;
  path: string;
  /** Sent as JSON unless it is a string, which is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** For 422: a `loc` that must be among the reported items. */
  loc?: string[];
  code?: string;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_json',
  401: 'authentication_failed',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation',
};

interface Answer {
  status: number;
  body: any;
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** Asserts a 4xx in Svix's error shape: `{code, detail}`, with `detail` a list of `{loc, msg, type}` for 422. */
function assertSvixError(answer: Answer, expected: { status: number; loc?: string[]; code?: string }): void {
  const shown = JSON.stringify(answer.body);
  assert.equal(answer.status, expected.status, `expected ${expected.status}, got ${answer.status}: ${shown}`);
  const contentType = answer.headers instanceof Headers ? answer.headers.get('content-type') : answer.headers['content-type'];
  assert.match(String(contentType), /^application\/json/, `content-type of ${shown}`);
  assert.ok(answer.body !== null && typeof answer.body === 'object' && !Array.isArray(answer.body), `body is an object: ${shown}`);
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'detail'], `body has exactly code and detail: ${shown}`);
  assert.equal(answer.body.code, expected.code ?? CODE_BY_STATUS[expected.status], `code of ${shown}`);
  if (expected.status !== 422) {
    assert.equal(typeof answer.body.detail, 'string', `detail is a message: ${shown}`);
    assert.ok(answer.body.detail.length > 0);
    return;
  }
  const items = answer.body.detail as unknown[];
  assert.ok(Array.isArray(items) && items.length > 0, `422 detail is a non-empty list: ${shown}`);
  for (const item of items as Array<Record<string, unknown>>) {
    assert.ok(Array.isArray(item.loc) && item.loc.length > 0 && item.loc.every((part) => typeof part === 'string'), `loc is a list of strings: ${shown}`);
    assert.ok(['body', 'query', 'path', 'header'].includes(item.loc[0] as string), `loc starts with the request part: ${shown}`);
    assert.equal(typeof item.msg, 'string', `msg is a string: ${shown}`);
    assert.ok((item.msg as string).length > 0);
    assert.equal(typeof item.type, 'string', `type is a string: ${shown}`);
  }
  if (expected.loc) {
    const locs = (items as Array<{ loc: string[] }>).map((item) => item.loc);
    assert.ok(locs.some((loc) => JSON.stringify(loc) === JSON.stringify(expected.loc)), `expected an item at ${JSON.stringify(expected.loc)}, got ${JSON.stringify(locs)}`);
  }
}

function title(c: BadRequest): string {
  const where = c.loc ? ` at ${c.loc.join('.')}` : '';
  return `${c.method} ${c.path.split('?')[0]}: ${c.does} gets ${c.status}${where}`;
}

/** A request through node:http, for what fetch will not send: no content-type, a chunked body. */
function rawRequest(url: string, options: { method: string; headers: Record<string, string>; chunks: Buffer[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method, headers: options.headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {}
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
      });
    });
    // The server may answer (413) and close before the whole body is written; the answer is what counts.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of options.chunks) request.write(chunk);
    request.end();
  });
}

const APP_LIKE_ID = `app_${'A1b2C3d4E5f6G7h8I9j0Kl'}`;
const EP_LIKE_ID = `ep_${'A1b2C3d4E5f6G7h8I9j0Kl'}`;
const MSG_LIKE_ID = `msg_${'A1b2C3d4E5f6G7h8I9j0Kl'}`;
const VALID_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const elevenChannels = Array.from({ length: 11 }, (_, i) => `ch-${i}`);
const sixChannels = elevenChannels.slice(0, 6);
const TWO_MIB = 2 * 1024 * 1024;
const tooManyEventTypes = Array.from({ length: MAX_EVENT_TYPES_PER_ENDPOINT + 1 }, (_, i) => `type.${i}`);
/** Custom headers that collide with Herald's signature headers, or that undici refuses or mishandles (see src/delivery/custom-headers.ts). */
const refusedHeaders: Array<[string, string]> = [
  ['Webhook-Custom', 'x'], ['SVIX-Anything', 'x'], ['svix-id', 'msg_forged'],
  ['Expect', '100-continue'], ['Upgrade', 'websocket'], ['Keep-Alive', 'timeout=5'], ['TE', 'trailers'], ['Trailer', 'x-sum'],
  ['Proxy-Authorization', 'Basic eDp5'], ['proxy-connection', 'keep-alive'], ['Transfer-Encoding', 'chunked'], ['Connection', 'close'],
  ['Content-Length', '1'], ['User-Agent', 'not-herald'],
];

await forEachStore((store) => describe(`bad input on the write routes (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let messageId: string;
  let snapshot: Record<string, unknown>;

  /** Everything the bad requests could have touched, as the API shows it. */
  const state = async () => {
    const read = async (path: string) => {
      const answer = await h.api('GET', path);
      assert.equal(answer.status, 200, `GET ${path}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    return {
      apps: await read('/api/v1/app?limit=250'),
      eventTypes: await read('/api/v1/event-type?limit=250&include_archived=true'),
      endpoints: await read('/api/v1/app/acme/endpoint?limit=250'),
      otherEndpoints: await read('/api/v1/app/other/endpoint?limit=250'),
      messages: await read('/api/v1/app/acme/msg?limit=250'),
      otherMessages: await read('/api/v1/app/other/msg?limit=250'),
      headers: await read('/api/v1/app/acme/endpoint/primary/headers'),
      secret: await read('/api/v1/app/acme/endpoint/primary/secret'),
      attempts: await read(`/api/v1/app/acme/attempt/msg/${messageId}`),
    };
  };

  before(async () => {
    h = await startTestHerald({ store });
    const seed = async (method: string, path: string, body: unknown) => {
      const answer = await h.api(method, path, body);
      assert.ok(answer.status >= 200 && answer.status < 300, `seeding ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    await seed('POST', '/api/v1/app', { name: 'Acme', uid: 'acme' });
    await seed('POST', '/api/v1/app', { name: 'Other', uid: 'other' });
    await seed('POST', '/api/v1/event-type', { name: 'invoice.paid', description: 'An invoice was paid' });
    await seed('POST', '/api/v1/event-type', { name: 'invoice.refunded', description: 'An invoice was refunded' });
    // The endpoints subscribe to another event type, so the seeded message is never delivered and the state stays still.
    const quiet = { eventTypes: ['invoice.refunded'] };
    await seed('POST', '/api/v1/app/acme/endpoint', { url: 'http://127.0.0.1:9/hook', uid: 'primary', headers: { 'x-tenant': 'acme' }, ...quiet });
    await seed('POST', '/api/v1/app/acme/endpoint', { url: 'http://127.0.0.1:9/other', uid: 'secondary', ...quiet });
    messageId = (await seed('POST', '/api/v1/app/acme/msg', { eventType: 'invoice.paid', eventId: 'evt-1', payload: { invoice: 1 } })).id;
    snapshot = await state();
  });
  after(() => h.close(failures.any()));

  const run = (cases: BadRequest[]) => {
    for (const c of cases) {
      it(title(c), async () => {
        assertSvixError(await h.api(c.method, c.path, c.body, c.headers), c);
      });
    }
  };

  describe('applications', () => {
    run([
      { does: 'an application without a name', method: 'POST', path: '/api/v1/app', body: { uid: 'no-name' }, status: 422, loc: ['body', 'name'] },
      { does: 'a name that is a number', method: 'POST', path: '/api/v1/app', body: { name: 5 }, status: 422, loc: ['body', 'name'] },
      { does: 'an empty name', method: 'POST', path: '/api/v1/app', body: { name: '' }, status: 422, loc: ['body', 'name'] },
      { does: 'a uid with spaces', method: 'POST', path: '/api/v1/app', body: { name: 'X', uid: 'has spaces' }, status: 422, loc: ['body', 'uid'] },
      { does: 'a uid that has the form of an application id', method: 'POST', path: '/api/v1/app', body: { name: 'X', uid: APP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'a uid longer than 256 characters', method: 'POST', path: '/api/v1/app', body: { name: 'X', uid: 'u'.repeat(257) }, status: 422, loc: ['body', 'uid'] },
      { does: 'a throttleRate of 0', method: 'POST', path: '/api/v1/app', body: { name: 'X', throttleRate: 0 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a throttleRate given as a string', method: 'POST', path: '/api/v1/app', body: { name: 'X', throttleRate: '10' }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a fractional throttleRate', method: 'POST', path: '/api/v1/app', body: { name: 'X', throttleRate: 1.5 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a throttleRate above 65535', method: 'POST', path: '/api/v1/app', body: { name: 'X', throttleRate: 65_536 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'metadata with a value that is not a string', method: 'POST', path: '/api/v1/app', body: { name: 'X', metadata: { tier: 1 } }, status: 422, loc: ['body', 'metadata', 'tier'] },
      { does: 'a get_if_exists flag that is not a boolean', method: 'POST', path: '/api/v1/app?get_if_exists=maybe', body: { name: 'X', uid: 'acme' }, status: 422, loc: ['query', 'get_if_exists'] },
      { does: 'a uid that is already taken', method: 'POST', path: '/api/v1/app', body: { name: 'Again', uid: 'acme' }, status: 409 },
      { does: 'an upsert of an existing application without a name', method: 'PUT', path: '/api/v1/app/acme', body: { uid: 'acme' }, status: 422, loc: ['body', 'name'] },
      { does: 'an upsert whose name is not a string', method: 'PUT', path: '/api/v1/app/acme', body: { name: ['Acme'] }, status: 422, loc: ['body', 'name'] },
      { does: 'an upsert with a uid with spaces', method: 'PUT', path: '/api/v1/app/acme', body: { name: 'Acme', uid: 'a b' }, status: 422, loc: ['body', 'uid'] },
      { does: 'an upsert with a uid that has the form of an application id', method: 'PUT', path: '/api/v1/app/acme', body: { name: 'Acme', uid: APP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'an upsert that would create an application with a uid that has the form of an id', method: 'PUT', path: '/api/v1/app/not-there-yet', body: { name: 'New', uid: APP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'an upsert of an application id that does not exist', method: 'PUT', path: `/api/v1/app/${APP_LIKE_ID}`, body: { name: 'New' }, status: 404 },
      { does: 'an upsert of an application id that does not exist, with a uid', method: 'PUT', path: `/api/v1/app/${APP_LIKE_ID}`, body: { name: 'New', uid: 'not-there-yet' }, status: 404 },
      { does: 'an upsert that would create an application with a throttleRate of 0', method: 'PUT', path: '/api/v1/app/not-there-yet', body: { name: 'New', throttleRate: 0 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'an upsert that takes another application\'s uid', method: 'PUT', path: '/api/v1/app/other', body: { name: 'Other', uid: 'acme' }, status: 409 },
      { does: 'a patch whose name is not a string', method: 'PATCH', path: '/api/v1/app/acme', body: { name: 5 }, status: 422, loc: ['body', 'name'] },
      { does: 'a patch with a null name', method: 'PATCH', path: '/api/v1/app/acme', body: { name: null }, status: 422, loc: ['body', 'name'] },
      { does: 'a patch with a uid with spaces', method: 'PATCH', path: '/api/v1/app/acme', body: { uid: 'a b' }, status: 422, loc: ['body', 'uid'] },
      { does: 'a patch with a uid that has the form of an application id', method: 'PATCH', path: '/api/v1/app/acme', body: { uid: APP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'a patch with a throttleRate of 0', method: 'PATCH', path: '/api/v1/app/acme', body: { throttleRate: 0 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a patch with a throttleRate given as a string', method: 'PATCH', path: '/api/v1/app/acme', body: { throttleRate: 'fast' }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a patch that takes another application\'s uid', method: 'PATCH', path: '/api/v1/app/other', body: { uid: 'acme' }, status: 409 },
      { does: 'a patch of an application that does not exist', method: 'PATCH', path: '/api/v1/app/ghost', body: { name: 'Ghost' }, status: 404 },
      { does: 'a delete of an application that does not exist', method: 'DELETE', path: '/api/v1/app/ghost', status: 404 },
    ]);

    it('POST /api/v1/app: several bad fields at once are all reported, each at its own loc', async () => {
      const answer = await h.api('POST', '/api/v1/app', { name: 5, uid: 'a b', throttleRate: 0 });
      assertSvixError(answer, { status: 422 });
      const locs = answer.body.detail.map((item: { loc: string[] }) => item.loc.join('.'));
      for (const loc of ['body.name', 'body.uid', 'body.throttleRate']) assert.ok(locs.includes(loc), `${loc} in ${locs}`);
    });
  });

  describe('event types', () => {
    run([
      { does: 'a name with a space', method: 'POST', path: '/api/v1/event-type', body: { name: 'invoice paid', description: 'd' }, status: 422, loc: ['body', 'name'] },
      { does: 'a name with a slash', method: 'POST', path: '/api/v1/event-type', body: { name: 'invoice/paid', description: 'd' }, status: 422, loc: ['body', 'name'] },
      { does: 'an empty name', method: 'POST', path: '/api/v1/event-type', body: { name: '', description: 'd' }, status: 422, loc: ['body', 'name'] },
      { does: 'a missing name', method: 'POST', path: '/api/v1/event-type', body: { description: 'd' }, status: 422, loc: ['body', 'name'] },
      { does: 'a missing description', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created' }, status: 422, loc: ['body', 'description'] },
      { does: 'schemas that are a string', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', schemas: 'nope' }, status: 422, loc: ['body', 'schemas'] },
      { does: 'schemas that are an array', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', schemas: [{}] }, status: 422, loc: ['body', 'schemas'] },
      { does: 'a schema version that is not an object', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', schemas: { 1: 5 } }, status: 422, loc: ['body', 'schemas', '1'] },
      { does: 'a featureFlag with a space', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', featureFlag: 'beta users' }, status: 422, loc: ['body', 'featureFlag'] },
      { does: 'an archived flag that is not a boolean', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', archived: 'yes' }, status: 422, loc: ['body', 'archived'] },
      { does: 'a name that already exists', method: 'POST', path: '/api/v1/event-type', body: { name: 'invoice.paid', description: 'again' }, status: 409 },
      { does: 'an update without a description', method: 'PUT', path: '/api/v1/event-type/invoice.paid', body: {}, status: 422, loc: ['body', 'description'] },
      { does: 'an update whose schemas are not an object', method: 'PUT', path: '/api/v1/event-type/invoice.paid', body: { description: 'd', schemas: 42 }, status: 422, loc: ['body', 'schemas'] },
      { does: 'an upsert that would create an event type without a description', method: 'PUT', path: '/api/v1/event-type/order.created', body: { schemas: null }, status: 422, loc: ['body', 'description'] },
      { does: 'a patch whose description is a number', method: 'PATCH', path: '/api/v1/event-type/invoice.paid', body: { description: 5 }, status: 422, loc: ['body', 'description'] },
      { does: 'a patch whose schemas are a string', method: 'PATCH', path: '/api/v1/event-type/invoice.paid', body: { schemas: 'x' }, status: 422, loc: ['body', 'schemas'] },
      { does: 'a patch whose deprecated flag is not a boolean', method: 'PATCH', path: '/api/v1/event-type/invoice.paid', body: { deprecated: 1 }, status: 422, loc: ['body', 'deprecated'] },
      { does: 'a patch of an event type that does not exist', method: 'PATCH', path: '/api/v1/event-type/no.such.type', body: { description: 'd' }, status: 404 },
      { does: 'a delete of an event type that does not exist', method: 'DELETE', path: '/api/v1/event-type/no.such.type', status: 404 },
      { does: 'an expunge flag that is not a boolean', method: 'DELETE', path: '/api/v1/event-type/invoice.paid?expunge=maybe', status: 422, loc: ['query', 'expunge'] },
      { does: 'a schemaValidation that is not off, warn or enforce', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', schemaValidation: 'strict' }, status: 422, loc: ['body', 'schemaValidation'] },
      { does: 'a schema that does not compile', method: 'POST', path: '/api/v1/event-type', body: { name: 'order.created', description: 'd', schemas: { 1: { type: 'nope' } } }, status: 422, loc: ['body', 'schemas', '1'] },
      { does: 'a dry run without a payload', method: 'POST', path: '/api/v1/event-type/invoice.paid/validate', body: {}, status: 422, loc: ['body', 'payload'] },
      { does: 'a dry run whose payload is an array', method: 'POST', path: '/api/v1/event-type/invoice.paid/validate', body: { payload: [] }, status: 422, loc: ['body', 'payload'] },
      { does: 'a dry run whose schemaVersion is a number', method: 'POST', path: '/api/v1/event-type/invoice.paid/validate', body: { payload: {}, schemaVersion: 2 }, status: 422, loc: ['body', 'schemaVersion'] },
      { does: 'a dry run of an event type that does not exist', method: 'POST', path: '/api/v1/event-type/no.such.type/validate', body: { payload: {} }, status: 404 },
      { does: 'an import whose spec is a string', method: 'POST', path: '/api/v1/event-type/import/openapi', body: { spec: 'openapi: 3.1.0' }, status: 422, loc: ['body', 'spec'] },
      { does: 'an import whose specRaw is a number', method: 'POST', path: '/api/v1/event-type/import/openapi', body: { specRaw: 5 }, status: 422, loc: ['body', 'specRaw'] },
      { does: 'an import whose specRaw is YAML of a list', method: 'POST', path: '/api/v1/event-type/import/openapi', body: { specRaw: '- a\n- b' }, status: 422, loc: ['body', 'specRaw'] },
      { does: 'an import whose webhook name has a space', method: 'POST', path: '/api/v1/event-type/import/openapi', body: { spec: { webhooks: { 'a b': { post: {} } } } }, status: 422, loc: ['body', 'spec', 'webhooks', 'a b'] },
      { does: 'an import with a dryRun that is not a boolean', method: 'POST', path: '/api/v1/event-type/import/openapi', body: { spec: { webhooks: {} }, dryRun: 'yes' }, status: 422, loc: ['body', 'dryRun'] },
      { does: 'an export whose include_archived is not a boolean', method: 'GET', path: '/api/v1/event-type/export/openapi?include_archived=maybe', status: 422, loc: ['query', 'include_archived'] },
    ]);
  });

  describe('endpoints', () => {
    const create = '/api/v1/app/acme/endpoint';
    const primary = '/api/v1/app/acme/endpoint/primary';
    const fresh = '/api/v1/app/acme/endpoint/not-there-yet';
    const url = 'http://127.0.0.1:9/hook';
    run([
      { does: 'an endpoint without a url', method: 'POST', path: create, body: { description: 'no url' }, status: 422, loc: ['body', 'url'] },
      { does: 'an ftp url', method: 'POST', path: create, body: { url: 'ftp://x' }, status: 422, loc: ['body', 'url'] },
      { does: 'a url that is not a url', method: 'POST', path: create, body: { url: 'not a url' }, status: 422, loc: ['body', 'url'] },
      { does: 'a url that is a number', method: 'POST', path: create, body: { url: 42 }, status: 422, loc: ['body', 'url'] },
      { does: 'an empty url', method: 'POST', path: create, body: { url: '' }, status: 422, loc: ['body', 'url'] },
      { does: 'a url with credentials in it', method: 'POST', path: create, body: { url: 'http://user:pass@127.0.0.1:9/hook' }, status: 422, loc: ['body', 'url'] },
      { does: 'an empty eventTypes list', method: 'POST', path: create, body: { url, eventTypes: [] }, status: 422, loc: ['body', 'eventTypes'] },
      { does: 'an eventTypes item with a space', method: 'POST', path: create, body: { url, eventTypes: ['invoice paid'] }, status: 422, loc: ['body', 'eventTypes', '0'] },
      { does: 'an empty filterTypes list', method: 'POST', path: create, body: { url, filterTypes: [] }, status: 422, loc: ['body', 'filterTypes'] },
      { does: 'eleven channels', method: 'POST', path: create, body: { url, channels: elevenChannels }, status: 422, loc: ['body', 'channels'] },
      { does: `${MAX_EVENT_TYPES_PER_ENDPOINT + 1} event types`, method: 'POST', path: create, body: { url, eventTypes: tooManyEventTypes }, status: 422, loc: ['body', 'eventTypes'] },
      { does: `${MAX_EVENT_TYPES_PER_ENDPOINT + 1} filterTypes`, method: 'POST', path: create, body: { url, filterTypes: tooManyEventTypes }, status: 422, loc: ['body', 'filterTypes'] },
      { does: 'an empty channels list', method: 'POST', path: create, body: { url, channels: [] }, status: 422, loc: ['body', 'channels'] },
      { does: 'a channel with a space', method: 'POST', path: create, body: { url, channels: ['eu west'] }, status: 422, loc: ['body', 'channels', '0'] },
      { does: 'the same channel twice', method: 'POST', path: create, body: { url, channels: ['eu', 'eu'] }, status: 422, loc: ['body', 'channels'] },
      { does: 'a secret that is too short', method: 'POST', path: create, body: { url, secret: 'whsec_short' }, status: 422, loc: ['body', 'secret'] },
      { does: 'a secret that is not base64', method: 'POST', path: create, body: { url, secret: `whsec_${'='.repeat(40)}` }, status: 422, loc: ['body', 'secret'] },
      { does: 'a secret of more than 64 bytes', method: 'POST', path: create, body: { url, secret: `whsec_${'A'.repeat(100)}` }, status: 422, loc: ['body', 'secret'] },
      { does: 'a uid that has the form of an endpoint id', method: 'POST', path: create, body: { url, uid: EP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'a uid with spaces', method: 'POST', path: create, body: { url, uid: 'my endpoint' }, status: 422, loc: ['body', 'uid'] },
      { does: 'a uid that is already taken in the application', method: 'POST', path: create, body: { url, uid: 'primary' }, status: 409 },
      { does: 'a webhook-signature header', method: 'POST', path: create, body: { url, headers: { 'webhook-signature': 'v1,forged' } }, status: 422, loc: ['body', 'headers', 'webhook-signature'] },
      { does: 'a Content-Type header in any case', method: 'POST', path: create, body: { url, headers: { 'Content-Type': 'text/plain' } }, status: 422, loc: ['body', 'headers', 'Content-Type'] },
      { does: 'a host header', method: 'POST', path: create, body: { url, headers: { host: 'evil.example' } }, status: 422, loc: ['body', 'headers', 'host'] },
      ...refusedHeaders.map(([name, value]): BadRequest =>
        ({ does: `a custom header named ${name}`, method: 'POST', path: create, body: { url, headers: { 'x-fine': 'yes', [name]: value } }, status: 422, loc: ['body', 'headers', name] })),
      { does: 'a header value with a line break', method: 'POST', path: create, body: { url, headers: { 'x-a': 'one\r\nx-injected: two' } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a header name with a space', method: 'POST', path: create, body: { url, headers: { 'x a': 'b' } }, status: 422, loc: ['body', 'headers', 'x a'] },
      { does: 'an empty header name', method: 'POST', path: create, body: { url, headers: { '': 'b' } }, status: 422, loc: ['body', 'headers', ''] },
      { does: 'a header value that is a number', method: 'POST', path: create, body: { url, headers: { 'x-a': 1 } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'an endpoint in an application that does not exist', method: 'POST', path: '/api/v1/app/ghost/endpoint', body: { url }, status: 404 },

      { does: 'an update without a url', method: 'PUT', path: primary, body: { description: 'no url' }, status: 422, loc: ['body', 'url'] },
      { does: 'an update with an ftp url', method: 'PUT', path: primary, body: { url: 'ftp://x' }, status: 422, loc: ['body', 'url'] },
      { does: 'an update with a url that is not a url', method: 'PUT', path: primary, body: { url: 'not a url' }, status: 422, loc: ['body', 'url'] },
      { does: 'an update with a url that is a number', method: 'PUT', path: primary, body: { url: 42 }, status: 422, loc: ['body', 'url'] },
      { does: 'an update with an empty eventTypes list', method: 'PUT', path: primary, body: { url, eventTypes: [] }, status: 422, loc: ['body', 'eventTypes'] },
      { does: 'an update with eleven channels', method: 'PUT', path: primary, body: { url, channels: elevenChannels }, status: 422, loc: ['body', 'channels'] },
      { does: `an update with ${MAX_EVENT_TYPES_PER_ENDPOINT + 1} event types`, method: 'PUT', path: primary, body: { url, eventTypes: tooManyEventTypes }, status: 422, loc: ['body', 'eventTypes'] },
      { does: 'an update with an empty channels list', method: 'PUT', path: primary, body: { url, channels: [] }, status: 422, loc: ['body', 'channels'] },
      { does: 'an update naming an event type that does not exist', method: 'PUT', path: primary, body: { url, eventTypes: ['invoice.refunded', 'no.such.type'] }, status: 422, loc: ['body', 'eventTypes', '1'] },
      { does: 'an update with a channel with a space', method: 'PUT', path: primary, body: { url, channels: ['eu west'] }, status: 422, loc: ['body', 'channels', '0'] },
      { does: 'an upsert of an endpoint id that does not exist', method: 'PUT', path: `/api/v1/app/acme/endpoint/${EP_LIKE_ID}`, body: { url }, status: 404 },
      { does: 'an upsert of an endpoint id that does not exist, with a uid', method: 'PUT', path: `/api/v1/app/acme/endpoint/${EP_LIKE_ID}`, body: { url, uid: 'not-there-yet' }, status: 404 },
      { does: 'an update with a uid that has the form of an endpoint id', method: 'PUT', path: primary, body: { url, uid: EP_LIKE_ID }, status: 422, loc: ['body', 'uid'] },
      { does: 'an update that takes another endpoint\'s uid', method: 'PUT', path: primary, body: { url, uid: 'secondary' }, status: 409 },
      { does: 'an upsert that would create an endpoint with an ftp url', method: 'PUT', path: fresh, body: { url: 'ftp://x' }, status: 422, loc: ['body', 'url'] },
      { does: 'an upsert that would create an endpoint with a url that is not a url', method: 'PUT', path: fresh, body: { url: 'not a url' }, status: 422, loc: ['body', 'url'] },
      { does: 'an upsert in an application that does not exist', method: 'PUT', path: '/api/v1/app/ghost/endpoint/primary', body: { url }, status: 404 },

      { does: 'a patch with an ftp url', method: 'PATCH', path: primary, body: { url: 'ftp://x' }, status: 422, loc: ['body', 'url'] },
      { does: 'a patch with a url that is not a url', method: 'PATCH', path: primary, body: { url: 'not a url' }, status: 422, loc: ['body', 'url'] },
      { does: 'a patch with a url that is a number', method: 'PATCH', path: primary, body: { url: 42 }, status: 422, loc: ['body', 'url'] },
      { does: 'a patch with a null url', method: 'PATCH', path: primary, body: { url: null }, status: 422, loc: ['body', 'url'] },
      { does: 'a patch with an empty eventTypes list', method: 'PATCH', path: primary, body: { eventTypes: [] }, status: 422, loc: ['body', 'eventTypes'] },
      { does: 'a patch with eleven channels', method: 'PATCH', path: primary, body: { channels: elevenChannels }, status: 422, loc: ['body', 'channels'] },
      { does: `a patch with ${MAX_EVENT_TYPES_PER_ENDPOINT + 1} event types`, method: 'PATCH', path: primary, body: { eventTypes: tooManyEventTypes }, status: 422, loc: ['body', 'eventTypes'] },
      { does: 'a patch with an empty channels list', method: 'PATCH', path: primary, body: { channels: [] }, status: 422, loc: ['body', 'channels'] },
      { does: 'a patch naming an event type that does not exist', method: 'PATCH', path: primary, body: { filterTypes: ['no.such.type'] }, status: 422, loc: ['body', 'filterTypes', '0'] },
      { does: 'a patch with a null disabled flag', method: 'PATCH', path: primary, body: { disabled: null }, status: 422, loc: ['body', 'disabled'] },
      { does: 'a patch with a channel with a space', method: 'PATCH', path: primary, body: { channels: ['eu west'] }, status: 422, loc: ['body', 'channels', '0'] },
      { does: 'a patch with a disabled flag that is not a boolean', method: 'PATCH', path: primary, body: { disabled: 'true' }, status: 422, loc: ['body', 'disabled'] },
      { does: 'a patch with a throttleRate of 0', method: 'PATCH', path: primary, body: { throttleRate: 0 }, status: 422, loc: ['body', 'throttleRate'] },
      { does: 'a patch that takes another endpoint\'s uid', method: 'PATCH', path: primary, body: { uid: 'secondary' }, status: 409 },
      { does: 'a patch of an endpoint that does not exist', method: 'PATCH', path: '/api/v1/app/acme/endpoint/ghost', body: { description: 'x' }, status: 404 },
      { does: 'a delete of an endpoint that does not exist', method: 'DELETE', path: '/api/v1/app/acme/endpoint/ghost', status: 404 },
    ]);
  });

  describe('endpoint headers', () => {
    const headers = '/api/v1/app/acme/endpoint/primary/headers';
    run([
      { does: 'a body without headers', method: 'PUT', path: headers, body: {}, status: 422, loc: ['body', 'headers'] },
      { does: 'headers that are a list', method: 'PUT', path: headers, body: { headers: ['x-a: b'] }, status: 422, loc: ['body', 'headers'] },
      { does: 'a header value that is a number', method: 'PUT', path: headers, body: { headers: { 'x-a': 1 } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a null header value, which only PATCH accepts', method: 'PUT', path: headers, body: { headers: { 'x-tenant': null } }, status: 422, loc: ['body', 'headers', 'x-tenant'] },
      { does: 'a webhook-signature header', method: 'PUT', path: headers, body: { headers: { 'webhook-signature': 'v1,forged' } }, status: 422, loc: ['body', 'headers', 'webhook-signature'] },
      { does: 'a content-type header', method: 'PUT', path: headers, body: { headers: { 'content-type': 'text/plain' } }, status: 422, loc: ['body', 'headers', 'content-type'] },
      { does: 'a Host header', method: 'PUT', path: headers, body: { headers: { Host: 'evil.example' } }, status: 422, loc: ['body', 'headers', 'Host'] },
      { does: 'a header value with a line break', method: 'PUT', path: headers, body: { headers: { 'x-a': 'one\r\ntwo' } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a header name with a space', method: 'PUT', path: headers, body: { headers: { 'x a': 'b' } }, status: 422, loc: ['body', 'headers', 'x a'] },
      { does: 'headers of an endpoint that does not exist', method: 'PUT', path: '/api/v1/app/acme/endpoint/ghost/headers', body: { headers: { 'x-a': 'b' } }, status: 404 },
      ...refusedHeaders.map(([name, value]): BadRequest =>
        ({ does: `a custom header named ${name}`, method: 'PUT', path: headers, body: { headers: { [name]: value } }, status: 422, loc: ['body', 'headers', name] })),
      ...refusedHeaders.map(([name, value]): BadRequest =>
        ({ does: `a custom header named ${name}`, method: 'PATCH', path: headers, body: { headers: { 'x-fine': 'yes', [name]: value } }, status: 422, loc: ['body', 'headers', name] })),
      { does: 'a body without headers', method: 'PATCH', path: headers, body: {}, status: 422, loc: ['body', 'headers'] },
      { does: 'a header value that is a number', method: 'PATCH', path: headers, body: { headers: { 'x-a': 1 } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a svix-signature header', method: 'PATCH', path: headers, body: { headers: { 'svix-signature': 'v1,forged' } }, status: 422, loc: ['body', 'headers', 'svix-signature'] },
      { does: 'removing a reserved header by setting it to null', method: 'PATCH', path: headers, body: { headers: { 'content-type': null } }, status: 422, loc: ['body', 'headers', 'content-type'] },
      { does: 'a header value with a line break', method: 'PATCH', path: headers, body: { headers: { 'x-a': 'one\ntwo' } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a header name with a space', method: 'PATCH', path: headers, body: { headers: { 'x a': 'b' } }, status: 422, loc: ['body', 'headers', 'x a'] },
      { does: 'a valid header next to a reserved one, which must not be half applied', method: 'PATCH', path: headers, body: { headers: { 'x-fine': 'yes', host: 'evil.example' } }, status: 422, loc: ['body', 'headers', 'host'] },
      { does: 'headers of an endpoint that does not exist', method: 'PATCH', path: '/api/v1/app/acme/endpoint/ghost/headers', body: { headers: { 'x-a': 'b' } }, status: 404 },
    ]);
  });

  describe('endpoint actions', () => {
    const base = '/api/v1/app/acme/endpoint/primary';
    run([
      { does: 'a key that is too short', method: 'POST', path: `${base}/secret/rotate`, body: { key: 'whsec_short' }, status: 422, loc: ['body', 'key'] },
      { does: 'a key with characters outside base64', method: 'POST', path: `${base}/secret/rotate`, body: { key: `whsec_${'!'.repeat(40)}` }, status: 422, loc: ['body', 'key'] },
      { does: 'a key that matches the pattern but is not base64', method: 'POST', path: `${base}/secret/rotate`, body: { key: `whsec_${'='.repeat(40)}` }, status: 422, loc: ['body', 'key'] },
      { does: 'a key that is a number', method: 'POST', path: `${base}/secret/rotate`, body: { key: 12345 }, status: 422, loc: ['body', 'key'] },
      { does: 'a grace period above 604800 seconds', method: 'POST', path: `${base}/secret/rotate`, body: { key: VALID_SECRET, gracePeriodSeconds: 604_801 }, status: 422, loc: ['body', 'gracePeriodSeconds'] },
      { does: 'a negative grace period', method: 'POST', path: `${base}/secret/rotate`, body: { gracePeriodSeconds: -1 }, status: 422, loc: ['body', 'gracePeriodSeconds'] },
      { does: 'a grace period given as a string', method: 'POST', path: `${base}/secret/rotate`, body: { gracePeriodSeconds: '60' }, status: 422, loc: ['body', 'gracePeriodSeconds'] },
      { does: 'a rotation for an endpoint that does not exist', method: 'POST', path: '/api/v1/app/acme/endpoint/ghost/secret/rotate', body: {}, status: 404 },
      { does: 'a recovery without since', method: 'POST', path: `${base}/recover`, body: {}, status: 422, loc: ['body', 'since'] },
      { does: 'a since that is not a date', method: 'POST', path: `${base}/recover`, body: { since: 'yesterday' }, status: 422, loc: ['body', 'since'] },
      { does: 'a since that is a number', method: 'POST', path: `${base}/recover`, body: { since: 1_700_000_000 }, status: 422, loc: ['body', 'since'] },
      { does: 'a since on a day that does not exist', method: 'POST', path: `${base}/recover`, body: { since: '2024-02-30T00:00:00Z' }, status: 422, loc: ['body', 'since'] },
      { does: 'an until that is not a date', method: 'POST', path: `${base}/recover`, body: { since: '2024-01-01T00:00:00Z', until: 'now' }, status: 422, loc: ['body', 'until'] },
      { does: 'an until before since', method: 'POST', path: `${base}/recover`, body: { since: '2024-01-02T00:00:00Z', until: '2024-01-01T00:00:00Z' }, status: 422, loc: ['body', 'until'] },
      { does: 'a recovery for an endpoint that does not exist', method: 'POST', path: '/api/v1/app/acme/endpoint/ghost/recover', body: { since: '2024-01-01T00:00:00Z' }, status: 404 },
      { does: 'an example without eventType', method: 'POST', path: `${base}/send-example`, body: {}, status: 422, loc: ['body', 'eventType'] },
      { does: 'an example whose eventType has a space', method: 'POST', path: `${base}/send-example`, body: { eventType: 'invoice paid' }, status: 422, loc: ['body', 'eventType'] },
      { does: 'an example whose eventType is a number', method: 'POST', path: `${base}/send-example`, body: { eventType: 7 }, status: 422, loc: ['body', 'eventType'] },
      { does: 'an example for an endpoint that does not exist', method: 'POST', path: '/api/v1/app/acme/endpoint/ghost/send-example', body: { eventType: 'invoice.paid' }, status: 404 },
    ]);
  });

  describe('input that once got past validation', () => {
    const deep = (levels: number) => `${'['.repeat(levels)}null${']'.repeat(levels)}`;
    run([
      { does: 'a payload nested 6,000 levels deep', method: 'POST', path: '/api/v1/app/acme/msg', body: `{"eventType":"x.y","payload":{"a":${deep(6000)}}}`, status: 422, loc: ['body'] },
      { does: 'event-type schemas nested 6,000 levels deep', method: 'POST', path: '/api/v1/event-type', body: `{"name":"deep.one","description":"d","schemas":{"1":{"a":${deep(6000)}}}}`, status: 422, loc: ['body'] },
      { does: 'a leap-second since', method: 'POST', path: '/api/v1/app/acme/endpoint/primary/recover', body: { since: '2016-12-31T23:59:60Z' }, status: 422, loc: ['body', 'since'] },
      { does: 'a leap-second before', method: 'GET', path: '/api/v1/app/acme/msg?before=2016-12-31T23:59:60Z', status: 422, loc: ['query', 'before'] },
      { does: 'a leap-second stats since', method: 'GET', path: '/api/v1/app/acme/endpoint/primary/stats?since=2016-12-31T23:59:60Z', status: 422, loc: ['query', 'since'] },
      { does: 'an upsert creating an application under an invalid uid', method: 'PUT', path: '/api/v1/app/bad%20uid', body: { name: 'X' }, status: 422, loc: ['path', 'appId'] },
      { does: 'an upsert creating an event type under an invalid name', method: 'PUT', path: '/api/v1/event-type/bad%20name', body: { description: 'X' }, status: 422, loc: ['path', 'eventTypeName'] },
      { does: 'an upsert creating an endpoint under an invalid uid', method: 'PUT', path: '/api/v1/app/acme/endpoint/bad%20ep', body: { url: 'http://127.0.0.1:9/' }, status: 422, loc: ['path', 'endpointId'] },
      { does: 'a message creating its application under an invalid uid', method: 'POST', path: '/api/v1/app/new%20app/msg', body: { eventType: 'x.y', payload: {}, application: { name: 'New', uid: 'new app' } }, status: 422, loc: ['body', 'application', 'uid'] },
      { does: 'a message creating its application without a uid', method: 'POST', path: '/api/v1/app/fresh-app/msg', body: { eventType: 'x.y', payload: {}, application: { name: 'New' } }, status: 422, loc: ['body', 'application', 'uid'] },
      { does: 'an inline application whose uid has the form of an id', method: 'POST', path: `/api/v1/app/${APP_LIKE_ID}/msg`, body: { eventType: 'x.y', payload: {}, application: { name: 'New', uid: APP_LIKE_ID } }, status: 422, loc: ['body', 'application', 'uid'] },
      { does: 'a header value outside printable ASCII', method: 'PUT', path: '/api/v1/app/acme/endpoint/primary/headers', body: { headers: { 'x-a': '✓' } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a header value with a control character', method: 'POST', path: '/api/v1/app/acme/endpoint', body: { url: 'http://127.0.0.1:9/', headers: { 'x-a': '\u0001' } }, status: 422, loc: ['body', 'headers', 'x-a'] },
      { does: 'a NUL character in a name', method: 'POST', path: '/api/v1/app', body: { name: 'a\u0000b' }, status: 422, loc: ['body', 'name'] },
      { does: 'a NUL character in endpoint metadata', method: 'POST', path: '/api/v1/app/acme/endpoint', body: { url: 'http://127.0.0.1:9/', metadata: { k: 'v\u0000' } }, status: 422, loc: ['body', 'metadata', 'k'] },
      { does: 'a malformed percent-encoding in the path', method: 'PUT', path: '/api/v1/app/%E0%A4%A', body: { name: 'X' }, status: 400, code: 'bad_request' },
    ]);

    it('reports a bad channel once, at the channel, not also as "must be null" at the list', async () => {
      const answer = await h.api('POST', '/api/v1/app/acme/endpoint', { url: 'http://127.0.0.1:9/', channels: ['a b'] });
      assertSvixError(answer, { status: 422, loc: ['body', 'channels', '0'] });
      assert.deepEqual(answer.body.detail.map((item: { loc: string[] }) => item.loc.join('.')), ['body.channels.0']);
    });

    it('finds an application by a 256-character uid', async () => {
      const uid = 'u'.repeat(256);
      assert.equal((await h.api('POST', '/api/v1/app', { name: 'Long', uid })).status, 201);
      assert.equal((await h.api('GET', `/api/v1/app/${uid}`)).status, 200);
      assert.equal((await h.api('DELETE', `/api/v1/app/${uid}`)).status, 204);
    });
  });

  describe('messages', () => {
    const msg = '/api/v1/app/acme/msg';
    const ok = { eventType: 'invoice.paid', payload: { invoice: 2 } };
    run([
      { does: 'a message without payload', method: 'POST', path: msg, body: { eventType: 'invoice.paid' }, status: 422, loc: ['body', 'payload'] },
      { does: 'a payload that is an array', method: 'POST', path: msg, body: { eventType: 'invoice.paid', payload: [1, 2] }, status: 422, loc: ['body', 'payload'] },
      { does: 'a payload that is a string', method: 'POST', path: msg, body: { eventType: 'invoice.paid', payload: '{"invoice":2}' }, status: 422, loc: ['body', 'payload'] },
      { does: 'a payload that is null', method: 'POST', path: msg, body: { eventType: 'invoice.paid', payload: null }, status: 422, loc: ['body', 'payload'] },
      { does: 'a message without eventType', method: 'POST', path: msg, body: { payload: {} }, status: 422, loc: ['body', 'eventType'] },
      { does: 'an eventType with spaces', method: 'POST', path: msg, body: { eventType: 'invoice paid', payload: {} }, status: 422, loc: ['body', 'eventType'] },
      { does: 'six channels', method: 'POST', path: msg, body: { ...ok, channels: sixChannels }, status: 422, loc: ['body', 'channels'] },
      { does: 'a channel with a space', method: 'POST', path: msg, body: { ...ok, channels: ['eu west'] }, status: 422, loc: ['body', 'channels', '0'] },
      { does: 'an eventId with spaces', method: 'POST', path: msg, body: { ...ok, eventId: 'evt 2' }, status: 422, loc: ['body', 'eventId'] },
      { does: 'an eventId that has the form of a message id', method: 'POST', path: msg, body: { ...ok, eventId: MSG_LIKE_ID }, status: 422, loc: ['body', 'eventId'] },
      { does: 'a payloadRetentionPeriod of 0', method: 'POST', path: msg, body: { ...ok, payloadRetentionPeriod: 0 }, status: 422, loc: ['body', 'payloadRetentionPeriod'] },
      { does: 'an eventId that was already used', method: 'POST', path: msg, body: { ...ok, eventId: 'evt-1' }, status: 409 },
      { does: 'a with_content flag that is not a boolean', method: 'POST', path: `${msg}?with_content=maybe`, body: ok, status: 422, loc: ['query', 'with_content'] },
      { does: 'a body that is an array', method: 'POST', path: msg, body: [], status: 422, loc: ['body'] },
      { does: 'a body that is a JSON string', method: 'POST', path: msg, body: '"x"', status: 422, loc: ['body'] },
      { does: 'a body that is JSON null', method: 'POST', path: msg, body: 'null', status: 422, loc: ['body'] },
      { does: 'malformed JSON', method: 'POST', path: msg, body: '{"eventType": "invoice.paid", "payload": {', status: 400 },
      { does: 'an empty body that says it is JSON', method: 'POST', path: msg, body: '', status: 422, loc: ['body'] },
      { does: 'JSON with a __proto__ key', method: 'POST', path: msg, body: '{"eventType":"invoice.paid","payload":{"__proto__":{"admin":true}}}', status: 400 },
      { does: 'JSON with a constructor.prototype key', method: 'POST', path: msg, body: '{"eventType":"invoice.paid","payload":{"a":[{"constructor":{"prototype":{"admin":true}}}]}}', status: 400 },
      { does: 'a body of 2 MiB', method: 'POST', path: msg, body: { eventType: 'invoice.paid', payload: { blob: 'x'.repeat(TWO_MIB) } }, status: 413 },
      { does: 'a form-encoded body', method: 'POST', path: msg, body: 'eventType=invoice.paid', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
      // Fastify parses text/plain as a string, which then fails the object schema of the body.
      { does: 'a JSON text sent as text/plain', method: 'POST', path: msg, body: JSON.stringify(ok), headers: { 'content-type': 'text/plain' }, status: 422, loc: ['body'] },
      { does: 'a message for an application that does not exist', method: 'POST', path: '/api/v1/app/ghost/msg', body: ok, status: 404 },
      { does: 'an inline application without a name', method: 'POST', path: '/api/v1/app/ghost/msg', body: { ...ok, application: { uid: 'ghost' } }, status: 422, loc: ['body', 'application', 'name'] },
      { does: 'an inline application with a throttleRate of 0', method: 'POST', path: '/api/v1/app/ghost/msg', body: { ...ok, application: { name: 'Ghost', throttleRate: 0 } }, status: 422, loc: ['body', 'application', 'throttleRate'] },
      { does: 'a resend of a message that does not exist', method: 'POST', path: '/api/v1/app/acme/msg/msg_nope/endpoint/primary/resend', status: 404 },
      { does: 'a resend to an endpoint that does not exist', method: 'POST', path: '/api/v1/app/acme/msg/evt-1/endpoint/ghost/resend', status: 404 },
      { does: 'a resend in an application that does not exist', method: 'POST', path: '/api/v1/app/ghost/msg/evt-1/endpoint/primary/resend', status: 404 },
      { does: 'a resend to an endpoint of another application', method: 'POST', path: '/api/v1/app/other/msg/evt-1/endpoint/primary/resend', status: 404 },
    ]);

    it('POST /api/v1/app/acme/msg: a body without any content-type gets 415', async () => {
      const body = Buffer.from(JSON.stringify(ok));
      const answer = await rawRequest(`${h.url}${msg}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-length': String(body.length) },
        chunks: [body],
      });
      assertSvixError(answer, { status: 415 });
    });

    it('POST /api/v1/app/acme/msg: a chunked body that grows past 1 MiB gets 413', async () => {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const answer = await rawRequest(`${h.url}${msg}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        chunks: [Buffer.from('{"eventType":"invoice.paid","payload":{"blob":"'), ...Array.from({ length: 32 }, () => chunk), Buffer.from('"}}')],
      });
      assertSvixError(answer, { status: 413 });
    });
  });

  describe('list routes', () => {
    run([
      { does: 'a limit of 0', method: 'GET', path: '/api/v1/app?limit=0', status: 422, loc: ['query', 'limit'] },
      { does: 'a limit of 251', method: 'GET', path: '/api/v1/app?limit=251', status: 422, loc: ['query', 'limit'] },
      { does: 'a limit that is not a number', method: 'GET', path: '/api/v1/app?limit=abc', status: 422, loc: ['query', 'limit'] },
      { does: 'an empty limit', method: 'GET', path: '/api/v1/app?limit=', status: 422, loc: ['query', 'limit'] },
      { does: 'an order that is neither ascending nor descending', method: 'GET', path: '/api/v1/app/acme/endpoint?order=sideways', status: 422, loc: ['query', 'order'] },
      { does: 'an include_archived flag that is not a boolean', method: 'GET', path: '/api/v1/event-type?include_archived=maybe', status: 422, loc: ['query', 'include_archived'] },
      { does: 'a before that is not a date', method: 'GET', path: '/api/v1/app/acme/msg?before=yesterday', status: 422, loc: ['query', 'before'] },
      { does: 'an after that is not a date', method: 'GET', path: '/api/v1/app/acme/msg?after=2024-13-01T00:00:00Z', status: 422, loc: ['query', 'after'] },
      { does: 'a with_content flag that is not a boolean', method: 'GET', path: '/api/v1/app/acme/msg?with_content=maybe', status: 422, loc: ['query', 'with_content'] },
      { does: 'a status of 9', method: 'GET', path: '/api/v1/app/acme/attempt/endpoint/primary?status=9', status: 422, loc: ['query', 'status'] },
      { does: 'a status_code_class that is not a class', method: 'GET', path: '/api/v1/app/acme/attempt/endpoint/primary?status_code_class=201', status: 422, loc: ['query', 'status_code_class'] },
      { does: 'a limit of 251', method: 'GET', path: '/api/v1/app/acme/attempt/msg/evt-1?limit=251', status: 422, loc: ['query', 'limit'] },
      { does: 'a status of 9', method: 'GET', path: '/api/v1/app/acme/endpoint/primary/msg?status=9', status: 422, loc: ['query', 'status'] },
      { does: 'a limit of 0', method: 'GET', path: '/api/v1/app/acme/msg/evt-1/endpoint?limit=0', status: 422, loc: ['query', 'limit'] },
      { does: 'a since that is not a date', method: 'GET', path: '/api/v1/app/acme/endpoint/primary/stats?since=yesterday', status: 422, loc: ['query', 'since'] },
    ]);
  });

  describe('authentication', () => {
    const writes: Array<[string, string]> = [
      ['POST', '/api/v1/app'],
      ['PUT', '/api/v1/app/acme'],
      ['PATCH', '/api/v1/app/acme'],
      ['DELETE', '/api/v1/app/acme'],
      ['POST', '/api/v1/event-type'],
      ['PUT', '/api/v1/event-type/invoice.paid'],
      ['PATCH', '/api/v1/event-type/invoice.paid'],
      ['DELETE', '/api/v1/event-type/invoice.paid'],
      ['POST', '/api/v1/app/acme/endpoint'],
      ['PUT', '/api/v1/app/acme/endpoint/primary'],
      ['PATCH', '/api/v1/app/acme/endpoint/primary'],
      ['DELETE', '/api/v1/app/acme/endpoint/primary'],
      ['PUT', '/api/v1/app/acme/endpoint/primary/headers'],
      ['PATCH', '/api/v1/app/acme/endpoint/primary/headers'],
      ['POST', '/api/v1/app/acme/endpoint/primary/secret/rotate'],
      ['POST', '/api/v1/app/acme/endpoint/primary/recover'],
      ['POST', '/api/v1/app/acme/endpoint/primary/send-example'],
      ['POST', '/api/v1/app/acme/msg'],
      ['POST', '/api/v1/app/acme/msg/evt-1/endpoint/primary/resend'],
    ];
    // The bodies are bad too: a request without a valid token is refused before its body is looked at.
    for (const [method, path] of writes) {
      it(`${method} ${path}: a request without a token gets 401`, async () => {
        const response = await fetch(h.url + path, { method, headers: { 'content-type': 'application/json' }, body: '{"bad": ' });
        assertSvixError({ status: response.status, body: await response.json(), headers: response.headers }, { status: 401 });
      });
      it(`${method} ${path}: a request with a wrong token gets 401`, async () => {
        assertSvixError(await h.api(method, path, { bad: true }, { authorization: 'Bearer not-the-token' }), { status: 401 });
      });
    }
    it('POST /api/v1/app: a token sent as Basic rather than Bearer gets 401', async () => {
      assertSvixError(await h.api('POST', '/api/v1/app', { name: 'X' }, { authorization: `Basic ${h.token}` }), { status: 401 });
    });
  });

  describe('after all the bad requests', () => {
    it('the server still answers the health check with 204', async () => {
      const answer = await h.api('GET', '/api/v1/health');
      assert.equal(answer.status, 204);
    });

    it('nothing was written: applications, event types, endpoints, headers, secrets and messages are as before', async () => {
      assert.deepEqual(await state(), snapshot);
    });

    it('none of the names the bad requests used exist', async () => {
      for (const path of [
        '/api/v1/app/no-name',
        '/api/v1/app/not-there-yet',
        '/api/v1/app/ghost',
        '/api/v1/event-type/order.created',
        '/api/v1/app/acme/endpoint/not-there-yet',
        '/api/v1/app/acme/endpoint/ghost',
        `/api/v1/app/${APP_LIKE_ID}`,
        `/api/v1/app/acme/endpoint/${EP_LIKE_ID}`,
        `/api/v1/app/acme/msg/${MSG_LIKE_ID}`,
      ]) {
        assert.equal((await h.api('GET', path)).status, 404, path);
      }
    });

    it('a valid request still succeeds', async () => {
      const created = await h.api('POST', '/api/v1/app', { name: 'Valid after all', uid: 'valid-after' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    });
  });
}));

describe('endpoint urls when private networks are not allowed', () => {
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald({ env: { HERALD_ALLOW_PRIVATE_NETWORKS: 'false' } });
    assert.equal((await h.api('POST', '/api/v1/app', { name: 'Acme', uid: 'acme' })).status, 201);
    // A host name is checked when it is connected to, not here; nothing is ever sent to this one.
    assert.equal((await h.api('POST', '/api/v1/app/acme/endpoint', { url: 'http://localhost:9/hook', uid: 'primary' })).status, 201);
  });
  after(() => h.close());

  const urls: Array<[string, string]> = [
    ['a loopback address', 'http://127.0.0.1:8080/hook'],
    ['the IPv6 loopback', 'http://[::1]/hook'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['a private address', 'http://10.0.0.5/hook'],
    ['a loopback address inside an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]/hook'],
  ];
  for (const [what, url] of urls) {
    it(`POST /api/v1/app/{app}/endpoint: ${what} gets 422 at body.url`, async () => {
      assertSvixError(await h.api('POST', '/api/v1/app/acme/endpoint', { url }), { status: 422, loc: ['body', 'url'] });
    });
    it(`PATCH /api/v1/app/{app}/endpoint/{endpoint}: ${what} gets 422 at body.url`, async () => {
      assertSvixError(await h.api('PATCH', '/api/v1/app/acme/endpoint/primary', { url }), { status: 422, loc: ['body', 'url'] });
    });
  }

  it('leaves the endpoint list as it was', async () => {
    const list = await h.api('GET', '/api/v1/app/acme/endpoint');
    assert.deepEqual(list.body.data.map((e: { uid: string; url: string }) => [e.uid, e.url]), [['primary', 'http://localhost:9/hook']]);
  });
});
