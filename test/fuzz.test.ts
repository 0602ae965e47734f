import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SOURCE_TYPES } from '../src/inbound/providers/index.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { PROVIDER_CASES } from './support/providers.ts';
import { rawRequest } from './support/raw-request.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

/**
 * Property-based fuzzing of every write route, of the source API and of the URLs sources receive
 * on: malformed JSON, wrong types, huge strings, odd unicode, nulls, bytes that are not UTF-8,
 * any content type, near-valid bodies built from each route's own field names (and from the
 * fields providers read), signed with the source's secret or not. Whatever comes in, the answer
 * is a 2xx or a 4xx in Svix's error shape, never a 5xx; a refused API request writes nothing;
 * what a source accepts or refuses is kept and can be read back; and the process stays up.
 *
 * Every endpoint URL it can create points at a receiver on 127.0.0.1: no request, and no DNS
 * lookup, leaves this machine.
 */
const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 40);

/** The receiver of the suite running now (the stores' suites run one after the other). */
let receiverUrl = 'http://127.0.0.1:9';
const atReceiver = fc.constant(null).map(() => `${receiverUrl}/hook`);

const oddStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udc00', 'a\ud800b', '💥'.repeat(50), 'a'.repeat(70_000), '../../etc/passwd', "'; DROP TABLE messages; --", '${7*7}', 'whsec_'),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), oddStrings, fc.array(oddStrings, { maxLength: 12 }),
  fc.dictionary(oddStrings, oddStrings, { maxKeys: 5 }),
  atReceiver,
  fc.constantFrom('http://127.0.0.1:9/', 'ftp://x', 'http://', 'localhost', 'invoice.paid', 'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=='),
);
/** A URL, or something near one, that can only ever reach this machine. */
const anyUrl = fc.oneof(atReceiver, anyValue);
const sourceConfig = fc.oneof(
  anyValue,
  fc.record(Object.fromEntries(['secret', 'publicKey', 'header', 'algorithm', 'encoding', 'prefix', 'signedContent', 'timestampHeader', 'idHeader', 'toleranceSeconds', 'secretEncoding', 'methods']
    .map((field) => [field, anyValue])), { requiredKeys: [] }),
);
/** A bin's answer and rules, near valid or not. */
const binResponse = fc.oneof(anyValue, fc.record({ status: fc.oneof(fc.integer({ min: 100, max: 700 }), anyValue), headers: fc.oneof(anyValue, fc.dictionary(oddStrings, oddStrings, { maxKeys: 3 })), body: anyValue, delayMs: fc.oneof(fc.integer({ min: -1, max: 100 }), anyValue) }, { requiredKeys: [] }));
const binRules = fc.oneof(anyValue, fc.record(Object.fromEntries(['failRate', 'failStatus', 'rateLimitRate', 'retryAfterSeconds', 'timeoutRate']
  .map((field) => [field, fc.oneof(fc.double({ min: -1, max: 2 }), fc.integer({ min: -1, max: 700 }), anyValue)])), { requiredKeys: [] }));
const FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  url: anyUrl,
  response: binResponse,
  rules: binRules,
  type: fc.oneof(fc.constantFrom(...SOURCE_TYPES), anyValue),
  config: sourceConfig,
};

/** Text with an http(s) URL in it that is not on 127.0.0.1: never sent, so nothing can be delivered there. */
const REMOTE_URL = /https?:\/\/(?!127\.0\.0\.1[:/])/i;

/** A body for a route: near-valid objects from its field names, any JSON value, or text that is not JSON at all. */
const bodyFor = (fields: string[]) =>
  fc.oneof(
    fc.record(Object.fromEntries(fields.map((field) => [field, FIELD_VALUES[field] ?? anyValue])), { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.string().filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }),
  ).filter((body) => !REMOTE_URL.test(body));

/** JSON nested up to a hundred thousand levels deep, closed or not. */
const deepJson = fc.record({ depth: fc.integer({ min: 200, max: 100_000 }), array: fc.boolean(), closed: fc.boolean() })
  .map(({ depth, array, closed }) => (array
    ? '['.repeat(depth) + (closed ? ']'.repeat(depth) : '')
    : '{"a":'.repeat(depth) + (closed ? `1${'}'.repeat(depth)}` : '')));

