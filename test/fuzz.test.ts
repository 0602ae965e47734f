import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

/**
 * Property-based fuzzing of every write route: malformed JSON, wrong types, huge strings, odd
 * unicode, nulls and near-valid bodies built from each route's own field names. Whatever comes in,
 * the answer is a 2xx or a 4xx in Svix's error shape, never a 5xx; a refused request writes
 * nothing; and the process stays up.
 */
const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 40);

const oddStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '💥'.repeat(50), 'a'.repeat(70_000), '../../etc/passwd', "'; DROP TABLE messages; --", '${7*7}', 'whsec_'),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), oddStrings, fc.array(oddStrings, { maxLength: 12 }),
  fc.dictionary(oddStrings, oddStrings, { maxKeys: 5 }),
  fc.constantFrom('https://example.com/hook', 'http://127.0.0.1/', 'ftp://x', 'invoice.paid', 'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=='),
);
/** A body for a route: near-valid objects from its field names, any JSON value, or text that is not JSON at all. */
const bodyFor = (fields: string[]) =>
  fc.oneof(
    fc.record(Object.fromEntries(fields.map((field) => [field, anyValue])), { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.string().filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }),
  );

await forEachStore((store) => describe(`fuzzing the write routes (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let app = '';
  let endpoint = '';
  let message = '';

  /** What a refused request must not have changed. */
  const fingerprint = async () => JSON.stringify(await Promise.all([
    h.api('GET', '/api/v1/app?limit=250').then((a) => a.body.data.map((x: { id: string; updatedAt: string }) => x.id + x.updatedAt)),
    h.api('GET', `/api/v1/app/${app}/endpoint?limit=250`).then((a) => a.body.data.map((x: { id: string; updatedAt: string }) => x.id + x.updatedAt)),
    h.api('GET', `/api/v1/app/${app}/msg?limit=250`).then((a) => a.body.data.length),
    h.api('GET', '/api/v1/event-type?limit=250&include_archived=true').then((a) => a.body.data.map((x: { name: string; updatedAt: string }) => x.name + x.updatedAt)),
    h.api('GET', `/api/v1/app/${app}/endpoint/${endpoint}/headers`).then((a) => JSON.stringify(a.body)),
  ]));

  before(async () => {
    h = await startTestHerald({ store, env: { HERALD_RATE_LIMIT: '0' } });
    app = (await h.svix.application.create({ name: 'fuzz', uid: 'fuzz' })).id;
    endpoint = (await h.svix.endpoint.create(app, { url: 'https://example.com/hook', uid: 'fuzz-ep' })).id;
    message = (await h.svix.message.create(app, { eventType: 'fuzz.seed', payload: {} })).id;
    await h.svix.eventType.create({ name: 'fuzz.seed', description: 'seed' });
  });
  after(() => h.close(failures.any()));

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

  it('is still up and answering after all of it', async () => {
    assert.equal((await h.api('GET', '/api/v1/health')).status, 204);
  });
}));
