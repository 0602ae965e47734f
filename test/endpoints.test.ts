import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageStatus } from 'svix';
import { MAX_ENDPOINTS_PER_APPLICATION } from '../src/core/limits.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * What an endpoint's life looks like from outside: its filters are checked against the event
 * types that exist, PATCH clears with null, the number of endpoints is bounded, and a deleted
 * endpoint (or application, or expunged event type) is gone from every route at once while the
 * messages it was attempted for still name it.
 */
await forEachStore((store) => describe(`endpoints through the API (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;
  let appSeq = 0;

  before(async () => {
    h = await startTestHerald({ store });
    receiver = await startReceiver();
    for (const name of ['et.live', 'et.other', 'et.archived']) {
      assert.equal((await h.api('POST', '/api/v1/event-type', { name, description: name })).status, 201);
    }
    assert.equal((await h.api('DELETE', '/api/v1/event-type/et.archived')).status, 204);
  });
  after(async () => {
    await h.close(failures.any());
    await receiver.close();
  });

  const newApp = async () => (await h.api('POST', '/api/v1/app', { name: 'endpoints', uid: `endpoints-${store}-${++appSeq}` })).body.uid as string;
  const expectInvalid = (answer: { status: number; body: any }, locs: string[][]) => {
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'validation');
    assert.deepEqual(answer.body.detail.map((item: { loc: string[] }) => item.loc), locs, JSON.stringify(answer.body));
  };

  describe('event-type filters', () => {
    it('refuses eventTypes naming an event type that does not exist or is archived, at the list item, on create, PUT and PATCH', async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const url = `${receiver.url}/filters`;
      const primary = await h.api('POST', base, { url, uid: 'primary', eventTypes: ['et.live'] });
      assert.equal(primary.status, 201, JSON.stringify(primary.body));

      expectInvalid(await h.api('POST', base, { url, eventTypes: ['et.live', 'et.missing'] }), [['body', 'eventTypes', '1']]);
      expectInvalid(await h.api('POST', base, { url, filterTypes: ['et.archived'] }), [['body', 'filterTypes', '0']]);
      expectInvalid(await h.api('POST', base, { url, eventTypes: ['a.missing', 'et.live', 'et.archived'] }), [['body', 'eventTypes', '0'], ['body', 'eventTypes', '2']]);
      expectInvalid(await h.api('PUT', `${base}/primary`, { url, eventTypes: ['et.missing'] }), [['body', 'eventTypes', '0']]);
      expectInvalid(await h.api('PUT', `${base}/primary`, { url, filterTypes: ['et.live', 'et.archived'] }), [['body', 'filterTypes', '1']]);
      expectInvalid(await h.api('PUT', `${base}/not-there-yet`, { url, eventTypes: ['et.missing'] }), [['body', 'eventTypes', '0']]);
      expectInvalid(await h.api('PATCH', `${base}/primary`, { eventTypes: ['et.live', 'et.archived'] }), [['body', 'eventTypes', '1']]);
      expectInvalid(await h.api('PATCH', `${base}/primary`, { filterTypes: ['et.missing'] }), [['body', 'filterTypes', '0']]);

      const list = await h.api('GET', base);
      assert.deepEqual(list.body.data.map((e: { uid: string; eventTypes: string[] }) => [e.uid, e.eventTypes]), [['primary', ['et.live']]], 'nothing was written');
      const fine = await h.api('PATCH', `${base}/primary`, { filterTypes: ['et.live', 'et.other'] });
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
      assert.deepEqual(fine.body.eventTypes, ['et.live', 'et.other']);
    });

    it('refuses an empty eventTypes, filterTypes or channels list on create, PUT and PATCH', async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const url = `${receiver.url}/empty`;
      assert.equal((await h.api('POST', base, { url, uid: 'primary' })).status, 201);
      for (const field of ['eventTypes', 'filterTypes', 'channels']) {
        expectInvalid(await h.api('POST', base, { url, [field]: [] }), [['body', field]]);
        expectInvalid(await h.api('PUT', `${base}/primary`, { url, [field]: [] }), [['body', field]]);
        expectInvalid(await h.api('PATCH', `${base}/primary`, { [field]: [] }), [['body', field]]);
      }
    });

    it('checks every event type an endpoint names with one query, however many it names', async () => {
      const names = Array.from({ length: 20 }, (_, i) => `et.many.${i}`);
      for (const name of names) assert.equal((await h.api('POST', '/api/v1/event-type', { name, description: 'd' })).status, 201);
      const app = await newApp();
      const eventTypes = h.herald.store.eventTypes;
      const calls: string[] = [];
      const counted = Object.fromEntries(Object.entries(eventTypes).map(([method, fn]) =>
        [method, (...args: unknown[]) => (calls.push(method), (fn as (...a: unknown[]) => unknown).apply(eventTypes, args))]));
      const originals = { ...eventTypes };
      Object.assign(eventTypes, counted);
      try {
        const created = await h.api('POST', `/api/v1/app/${app}/endpoint`, { url: `${receiver.url}/many`, eventTypes: names });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(calls.length, 1, `event-type reads for one create: ${calls.join(', ')}`);
        calls.length = 0;
        const refused = await h.api('PATCH', `/api/v1/app/${app}/endpoint/${created.body.id}`, { eventTypes: [...names.slice(1), 'et.gone.1', 'et.gone.2'] });
        assert.equal(refused.status, 422);
        assert.equal(calls.length, 1, `event-type reads for one patch: ${calls.join(', ')}`);
      } finally {
        Object.assign(eventTypes, originals);
      }
    });

    it('keeps an endpoint\'s filter on an event type archived after it was set, and still delivers that type to it', async () => {
      assert.equal((await h.api('POST', '/api/v1/event-type', { name: 'et.soon.archived', description: 'd' })).status, 201);
      const target = await startReceiver();
      try {
        const app = await newApp();
        const base = `/api/v1/app/${app}/endpoint`;
        const created = await h.api('POST', base, { url: target.url, uid: 'keeper', eventTypes: ['et.soon.archived', 'et.live'] });
        assert.equal(created.status, 201);
        assert.equal((await h.api('DELETE', '/api/v1/event-type/et.soon.archived')).status, 204);

        const patched = await h.api('PATCH', `${base}/keeper`, { description: 'still listens' });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.deepEqual(patched.body.eventTypes, ['et.soon.archived', 'et.live']);
        const put = await h.api('PUT', `${base}/keeper`, { url: target.url, uid: 'keeper', eventTypes: ['et.soon.archived', 'et.live'] });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        assert.deepEqual(put.body.eventTypes, ['et.soon.archived', 'et.live']);
        expectInvalid(await h.api('PUT', `${base}/other`, { url: target.url, eventTypes: ['et.soon.archived'] }), [['body', 'eventTypes', '0']]);

        const message = await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'et.soon.archived', payload: { n: 1 } });
        assert.equal(message.status, 202);
        const request = await waitFor('the delivery of the archived type', () => target.requests[0]);
        assert.equal(request.headers['webhook-id'], message.body.id);
      } finally {
        await target.close();
      }
    });
  });

  describe('PATCH', () => {
    it('clears every nullable field when sent null, and leaves the fields it does not send as they were', async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const full = { url: `${receiver.url}/patch`, uid: 'patched', description: 'described', eventTypes: ['et.live'], channels: ['eu'], throttleRate: 5, metadata: { k: 'v' } };
      const created = await h.api('POST', base, full);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      const fields = (body: any) => ({ uid: body.uid, description: body.description, eventTypes: body.eventTypes, filterTypes: body.filterTypes, channels: body.channels, throttleRate: body.throttleRate, metadata: body.metadata, url: body.url, disabled: body.disabled });
      const before = fields(created.body);

      const nothing = await h.api('PATCH', `${base}/${id}`, {});
      assert.deepEqual(fields(nothing.body), before, 'an empty patch changes nothing');
      const one = await h.api('PATCH', `${base}/${id}`, { disabled: true });
      assert.deepEqual(fields(one.body), { ...before, disabled: true }, 'a patch of one field leaves the others');

      const cleared = await h.api('PATCH', `${base}/${id}`, { eventTypes: null, channels: null, uid: null, throttleRate: null, description: null, metadata: null });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      assert.deepEqual(fields(cleared.body), {
        uid: null, description: '', eventTypes: null, filterTypes: null, channels: null, throttleRate: null, metadata: {}, url: full.url, disabled: true,
      });
      assert.deepEqual(fields((await h.api('GET', `${base}/${id}`)).body), fields(cleared.body), 'as stored');

      await h.api('PATCH', `${base}/${id}`, { eventTypes: ['et.live'] });
      const byAlias = await h.api('PATCH', `${base}/${id}`, { filterTypes: null });
      assert.equal(byAlias.body.eventTypes, null, 'filterTypes: null clears the filter too');
    });

    it('ignores fields its body does not declare, as Svix does, so a PATCH cannot set headers, secrets or times past their checks', async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const created = (await h.api('POST', base, { url: `${receiver.url}/undeclared`, headers: { 'x-tenant': 'a' } })).body;
      const secret = (await h.api('GET', `${base}/${created.id}/secret`)).body.key;
      for (const body of [
        { headers: { 'svix-id': 'forged', Upgrade: 'websocket', 'webhook-signature': 'v1,forged' }, description: 'kept' },
        { headers: null, secrets: [{ key: 'not-a-secret', expiresAt: null }], createdAt: 0, disabledReason: 'manual', appId: 'app_other' },
      ]) {
        const patched = await h.api('PATCH', `${base}/${created.id}`, body);
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
      }
      const stored = (await h.api('GET', `${base}/${created.id}`)).body;
      assert.deepEqual([stored.description, stored.createdAt, stored.disabledReason ?? null], ['kept', created.createdAt, null]);
      assert.deepEqual((await h.api('GET', `${base}/${created.id}/headers`)).body.headers, { 'x-tenant': 'a' });
      assert.equal((await h.api('GET', `${base}/${created.id}/secret`)).body.key, secret);
      // And it still delivers, signed with the secret it had.
      const sent = await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'et.live', payload: {} });
      const arrived = await waitFor('the delivery', () => receiver.requests.find((r) => r.headers['webhook-id'] === sent.body.id));
      assert.equal(arrived.headers['x-tenant'], 'a');
      assert.equal(arrived.headers.upgrade, undefined);
    });

    it('clears with null and keeps unset fields through the svix SDK', async () => {
      const app = await newApp();
      const endpoint = await h.svix.endpoint.create(app, { url: `${receiver.url}/sdk`, uid: 'sdk-patched', eventTypes: ['et.live'], channels: ['eu'], throttleRate: 3 });
      const kept = await h.svix.endpoint.patch(app, endpoint.id, { description: 'new words' });
      assert.deepEqual([kept.description, kept.eventTypes, kept.channels, kept.throttleRate, kept.uid], ['new words', ['et.live'], ['eu'], 3, 'sdk-patched']);
      const cleared = await h.svix.endpoint.patch(app, endpoint.id, { eventTypes: null, channels: null, throttleRate: null, uid: null });
      assert.deepEqual([cleared.description, cleared.eventTypes, cleared.channels, cleared.throttleRate, cleared.uid], ['new words', null, null, null, null]);
      const stored = await h.api('GET', `/api/v1/app/${app}/endpoint/${endpoint.id}`);
      assert.deepEqual([stored.body.eventTypes, stored.body.channels, stored.body.throttleRate, stored.body.uid], [null, null, null, null]);
    });
  });

  describe('deleted is gone', () => {
    it('answers 404 on every route of a deleted endpoint right after the delete, and frees its uid', async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const created = await h.api('POST', base, { url: `${receiver.url}/gone`, uid: 'doomed', headers: { 'x-a': 'b' } });
      assert.equal(created.status, 201);
      const id = created.body.id;
      const message = await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'et.live', payload: {} });
      assert.equal(message.status, 202);
      // Read through every route once, so whatever is cached is cached.
      for (const path of [`${base}/${id}`, `${base}/doomed`, `${base}/${id}/headers`, `${base}/${id}/stats`, `${base}/${id}/secret`]) {
        assert.equal((await h.api('GET', path)).status, 200, path);
      }
      assert.equal((await h.api('DELETE', `${base}/doomed`)).status, 204);

      const routes: Array<[string, string, unknown?]> = [];
      for (const ref of [id, 'doomed']) {
        routes.push(
          ['GET', `${base}/${ref}`],
          ['PATCH', `${base}/${ref}`, { description: 'back?' }],
          ['DELETE', `${base}/${ref}`],
          ['GET', `${base}/${ref}/secret`],
          ['POST', `${base}/${ref}/secret/rotate`, {}],
          ['GET', `${base}/${ref}/headers`],
          ['PUT', `${base}/${ref}/headers`, { headers: { 'x-a': 'c' } }],
          ['PATCH', `${base}/${ref}/headers`, { headers: { 'x-a': 'c' } }],
          ['GET', `${base}/${ref}/stats`],
          ['POST', `${base}/${ref}/recover`, { since: '2024-01-01T00:00:00Z' }],
          ['POST', `${base}/${ref}/send-example`, { eventType: 'et.live' }],
          ['POST', `/api/v1/app/${app}/msg/${message.body.id}/endpoint/${ref}/resend`],
          ['GET', `/api/v1/app/${app}/attempt/endpoint/${ref}`],
          ['GET', `/api/v1/app/${app}/endpoint/${ref}/msg`],
        );
      }
      routes.push(['PUT', `${base}/${id}`, { url: `${receiver.url}/back` }]);
      for (const [method, path, body] of routes) {
        const answer = await h.api(method, path, body);
        assert.equal(answer.status, 404, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.code, 'not_found');
      }
      assert.deepEqual((await h.api('GET', base)).body.data, [], 'the list leaves it out');

      const reused = await h.api('POST', base, { url: `${receiver.url}/again`, uid: 'doomed' });
      assert.equal(reused.status, 201, `the uid is free again: ${JSON.stringify(reused.body)}`);
      assert.notEqual(reused.body.id, id);
      const upserted = await h.api('PUT', `${base}/doomed`, { url: `${receiver.url}/again2` });
      assert.equal(upserted.status, 200);
      assert.equal(upserted.body.id, reused.body.id);
    });

    it('stops sending to a deleted endpoint, and still lists it among the message\'s destinations and attempts', async () => {
      // Both fail every attempt, the first after a second: the delete lands while it is in flight.
      const failing = (_request: unknown, index: number) => ({ status: 500, body: 'no', delayMs: index === 0 ? 1_000 : 0 });
      const doomed = await startReceiver(failing);
      const witness = await startReceiver(failing);
      try {
        const app = await newApp();
        const base = `/api/v1/app/${app}/endpoint`;
        const gone = (await h.api('POST', base, { url: doomed.url, uid: 'doomed', description: 'about to go' })).body;
        const kept = (await h.api('POST', base, { url: witness.url })).body;
        const message = (await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'et.live', payload: { n: 1 } })).body;
        await waitFor('the first attempts', () => doomed.requests.length >= 1 && witness.requests.length >= 1);
        assert.equal((await h.api('DELETE', `${base}/${gone.id}`)).status, 204);
        // The retry schedule is 100 ms then 200 ms after each failure: by the witness's third and
        // last attempt, the deleted endpoint's retries would have been due too.
        await waitFor('the witness\'s last attempt', async () => {
          const destinations = await h.svix.messageAttempt.listAttemptedDestinations(app, message.id);
          return witness.requests.length === 3 && destinations.data.find((d) => d.id === kept.id)?.status === MessageStatus.Fail;
        });
        assert.equal(doomed.requests.length, 1, 'no request reached the endpoint after its delete');

        const destinations = await h.svix.messageAttempt.listAttemptedDestinations(app, message.id);
        assert.deepEqual(destinations.data.map((d) => d.id).sort(), [gone.id, kept.id].sort());
        const listed = destinations.data.find((d) => d.id === gone.id)!;
        assert.equal(listed.status, MessageStatus.Fail, 'its unfinished delivery ended with the delete');
        assert.equal(listed.url, doomed.url);
        assert.equal(listed.description, 'about to go');
        const attempts = await h.svix.messageAttempt.listByMsg(app, message.id);
        assert.ok(attempts.data.some((a) => a.endpointId === gone.id), 'its attempt is still in the message\'s history');
        const raw = await h.api('GET', `/api/v1/app/${app}/attempt/msg/${message.id}?endpoint_id=${gone.id}`);
        assert.equal(raw.body.data.length, 1);
      } finally {
        await doomed.close();
        await witness.close();
      }
    });

    it('answers 404 on every route of a deleted application right after the delete', async () => {
      const app = await newApp();
      const appId = (await h.api('GET', `/api/v1/app/${app}`)).body.id;
      const endpoint = (await h.api('POST', `/api/v1/app/${app}/endpoint`, { url: `${receiver.url}/app-gone` })).body;
      const message = (await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'et.live', payload: {} })).body;
      assert.equal((await h.api('GET', `/api/v1/app/${appId}`)).status, 200);
      assert.equal((await h.api('DELETE', `/api/v1/app/${app}`)).status, 204);
      for (const ref of [appId, app]) {
        for (const [method, path, body] of [
          ['GET', `/api/v1/app/${ref}`],
          ['PATCH', `/api/v1/app/${ref}`, { name: 'back?' }],
          ['DELETE', `/api/v1/app/${ref}`],
          ['GET', `/api/v1/app/${ref}/endpoint`],
          ['POST', `/api/v1/app/${ref}/endpoint`, { url: `${receiver.url}/x` }],
          ['GET', `/api/v1/app/${ref}/endpoint/${endpoint.id}`],
          ['GET', `/api/v1/app/${ref}/msg`],
          ['POST', `/api/v1/app/${ref}/msg`, { eventType: 'et.live', payload: {} }],
          ['GET', `/api/v1/app/${ref}/msg/${message.id}`],
          ['GET', `/api/v1/app/${ref}/msg/${message.id}/endpoint`],
          ['GET', `/api/v1/app/${ref}/attempt/msg/${message.id}`],
        ] as Array<[string, string, unknown?]>) {
          const answer = await h.api(method, path, body);
          assert.equal(answer.status, 404, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
      const put = await h.api('PUT', `/api/v1/app/${appId}`, { name: 'back?' });
      assert.equal(put.status, 404, `PUT onto the deleted application's id: ${JSON.stringify(put.body)}`);
    });

    it('answers 404 for an expunged event type', async () => {
      assert.equal((await h.api('POST', '/api/v1/event-type', { name: 'et.expunged', description: 'd' })).status, 201);
      assert.equal((await h.api('GET', '/api/v1/event-type/et.expunged')).status, 200);
      assert.equal((await h.api('DELETE', '/api/v1/event-type/et.expunged?expunge=true')).status, 204);
      for (const [method, path, body] of [
        ['GET', '/api/v1/event-type/et.expunged'],
        ['PATCH', '/api/v1/event-type/et.expunged', { description: 'back?' }],
        ['DELETE', '/api/v1/event-type/et.expunged'],
        ['DELETE', '/api/v1/event-type/et.expunged?expunge=true'],
      ] as Array<[string, string, unknown?]>) {
        assert.equal((await h.api(method, path, body)).status, 404, `${method} ${path}`);
      }
      const app = await newApp();
      expectInvalid(await h.api('POST', `/api/v1/app/${app}/endpoint`, { url: receiver.url, eventTypes: ['et.expunged'] }), [['body', 'eventTypes', '0']]);
    });
  });

  describe('limits', () => {
    it(`refuses an application's endpoint past the ${MAX_ENDPOINTS_PER_APPLICATION}th with 422 saying so, and takes one again after a delete`, async () => {
      const app = await newApp();
      const base = `/api/v1/app/${app}/endpoint`;
      const ids: string[] = [];
      for (let i = 0; i < MAX_ENDPOINTS_PER_APPLICATION; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, MAX_ENDPOINTS_PER_APPLICATION - i) }, (_, j) =>
          h.api('POST', base, { url: `${receiver.url}/n${i + j}` })));
        for (const answer of batch) {
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          ids.push(answer.body.id);
        }
      }
      const refused = await h.api('POST', base, { url: `${receiver.url}/one-too-many` });
      expectInvalid(refused, [['path', 'appId']]);
      assert.match(refused.body.detail[0].msg, new RegExp(`${MAX_ENDPOINTS_PER_APPLICATION} endpoints`));
      const upsert = await h.api('PUT', `${base}/one-too-many`, { url: `${receiver.url}/one-too-many` });
      expectInvalid(upsert, [['path', 'appId']]);
      assert.equal((await h.api('DELETE', `${base}/${ids[0]}`)).status, 204);
      assert.equal((await h.api('POST', base, { url: `${receiver.url}/after-a-delete` })).status, 201);
    });
  });
}));