/** What providers read from a body (ids, types, handshakes, timestamps), holding anything. */
const PROVIDER_FIELDS = ['id', 'type', 'event_id', 'event_type', 'event', 'action', 'challenge', 'payload', 'eventType', 'webhookTimestamp', 'data', 'object_kind'];
const providerJson = fc.record(Object.fromEntries(PROVIDER_FIELDS.map((field) => [field, anyValue])), { requiredKeys: [] });
const handshakeJson = fc.oneof(
  fc.record({ type: fc.constantFrom('url_verification', 1, '1'), challenge: anyValue }),
  fc.record({ event: fc.constant('endpoint.url_validation'), payload: fc.oneof(anyValue, fc.record({ plainToken: anyValue })) }),
);
/** A body a source may be sent, as text (signers sign text). */
const inboundText = fc.oneof(
  fc.string({ unit: 'binary' }),
  providerJson.map((value) => JSON.stringify(value)),
  handshakeJson.map((value) => JSON.stringify(value)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  deepJson,
);
/** Any bytes at all: text, or bytes that are not UTF-8. */
const inboundBytes = fc.oneof(inboundText.map((text) => Buffer.from(text)), fc.uint8Array({ maxLength: 4_000 }).map((bytes) => Buffer.from(bytes)));
const inboundContentType = fc.constantFrom<string | undefined>(
  undefined, '', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/octet-stream', 'text/xml', ';;;="', 'application/json; charset=latin1',
);
const withContentType = (contentType: string | undefined, headers: Record<string, string> = {}) =>
  contentType === undefined ? headers : { 'content-type': contentType, ...headers };

/** The provider cases whose signers take any text (Linear's reads a timestamp from the JSON it signs). */
const SIGNED_CASES = PROVIDER_CASES.filter((c) => c.type !== 'linear');

await forEachStore((store) => describe(`fuzzing (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;
  let app = '';
  let endpoint = '';
  let message = '';
  let source = '';
  let sourceEndpoint = '';
  let bin = '';

  const ids = (path: string) => h.api('GET', path).then((a) => a.body.data.map((x: { id?: string; name?: string; updatedAt: string }) => (x.id ?? x.name) + x.updatedAt));
  /** What a refused request must not have changed. */
  const fingerprint = async () => JSON.stringify(await Promise.all([
    ids('/api/v1/app?limit=250'),
    ids(`/api/v1/app/${app}/endpoint?limit=250`),
    h.api('GET', `/api/v1/app/${app}/msg?limit=250`).then((a) => a.body.data.length),
    ids('/api/v1/event-type?limit=250&include_archived=true'),
    h.api('GET', `/api/v1/app/${app}/endpoint/${endpoint}/headers`).then((a) => JSON.stringify(a.body)),
    ids('/ingest/api/v1/source?limit=250'),
    ids(`/ingest/api/v1/source/${source}/endpoint?limit=250`),
    h.api('GET', `/ingest/api/v1/source/${source}`).then((a) => JSON.stringify(a.body)),
    ids('/api/v1/bin?limit=250'),
    h.api('GET', `/api/v1/bin/${bin}`).then((a) => JSON.stringify(a.body)),
  ]));

  before(async () => {
    receiver = await startReceiver();
    receiverUrl = receiver.url;
    h = await startTestHerald({ store, env: { HERALD_RATE_LIMIT: '0' } });
    app = (await h.svix.application.create({ name: 'fuzz', uid: 'fuzz' })).id;
    endpoint = (await h.svix.endpoint.create(app, { url: `${receiver.url}/hook`, uid: 'fuzz-ep' })).id;
    message = (await h.svix.message.create(app, { eventType: 'fuzz.seed', payload: {} })).id;
    await h.svix.eventType.create({ name: 'fuzz.seed', description: 'seed' });
    source = (await h.api('POST', '/ingest/api/v1/source', { name: 'fuzz source', uid: 'fuzz-source', type: 'github', config: { secret: 'fuzz' } })).body.id;
    sourceEndpoint = (await h.api('POST', `/ingest/api/v1/source/${source}/endpoint`, { url: `${receiver.url}/source` })).body.id;
    bin = (await h.api('POST', '/api/v1/bin', { name: 'fuzz bin' })).body.id;
  });
  after(async () => {
    await h.close(failures.any());
    await receiver.close();
  });

  describe('the API', () => {
    const routes: Array<[method: string, path: () => string, fields: string[]]> = [
      ['POST', () => '/api/v1/app', ['name', 'uid', 'metadata', 'throttleRate']],
      ['PUT', () => `/api/v1/app/${app}`, ['name', 'uid', 'metadata', 'throttleRate']],
      ['PATCH', () => `/api/v1/app/${app}`, ['name', 'uid', 'metadata', 'throttleRate']],
      ['POST', () => '/api/v1/event-type', ['name', 'description', 'schemas', 'archived', 'deprecated', 'featureFlag']],
      ['PUT', () => '/api/v1/event-type/fuzz.seed', ['description', 'schemas', 'archived', 'deprecated']],
      ['PATCH', () => '/api/v1/event-type/fuzz.seed', ['description', 'schemas', 'archived', 'deprecated']],
      ['POST', () => `/api/v1/app/${app}/endpoint`, ['url', 'description', 'uid', 'eventTypes', 'filterTypes', 'channels', 'secret', 'headers', 'metadata', 'disabled', 'keyType']],
      ['PUT', () => `/api/v1/app/${app}/endpoint/${endpoint}`, ['url', 'description', 'uid', 'eventTypes', 'channels', 'metadata', 'disabled']],
      ['PATCH', () => `/api/v1/app/${app}/endpoint/${endpoint}`, ['url', 'description', 'uid', 'eventTypes', 'channels', 'metadata', 'disabled']],
      ['PUT', () => `/api/v1/app/${app}/endpoint/${endpoint}/headers`, ['headers']],
      ['PATCH', () => `/api/v1/app/${app}/endpoint/${endpoint}/headers`, ['headers']],
      ['POST', () => `/api/v1/app/${app}/endpoint/${endpoint}/secret/rotate`, ['key', 'gracePeriodSeconds', 'keyType']],
      ['POST', () => `/api/v1/app/${app}/endpoint/${endpoint}/recover`, ['since', 'until']],
      ['POST', () => `/api/v1/app/${app}/endpoint/${endpoint}/send-example`, ['eventType']],
      ['POST', () => `/api/v1/app/${app}/msg`, ['eventType', 'payload', 'eventId', 'channels', 'application']],
      ['POST', () => `/api/v1/app/${app}/msg/${message}/endpoint/${endpoint}/resend`, []],
      ['POST', () => `/api/v1/auth/app-portal-access/${app}`, ['application', 'readOnly', 'expiry']],
      ['POST', () => `/api/v1/auth/app/${app}/expire-all`, ['expiry']],
      ['POST', () => '/ingest/api/v1/source', ['name', 'uid', 'type', 'config', 'metadata']],
      ['PUT', () => `/ingest/api/v1/source/${source}`, ['name', 'uid', 'type', 'config', 'metadata']],
      ['POST', () => `/ingest/api/v1/source/${source}/token/rotate`, []],
      ['POST', () => `/ingest/api/v1/source/${source}/endpoint`, ['url', 'description', 'uid', 'eventTypes', 'channels', 'secret', 'headers', 'metadata', 'disabled']],
      ['PATCH', () => `/ingest/api/v1/source/${source}/endpoint/${sourceEndpoint}`, ['url', 'description', 'uid', 'eventTypes', 'channels', 'metadata', 'disabled']],
      ['POST', () => '/api/v1/bin', ['name', 'response', 'rules']],
      ['PATCH', () => `/api/v1/bin/${bin}`, ['name', 'response', 'rules']],
    ];

    for (const [method, path, fields] of routes) {
      const label = path.toString().replace(/^\(\) => /, '').replaceAll('`', '').replaceAll("'", '').replace(/\$\{(\w+)\}/g, '{$1}');
      it(`${method} ${label} answers any body with a 2xx or a 4xx in Svix's shape, and a 4xx writes nothing`, async () => {
        await fc.assert(
          fc.asyncProperty(bodyFor(fields), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'), async (body, contentType) => {
            const before = await fingerprint();
            const answer = await h.api(method, path(), body, { 'content-type': contentType });
            assert.ok(answer.status < 500, `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)} for ${body.slice(0, 200)}`);
            if (answer.status >= 400) {
              assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'detail']);
              assert.equal(await fingerprint(), before, 'a refused request changed something');
            }
          }),
          { numRuns: RUNS },
        );
      });
    }
  });

  describe('the URLs sources receive on', () => {
    /** A source and the URL path it receives on. */
    async function newSource(type: string, config: Record<string, unknown>) {
      const created = await h.api('POST', '/ingest/api/v1/source', { name: `${type} fuzz`, type, config });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await h.api('POST', `/ingest/api/v1/source/${created.body.id}/endpoint`, { url: `${receiver.url}/${type}` });
      return { id: created.body.id as string, url: created.body.ingestUrl as string };
    }

    /** Checks an answer from a source's URL, and that what it kept can be read back. */
    async function assertReceived(s: { id: string }, answer: { status: number; body: any; headers: Record<string, unknown> }, allowed: number[], sent: string) {
      assert.ok(allowed.includes(answer.status), `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)} for ${sent.slice(0, 200)}`);
      if (answer.status >= 400) assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'detail']);
      const kept = answer.headers['herald-message-id'];
      if (typeof kept === 'string') {
        const read = await h.api('GET', `/ingest/api/v1/source/${s.id}/msg/${kept}`);
        assert.equal(read.status, 200, `reading back what was kept: ${JSON.stringify(read.body)?.slice(0, 300)}`);
      }
    }

    it('POST to a generic-webhook source answers any bytes with any content type with 200, 413 or 415', async () => {
      const s = await newSource('generic-webhook', {});
      await fc.assert(
        fc.asyncProperty(inboundBytes, inboundContentType, async (body, contentType) => {
          const answer = await rawRequest(s.url, { headers: withContentType(contentType), body });
          await assertReceived(s, answer, [200, 413, 415], body.toString('latin1'));
        }),
        { numRuns: RUNS },
      );
    });

    for (const c of SIGNED_CASES) {
      it(`POST to a ${c.type} source answers any body, signed with its secret or not signed, with 2xx, 401, 413 or 415`, async () => {
        const s = await newSource(c.type, c.config);
        await fc.assert(
          fc.asyncProperty(inboundText, fc.oneof(fc.constant(c.contentType), inboundContentType), fc.boolean(), async (body, contentType, sign) => {
            // A provider's own signing library may refuse a body (Octokit's, an empty one): then it goes unsigned.
            const signed = sign ? await Promise.resolve().then(() => c.sign(body, s.url)).catch(() => null) : null;
            const answer = await rawRequest(s.url, { headers: withContentType(contentType, signed?.headers), body: signed?.body ?? body });
            await assertReceived(s, answer, signed ? [200, 401, 413, 415] : [401, 413, 415], body);
          }),
          { numRuns: RUNS },
        );
      });
    }
  });

  describe('the URLs bins capture on', () => {
    const methods = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
    const suffix = fc.oneof(fc.constant(''), fc.webPath(), fc.webQueryParameters().map((query) => `?${query}`), fc.constantFrom('/%zz?%00', '/a%2F..%2Fb', '?', '/'));

    it('any method with any sub-path, bytes and content type is kept (200) or too large (413), and what was kept reads back byte for byte', async () => {
      const created = (await h.api('POST', '/api/v1/bin', { name: 'fuzz capture' })).body;
      await fc.assert(
        fc.asyncProperty(methods, suffix, inboundBytes, inboundContentType, async (method, path, body, contentType) => {
          // node:http frames no body of a GET, HEAD, DELETE or OPTIONS by itself: the length says where it ends.
          const answer = await rawRequest(created.url + path, { method, headers: withContentType(contentType, { 'content-length': String(body.length) }), body });
          assert.ok([200, 413].includes(answer.status), `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)}`);
          if (answer.status === 413) return assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'detail']);
          const kept = await h.api('GET', `/api/v1/bin/${created.id}/request/${answer.headers['herald-request-id']}`);
          assert.equal(kept.status, 200, JSON.stringify(kept.body)?.slice(0, 300));
          assert.equal(kept.body.method, method);
          assert.deepEqual(Buffer.from(kept.body.bodyBase64, 'base64'), body);
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('created every endpoint at 127.0.0.1 and made every attempt there, so nothing was sent beyond this machine', async () => {
    const all = async (path: string) => {
      const items: Array<{ id: string; url?: string }> = [];
      for (let iterator: string | null = null, done = false; !done;) {
        const page = await h.api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=250${iterator ? `&iterator=${iterator}` : ''}`);
        assert.equal(page.status, 200);
        items.push(...page.body.data);
        ({ iterator, done } = page.body);
      }
      return items;
    };
    const owners = [...(await all('/api/v1/app')).map((a) => `/api/v1/app/${a.id}`), ...(await all('/ingest/api/v1/source')).map((s) => `/ingest/api/v1/source/${s.id}`)];
    let endpoints = 0;
    let attempts = 0;
    for (const owner of owners) {
      for (const e of await all(`${owner}/endpoint`)) {
        endpoints++;
        assert.equal(new URL(e.url!).hostname, '127.0.0.1', e.url);
      }
      // Attempts keep the URL they went to, also those of endpoints changed or deleted since.
      for (const message of await all(`${owner}/msg?with_content=false`)) {
        for (const attempt of await all(`${owner}/attempt/msg/${message.id}`)) {
          attempts++;
          assert.equal(new URL(attempt.url!).hostname, '127.0.0.1', attempt.url);
        }
      }
    }
    assert.ok(endpoints > 0);
    assert.ok(attempts > 0);
  });

  it('is still up and answering after all of it', async () => {
    assert.equal((await h.api('GET', '/api/v1/health')).status, 204);
  });
}));
