import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException } from 'svix';
import { heraldAndReceiverPerSuite, startTestHerald, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * Event types' schemas are checked when a message is published: against the newest version or
 * the one the message names; `warn` (the default) accepts the message and records what is wrong
 * with it, `enforce` refuses it with 422 naming each failing path and rule, `off` checks nothing;
 * an event type's own `schemaValidation` wins over HERALD_SCHEMA_VALIDATION. The dry run checks
 * without publishing.
 */

const ORDER_V1 = {
  type: 'object',
  properties: { orderId: { type: 'string' }, amount: { type: 'number' } },
  required: ['orderId'],
};
const ORDER_V2 = {
  type: 'object',
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    amount: { type: 'integer', minimum: 0 },
    customer: { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] },
    lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] } },
  },
  required: ['orderId', 'amount', 'customer'],
  additionalProperties: false,
};
const VALID_V2 = { orderId: '0b4f3c1e-8a3c-4a53-9a7e-2d4a8f6e1c55', amount: 5, customer: { email: 'a@example.com' }, lines: [{ sku: 'x' }] };
const INVALID_V2 = { orderId: 'not-a-uuid', amount: -1, customer: {}, lines: [{ sku: 'x' }, { qty: 1 }], extra: true };
/** What INVALID_V2 breaks in ORDER_V2, as [path inside the payload, rule]. */
const INVALID_V2_BREAKS = [
  [['orderId'], 'format'], [['amount'], 'minimum'], [['customer', 'email'], 'required'], [['lines', '1', 'sku'], 'required'], [['extra'], 'additionalProperties'],
];

