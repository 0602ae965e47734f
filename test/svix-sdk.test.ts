import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageStatus } from 'svix';
import type { Receiver } from './support/receiver.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

await forEachStore((store) => describe(`the official svix SDK against Herald (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  it('creates an application, an endpoint and a message that arrives signed, with its attempt recorded', async () => {
    const app = await h.svix.application.create({ name: 'Acme', uid: 'acme' });
    assert.match(app.id, /^app_/);
    const endpoint = await h.svix.endpoint.create('acme', { url: `${receiver.url}/hook`, description: 'main' });
    assert.match(endpoint.id, /^ep_/);
    receiver.secret = (await h.svix.endpoint.getSecret('acme', endpoint.id)).key;
    assert.match(receiver.secret, /^whsec_/);

    const message = await h.svix.message.create('acme', { eventType: 'invoice.paid', payload: { invoice: 42, note: 'héllo' } }, { withContent: true });
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.payload, { invoice: 42, note: 'héllo' });

    const request = await waitFor('the delivery', () => receiver.requests.find((r) => r.headers['webhook-id'] === message.id));
    assert.equal(request.verified, true);
    assert.equal(request.path, '/hook');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.match(String(request.headers['user-agent']), /^Herald\//);
    assert.equal(request.headers['svix-id'], message.id);
    assert.equal(request.headers['svix-signature'], request.headers['webhook-signature']);
    assert.deepEqual(JSON.parse(request.body.toString()), { invoice: 42, note: 'héllo' });

    const attempts = await waitFor('the recorded attempt', async () => {
      const list = await h.svix.messageAttempt.listByMsg('acme', message.id, { withContent: true });
      return list.data.length ? list : null;
    });
    const [attempt] = attempts.data;
    assert.equal(attempt!.status, MessageStatus.Success);
    assert.equal(attempt!.responseStatusCode, 200);
    assert.equal(attempt!.response, 'ok');
    assert.equal(attempt!.endpointId, endpoint.id);
    assert.equal(attempt!.url, `${receiver.url}/hook`);
    assert.ok(attempt!.timestamp instanceof Date);

    const fetched = await h.svix.messageAttempt.get('acme', message.id, attempt!.id);
    assert.equal(fetched.id, attempt!.id);
    const destinations = await h.svix.messageAttempt.listAttemptedDestinations('acme', message.id);
    assert.deepEqual(destinations.data.map((d) => [d.id, d.status]), [[endpoint.id, MessageStatus.Success]]);
    const attempted = await h.svix.messageAttempt.listAttemptedMessages('acme', endpoint.id);
    assert.ok(attempted.data.some((m) => m.id === message.id && m.status === MessageStatus.Success));
    const stats = await h.svix.endpoint.getStats('acme', endpoint.id);
    assert.equal(stats.success, 1);
  });

  it('finds applications, endpoints and messages by uid and eventId as well as by id', async () => {
    const app = await h.svix.application.getOrCreate({ name: 'Beta', uid: 'beta' });
    const again = await h.svix.application.getOrCreate({ name: 'Beta again', uid: 'beta' });
    assert.equal(again.id, app.id);
    assert.equal((await h.svix.application.get('beta')).id, app.id);
    const endpoint = await h.svix.endpoint.create('beta', { url: receiver.url, uid: 'primary' });
    assert.equal((await h.svix.endpoint.get('beta', 'primary')).id, endpoint.id);
    const message = await h.svix.message.create('beta', { eventType: 'user.created', eventId: 'evt-1', payload: {} });
    assert.equal((await h.svix.message.get('beta', 'evt-1')).id, message.id);
  });

  it('updates, patches and deletes applications and endpoints', async () => {
    const app = await h.svix.application.create({ name: 'Gamma' });
    const patched = await h.svix.application.patch(app.id, { metadata: { tier: 'gold' } });
    assert.equal(patched.name, 'Gamma');
    assert.deepEqual(patched.metadata, { tier: 'gold' });
    const replaced = await h.svix.application.upsert(app.id, { name: 'Gamma 2' });
    assert.equal(replaced.name, 'Gamma 2');
    assert.deepEqual(replaced.metadata, {});

    await h.svix.eventType.create({ name: 'a.b', description: 'endpoints may filter only on event types that exist' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: receiver.url, eventTypes: ['a.b'] });
    const updated = await h.svix.endpoint.patch(app.id, endpoint.id, { disabled: true, channels: ['eu'] });
    assert.equal(updated.disabled, true);
    assert.deepEqual(updated.channels, ['eu']);
    assert.deepEqual(updated.eventTypes, ['a.b']);
    const put = await h.svix.endpoint.upsert(app.id, endpoint.id, { url: `${receiver.url}/v2` });
    assert.equal(put.url, `${receiver.url}/v2`);
    assert.equal(put.eventTypes, null);

    await h.svix.endpoint.delete(app.id, endpoint.id);
    await assert.rejects(h.svix.endpoint.get(app.id, endpoint.id), { code: 404 });
    await h.svix.application.delete(app.id);
    await assert.rejects(h.svix.application.get(app.id), { code: 404 });
  });

  it('creates, lists, archives and expunges event types', async () => {
    await h.svix.eventType.create({ name: 'order.created', description: 'An order was placed' });
    await assert.rejects(h.svix.eventType.create({ name: 'order.created', description: 'again' }), { code: 409 });
    const patched = await h.svix.eventType.patch('order.created', { deprecated: true });
    assert.equal(patched.deprecated, true);
    assert.equal(patched.description, 'An order was placed');
    await h.svix.eventType.delete('order.created');
    assert.equal((await h.svix.eventType.get('order.created')).archived, true);
    assert.ok(!(await h.svix.eventType.list()).data.some((e) => e.name === 'order.created'));
    assert.ok((await h.svix.eventType.list({ includeArchived: true })).data.some((e) => e.name === 'order.created'));
    await h.svix.eventType.delete('order.created', { expunge: true });
    await assert.rejects(h.svix.eventType.get('order.created'), { code: 404 });
  });

  it('pages through lists with limit and iterator', async () => {
    const app = await h.svix.application.create({ name: 'Pager' });
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await h.svix.message.create(app.id, { eventType: 'page.test', payload: { i } })).id);
    const seen: string[] = [];
    let iterator: string | null = null;
    for (;;) {
      const page = await h.svix.message.list(app.id, { limit: 3, iterator });
      seen.push(...page.data.map((m) => m.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.deepEqual(seen, [...sent].reverse(), 'messages are listed newest first, each exactly once');
  });

  it('answers 409 for a repeated eventId and replays the first response for a repeated idempotency key', async () => {
    const app = await h.svix.application.create({ name: 'Idem' });
    await h.svix.message.create(app.id, { eventType: 'x.y', eventId: 'once', payload: {} });
    await assert.rejects(h.svix.message.create(app.id, { eventType: 'x.y', eventId: 'once', payload: {} }), { code: 409 });
    const first = await h.svix.message.create(app.id, { eventType: 'x.y', payload: { n: 1 } }, { idempotencyKey: 'key-1', withContent: true });
    const second = await h.svix.message.create(app.id, { eventType: 'x.y', payload: { n: 2 } }, { idempotencyKey: 'key-1', withContent: true });
    assert.equal(second.id, first.id);
    assert.deepEqual(second.payload, { n: 1 });
    assert.equal((await h.svix.message.list(app.id)).data.length, 2);
  });

  it('rejects a request without a valid token with 401', async () => {
    const response = await fetch(`${h.url}/api/v1/app`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(response.status, 401);
    assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['code', 'detail']);
    assert.equal((await fetch(`${h.url}/api/v1/health`)).status, 204);
  });
}));