const breaks = (items: Array<{ loc: string[]; type: string }>, prefix: string[]) =>
  items.map((item) => [item.loc.slice(prefix.length), item.type.replace('value_error.jsonschema.', '')]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const sorted = (list: unknown[][]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

await forEachStore((store) => describe(`payload schemas at publish (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));
  let app: string;

  before(async () => {
    app = (await h.svix.application.create({ name: 'schemas', uid: 'schemas' })).id;
    await h.svix.endpoint.create(app, { url: `${receiver.url}/orders` });
    await h.svix.eventType.create({ name: 'order.placed', description: 'An order', schemas: { 1: ORDER_V1, 2: ORDER_V2 } });
  });

  const publish = (eventType: string, payload: object, extra: object = {}) =>
    h.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload, ...extra });

  it('accepts a payload that breaks the newest schema under warn, and shows each failing path and rule on the message', async () => {
    const created = await publish('order.placed', INVALID_V2);
    assert.equal(created.status, 202);
    assert.equal(created.body.schemaVersion, '2');
    assert.deepEqual(breaks(created.body.schemaViolations, ['payload']), sorted(INVALID_V2_BREAKS));
    const read = await h.api('GET', `/api/v1/app/${app}/msg/${created.body.id}`);
    assert.deepEqual(read.body.schemaViolations, created.body.schemaViolations);
    assert.equal(read.body.schemaVersion, '2');
    // Accepted means delivered.
    await waitFor('the delivery', () => receiver.requests.find((r) => r.headers['webhook-id'] === created.body.id));
  });

  it('records nothing on a message whose payload follows the schema', async () => {
    const created = await publish('order.placed', VALID_V2);
    assert.equal(created.status, 202);
    assert.equal(created.body.schemaViolations, undefined);
    assert.equal((await h.api('GET', `/api/v1/app/${app}/msg/${created.body.id}`)).body.schemaViolations, undefined);
  });

  it('checks against the version the message names, and refuses a version the event type does not have', async () => {
    const v1 = await publish('order.placed', { orderId: 'plain text is fine in v1', amount: 1.5 }, { schemaVersion: '1' });
    assert.equal(v1.status, 202);
    assert.equal(v1.body.schemaViolations, undefined);
    const newest = await publish('order.placed', { orderId: 'plain text is fine in v1', amount: 1.5 });
    assert.equal(newest.body.schemaVersion, '2');
    assert.ok(newest.body.schemaViolations.some((v: { loc: string[] }) => v.loc.join('.') === 'payload.amount'));
    const unknown = await publish('order.placed', VALID_V2, { schemaVersion: '7' });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.detail.map((d: { loc: string[] }) => d.loc), [['body', 'schemaVersion']]);
    assert.match(unknown.body.detail[0].msg, /versions 2, 1/);
  });

  it('takes the newest version numerically, so 10 is newer than 9', async () => {
    await h.svix.eventType.create({ name: 'versions.many', description: 'd', schemas: { 9: { type: 'object', required: ['nine'] }, 10: { type: 'object', required: ['ten'] } } });
    const created = await publish('versions.many', { nine: 1 });
    assert.equal(created.body.schemaVersion, '10');
    assert.deepEqual(created.body.schemaViolations.map((v: { loc: string[] }) => v.loc), [['payload', 'ten']]);
  });

  it("refuses under the event type's own enforce with 422 in Svix's validation shape, storing nothing", async () => {
    await h.svix.eventType.create({ name: 'order.strict', description: 'd', schemas: { 1: ORDER_V2 } });
    await h.api('PATCH', '/api/v1/event-type/order.strict', { schemaValidation: 'enforce' });
    const before = (await h.svix.message.list(app, { eventTypes: ['order.strict'] })).data.length;
    const refused = await publish('order.strict', INVALID_V2);
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'validation');
    assert.deepEqual(breaks(refused.body.detail, ['body', 'payload']), sorted(INVALID_V2_BREAKS));
    for (const item of refused.body.detail) assert.equal(typeof item.msg, 'string');
    assert.equal((await h.svix.message.list(app, { eventTypes: ['order.strict'] })).data.length, before);
    assert.equal((await publish('order.strict', VALID_V2)).status, 202);
  });

  it('refuses through the Svix SDK too, as an ApiException with the 422 body', async () => {
    await h.svix.eventType.create({ name: 'order.sdk', description: 'd', schemas: { 1: ORDER_V1 } });
    await h.api('PATCH', '/api/v1/event-type/order.sdk', { schemaValidation: 'enforce' });
    await assert.rejects(h.svix.message.create(app, { eventType: 'order.sdk', payload: { amount: 'ten' } }), (error: unknown) => {
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 422);
      assert.deepEqual(breaks((error.body as { detail: Array<{ loc: string[]; type: string }> }).detail, ['body', 'payload']), sorted([[['orderId'], 'required'], [['amount'], 'type']]));
      return true;
    });
  });

  it("checks nothing under the event type's own off", async () => {
    await h.svix.eventType.create({ name: 'order.loose', description: 'd', schemas: { 1: ORDER_V2 } });
    await h.api('PATCH', '/api/v1/event-type/order.loose', { schemaValidation: 'off' });
    const created = await publish('order.loose', INVALID_V2);
    assert.equal(created.status, 202);
    assert.equal(created.body.schemaViolations, undefined);
  });

  it('uses a changed schema from the next message on', async () => {
    // The SDK sends only Svix's fields: Herald's extension goes by hand.
    await h.api('POST', '/api/v1/event-type', { name: 'order.changing', description: 'd', schemas: { 1: { type: 'object', required: ['a'] } }, schemaValidation: 'enforce' });
    assert.equal((await publish('order.changing', { b: 1 })).status, 422);
    await h.svix.eventType.patch('order.changing', { schemas: { 1: { type: 'object', required: ['b'] } } });
    assert.equal((await publish('order.changing', { b: 1 })).status, 202);
    assert.equal((await publish('order.changing', { a: 1 })).status, 422);
    // Back to the server's warn: accepted, with the violation recorded.
    await h.api('PATCH', '/api/v1/event-type/order.changing', { schemaValidation: null });
    const warned = await publish('order.changing', { a: 1 });
    assert.equal(warned.status, 202);
    assert.deepEqual(warned.body.schemaViolations.map((v: { loc: string[] }) => v.loc), [['payload', 'b']]);
  });

  it('does not check a message whose event type has no schema or was never registered', async () => {
    await h.svix.eventType.create({ name: 'order.bare', description: 'd' });
    await h.api('PATCH', '/api/v1/event-type/order.bare', { schemaValidation: 'enforce' });
    for (const eventType of ['order.bare', 'never.registered']) {
      const created = await publish(eventType, { anything: true });
      assert.equal(created.status, 202, eventType);
      assert.equal(created.body.schemaViolations, undefined, eventType);
    }
  });

  it('refuses a schema that cannot be compiled, naming its version', async () => {
    const refused = await h.api('POST', '/api/v1/event-type', { name: 'order.broken', description: 'd', schemas: { 1: { type: 'object' }, 2: { type: 'no-such-type' } } });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.body.detail.map((d: { loc: string[] }) => d.loc), [['body', 'schemas', '2']]);
    const remote = await h.api('POST', '/api/v1/event-type', { name: 'order.remote', description: 'd', schemas: { 1: { $ref: 'https://example.com/schema.json' } } });
    assert.equal(remote.status, 422);
    assert.equal((await h.api('PATCH', '/api/v1/event-type/order.placed', { schemas: { 3: { minLength: 'x' } } })).status, 422);
    assert.equal((await h.api('PUT', '/api/v1/event-type/order.placed', { description: 'd', schemas: { 3: { minLength: 'x' } } })).status, 422);
  });

  it('shows and validates schemaValidation on the event type', async () => {
    await h.svix.eventType.create({ name: 'order.shown', description: 'd', schemas: { 1: ORDER_V1 } });
    assert.equal((await h.api('GET', '/api/v1/event-type/order.shown')).body.schemaValidation, null);
    assert.equal((await h.api('PATCH', '/api/v1/event-type/order.shown', { schemaValidation: 'enforce' })).body.schemaValidation, 'enforce');
    assert.equal((await h.api('GET', '/api/v1/event-type/order.shown')).body.schemaValidation, 'enforce');
    const bad = await h.api('PATCH', '/api/v1/event-type/order.shown', { schemaValidation: 'strict' });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'schemaValidation']);
  });

  describe('catalogue examples', () => {
    it('serves an example per schema version that passes that version, in the list and the event type', async () => {
      const one = (await h.api('GET', '/api/v1/event-type/order.placed')).body;
      assert.deepEqual(Object.keys(one.examples).sort(), ['1', '2']);
      for (const version of ['1', '2']) {
        const dry = await h.api('POST', '/api/v1/event-type/order.placed/validate', { payload: one.examples[version], schemaVersion: version });
        assert.deepEqual([dry.body.valid, dry.body.detail], [true, []], `version ${version}`);
      }
      const listed = (await h.api('GET', '/api/v1/event-type?limit=250')).body.data.find((e: { name: string }) => e.name === 'order.placed');
      assert.deepEqual(listed.examples, one.examples);
      const withoutContent = (await h.api('GET', '/api/v1/event-type?limit=250&with_content=false')).body.data.find((e: { name: string }) => e.name === 'order.placed');
      assert.equal(withoutContent.examples, null);
    });

    it("sends the newest version's made-up example from send-example, which publishing accepts as valid", async () => {
      const endpoint = (await h.svix.endpoint.list(app)).data[0]!.id;
      const sent = await h.svix.endpoint.sendExample(app, endpoint, { eventType: 'order.placed' });
      const arrived = await waitFor('the example', () => receiver.requests.find((r) => r.headers['webhook-id'] === sent.id));
      const payload = JSON.parse(arrived.body.toString('utf8'));
      assert.deepEqual(payload, (await h.api('GET', '/api/v1/event-type/order.placed')).body.examples['2']);
      const published = await publish('order.placed', payload);
      assert.deepEqual([published.status, published.body.schemaViolations], [202, undefined]);
    });

    it("holds send-example to the schema too: an example that breaks it is recorded under warn and refused under enforce", async () => {
      const endpoint = (await h.svix.endpoint.list(app)).data[0]!.id;
      // The schema's own example is sent as written, and this one breaks its schema.
      const schema = { type: 'object', properties: { amount: { type: 'integer' } }, required: ['amount'], examples: [{ amount: 'ten' }] };
      await h.svix.eventType.create({ name: 'refund.made', description: 'A refund', schemas: { 1: schema } });
      const sent = await h.api('POST', `/api/v1/app/${app}/endpoint/${endpoint}/send-example`, { eventType: 'refund.made' });
      assert.equal(sent.status, 202);
      assert.deepEqual(breaks(sent.body.schemaViolations, ['payload']), [[['amount'], 'type']]);
      await waitFor('the example, sent all the same', () => receiver.requests.find((r) => r.headers['webhook-id'] === sent.body.id));

      await h.api('PATCH', '/api/v1/event-type/refund.made', { schemaValidation: 'enforce' });
      const refused = await h.api('POST', `/api/v1/app/${app}/endpoint/${endpoint}/send-example`, { eventType: 'refund.made' });
      assert.equal(refused.status, 422);
      assert.deepEqual(breaks(refused.body.detail, ['example']), [[['amount'], 'type']]);
    });
  });

  describe('dry run', () => {
    it('answers what publishing would find, without publishing', async () => {
      const before = (await h.svix.message.list(app, { eventTypes: ['order.placed'] })).data.length;
      const invalid = await h.api('POST', '/api/v1/event-type/order.placed/validate', { payload: INVALID_V2 });
      assert.equal(invalid.status, 200);
      assert.equal(invalid.body.valid, false);
      assert.equal(invalid.body.checked, true);
      assert.equal(invalid.body.schemaVersion, '2');
      assert.equal(invalid.body.schemaValidation, 'warn');
      assert.deepEqual(breaks(invalid.body.detail, ['body', 'payload']), sorted(INVALID_V2_BREAKS));
      const valid = await h.api('POST', '/api/v1/event-type/order.placed/validate', { payload: { orderId: 'x' }, schemaVersion: '1' });
      assert.deepEqual([valid.body.valid, valid.body.schemaVersion, valid.body.detail], [true, '1', []]);
      assert.equal((await h.svix.message.list(app, { eventTypes: ['order.placed'] })).data.length, before);
    });

    it('checks even when publishing would not, and says so', async () => {
      await h.svix.eventType.create({ name: 'order.dry-off', description: 'd', schemas: { 1: ORDER_V1 } });
      await h.api('PATCH', '/api/v1/event-type/order.dry-off', { schemaValidation: 'off' });
      const answer = await h.api('POST', '/api/v1/event-type/order.dry-off/validate', { payload: {} });
      assert.deepEqual([answer.body.valid, answer.body.schemaValidation], [false, 'off']);
    });

    it("is for admins only, as publishing is: an application's token may read the catalogue but not run payloads through its patterns", async () => {
      const portal = await h.api('POST', `/api/v1/auth/app-portal-access/${app}`, {});
      const token = new URL(portal.body.url).hash.match(/token=([^&]+)/)![1]!;
      const asApp = (method: string, path: string, body?: object) => fetch(h.url + path, {
        method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
      });
      assert.equal((await asApp('GET', '/api/v1/event-type/order.placed')).status, 200);
      assert.equal((await asApp('POST', '/api/v1/event-type/order.placed/validate', { payload: {} })).status, 403);
    });

    it('answers 404 for an unknown event type, unchecked for one without schemas, 422 for an unknown version', async () => {
      assert.equal((await h.api('POST', '/api/v1/event-type/no.such/validate', { payload: {} })).status, 404);
      await h.svix.eventType.create({ name: 'order.dry-bare', description: 'd' });
      const bare = await h.api('POST', '/api/v1/event-type/order.dry-bare/validate', { payload: {} });
      assert.deepEqual([bare.body.valid, bare.body.checked, bare.body.schemaVersion], [true, false, null]);
      const version = await h.api('POST', '/api/v1/event-type/order.placed/validate', { payload: {}, schemaVersion: '3' });
      assert.equal(version.status, 422);
    });
  });
}));

await forEachStore((store) => describe(`HERALD_SCHEMA_VALIDATION (${store})`, () => {
  const failures = trackFailures();
  const heralds: TestHerald[] = [];
  after(async () => Promise.all(heralds.map((h) => h.close(failures.any()))));

  async function publishInvalid(mode: string, override?: string) {
    const h = await startTestHerald({ store, env: { HERALD_SCHEMA_VALIDATION: mode } });
    heralds.push(h);
    await h.svix.eventType.create({ name: 'order.placed', description: 'd', schemas: { 1: ORDER_V2 } });
    if (override) await h.api('PATCH', '/api/v1/event-type/order.placed', { schemaValidation: override });
    const app = (await h.svix.application.create({ name: 'a' })).id;
    return h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'order.placed', payload: INVALID_V2 });
  }

  it('enforce refuses, off accepts without a record, and an event type overrides either', async () => {
    const enforced = await publishInvalid('enforce');
    assert.equal(enforced.status, 422);
    assert.deepEqual(breaks(enforced.body.detail, ['body', 'payload']), sorted(INVALID_V2_BREAKS));
    const off = await publishInvalid('off');
    assert.deepEqual([off.status, off.body.schemaViolations], [202, undefined]);
    const warnedUnderEnforce = await publishInvalid('enforce', 'warn');
    assert.equal(warnedUnderEnforce.status, 202);
    assert.equal(warnedUnderEnforce.body.schemaViolations.length, INVALID_V2_BREAKS.length);
    assert.equal((await publishInvalid('off', 'enforce')).status, 422);
  });
}));
