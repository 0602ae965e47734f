/**
 * Every method of the official `svix` SDK's Application, Authentication, Endpoint, EventType,
 * Message, MessageAttempt and Ingest (source and endpoint) classes that Herald serves, called at
 * least once through the SDK itself, with its answer checked. The SDK is the contract: a method
 * that throws here is a method a Herald user cannot call.
 *
 * Not served yet (the SDK's methods in node_modules/svix/dist that have no route in Herald):
 * - Authentication: streamPortalAccess, streamLogout, streamExpireAll,
 *   rotateStreamPollerToken, getStreamPollerToken
 * - Endpoint: replayMissing, bulkReplay (transformationPartialUpdate, transformation.get and
 *   transformation.patch are called in test/transformations.test.ts)
 * - EventType: none (importOpenapi is called in test/event-type-openapi.test.ts)
 * - Message: precheck, bulkExpungeContent, expungeAllContents (poller.poll, poller.consumerPoll and
 *   poller.consumerSeek are called in test/polling.test.ts)
 * - Ingest: authentication.consumerPortalAccess (endpoint.transformation.get and .patch are
 *   called in test/transformations.test.ts)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageStatus, Ordering, Svix } from 'svix';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const SECRET = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;

await forEachStore((store) => describe(`every served method of the svix SDK (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  it('Application: create, getOrCreate, get, list, upsert, patch and delete', async () => {
    const created = await h.svix.application.create({ name: 'Coverage', uid: 'cov-app', metadata: { plan: 'pro' } });
    assert.match(created.id, /^app_/);
    assert.equal(created.uid, 'cov-app');
    assert.deepEqual(created.metadata, { plan: 'pro' });
    assert.ok(created.createdAt instanceof Date);

    const same = await h.svix.application.getOrCreate({ name: 'Ignored', uid: 'cov-app' });
    assert.equal(same.id, created.id);
    assert.equal(same.name, 'Coverage');
    const fresh = await h.svix.application.getOrCreate({ name: 'Fresh', uid: 'cov-fresh' });
    assert.notEqual(fresh.id, created.id);

    assert.equal((await h.svix.application.get('cov-app')).id, created.id);
    assert.equal((await h.svix.application.get(created.id)).uid, 'cov-app');

    const listed = await h.svix.application.list({ limit: 250 });
    const ids = listed.data.map((a) => a.id);
    assert.ok(ids.indexOf(created.id) < ids.indexOf(fresh.id), 'oldest first by default');
    const descending = await h.svix.application.list({ limit: 250, order: Ordering.Descending });
    assert.deepEqual(descending.data.map((a) => a.id), [...ids].reverse());

    const upserted = await h.svix.application.upsert('cov-upserted', { name: 'Upserted', uid: 'cov-upserted' });
    assert.equal(upserted.uid, 'cov-upserted');
    const replaced = await h.svix.application.upsert('cov-upserted', { name: 'Replaced', uid: 'cov-upserted' });
    assert.equal(replaced.id, upserted.id);
    assert.equal(replaced.name, 'Replaced');

    const patched = await h.svix.application.patch('cov-app', { name: 'Patched' });
    assert.equal(patched.name, 'Patched');
    assert.deepEqual(patched.metadata, { plan: 'pro' });

    await h.svix.application.delete('cov-fresh');
    await assert.rejects(h.svix.application.get('cov-fresh'), { code: 404 });
    await h.svix.application.delete(upserted.id);
  });

  it('EventType: create, get, list, upsert, patch, delete and delete with expunge', async () => {
    const created = await h.svix.eventType.create({ name: 'cov.created', description: 'Created', schemas: { 1: { type: 'object' } } });
    assert.equal(created.name, 'cov.created');
    assert.equal(created.archived, false);
    assert.equal((await h.svix.eventType.get('cov.created')).description, 'Created');
    const upserted = await h.svix.eventType.upsert('cov.upserted', { description: 'Upserted' });
    assert.equal(upserted.name, 'cov.upserted');
    assert.equal((await h.svix.eventType.upsert('cov.upserted', { description: 'Again' })).description, 'Again');
    const patched = await h.svix.eventType.patch('cov.created', { deprecated: true });
    assert.equal(patched.deprecated, true);
    assert.equal(patched.description, 'Created');

    const names = (await h.svix.eventType.list({ limit: 250 })).data.map((e) => e.name);
    assert.ok(names.includes('cov.created') && names.includes('cov.upserted'));
    assert.deepEqual(names, [...names].sort(), 'listed by name');

    await h.svix.eventType.delete('cov.upserted');
    assert.equal((await h.svix.eventType.get('cov.upserted')).archived, true);
    await h.svix.eventType.delete('cov.upserted', { expunge: true });
    await assert.rejects(h.svix.eventType.get('cov.upserted'), { code: 404 });
  });

  it('Endpoint: create, get, list, upsert, patch, secrets, headers, stats, recover, send-example and delete', async () => {
    const app = await h.svix.application.create({ name: 'Endpoints', uid: 'cov-endpoints' });
    await h.svix.eventType.create({ name: 'cov.only', description: 'An endpoint filters on it' });
    const first = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/first`, uid: 'first', description: 'First', secret: SECRET });
    assert.match(first.id, /^ep_/);
    assert.equal(first.description, 'First');
    const second = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/second`, eventTypes: ['cov.only'] });
    assert.deepEqual(second.eventTypes, ['cov.only']);

    assert.equal((await h.svix.endpoint.get(app.id, 'first')).id, first.id);
    assert.deepEqual((await h.svix.endpoint.list(app.id)).data.map((e) => e.id), [second.id, first.id], 'newest first by default');
    assert.deepEqual((await h.svix.endpoint.list(app.id, { order: Ordering.Ascending })).data.map((e) => e.id), [first.id, second.id]);

    const upserted = await h.svix.endpoint.upsert(app.id, 'third', { url: `${receiver.url}/third` });
    assert.equal(upserted.uid, 'third');
    const replaced = await h.svix.endpoint.upsert(app.id, 'third', { url: `${receiver.url}/third-v2`, uid: 'third' });
    assert.equal(replaced.id, upserted.id);
    assert.equal(replaced.url, `${receiver.url}/third-v2`);
    const patched = await h.svix.endpoint.patch(app.id, second.id, { description: 'Second' });
    assert.equal(patched.description, 'Second');
    assert.deepEqual(patched.eventTypes, ['cov.only']);

    assert.equal((await h.svix.endpoint.getSecret(app.id, first.id)).key, SECRET);
    await h.svix.endpoint.rotateSecret(app.id, first.id);
    const rotated = (await h.svix.endpoint.getSecret(app.id, first.id)).key;
    assert.notEqual(rotated, SECRET);
    assert.match(rotated, /^whsec_/);

    await h.svix.endpoint.setHeaders(app.id, first.id, { headers: { 'x-tenant': 'acme', 'x-kept': 'old' } });
    await h.svix.endpoint.patchHeaders(app.id, first.id, { headers: { 'x-kept': 'new', 'x-extra': 'yes' } });
    const headers = await h.svix.endpoint.getHeaders(app.id, first.id);
    assert.deepEqual(headers.headers, { 'x-tenant': 'acme', 'x-kept': 'new', 'x-extra': 'yes' });
    assert.deepEqual(headers.sensitive, []);

    receiver.secret = rotated;
    const example = await h.svix.endpoint.sendExample(app.id, first.id, { eventType: 'cov.example' });
    assert.match(example.id, /^msg_/);
    assert.equal(example.eventType, 'cov.example');
    const delivered = await waitFor('the example', () => receiver.requests.find((r) => r.headers['webhook-id'] === example.id));
    assert.equal(delivered.path, '/first');
    assert.equal(delivered.headers['x-tenant'], 'acme');
    assert.equal(delivered.verified, true);

    const stats = await waitFor('the example counted as a success', async () => {
      const counted = await h.svix.endpoint.getStats(app.id, first.id);
      return counted.success === 1 ? counted : null;
    });
    assert.deepEqual([stats.pending, stats.sending, stats.fail], [0, 0, 0]);
    const recovered = await h.svix.endpoint.recover(app.id, first.id, { since: new Date(Date.now() - 3_600_000) });
    assert.match(recovered.id, /^qtask_/);
    assert.equal(recovered.task, 'endpoint.recover');

    await h.svix.endpoint.delete(app.id, 'third');
    await assert.rejects(h.svix.endpoint.get(app.id, 'third'), { code: 404 });
  });

  it('Message and MessageAttempt: create, get, list, every attempt listing, get an attempt, resend and expunge content', async () => {
    const app = await h.svix.application.create({ name: 'Messages', uid: 'cov-messages' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/messages`, secret: SECRET });
    receiver.secret = SECRET;
    const message = await h.svix.message.create(app.id, { eventType: 'cov.sent', eventId: 'cov-evt-1', payload: { n: 1 }, channels: ['eu'] }, { withContent: true });
    assert.deepEqual(message.payload, { n: 1 });
    assert.deepEqual(message.channels, ['eu']);
    const other = await h.svix.message.create(app.id, { eventType: 'cov.other', payload: { n: 2 } });
    assert.deepEqual(other.payload, {}, 'the SDK asks for no content unless told');

    const fetched = await h.svix.message.get(app.id, 'cov-evt-1', { withContent: true });
    assert.equal(fetched.id, message.id);
    assert.deepEqual(fetched.payload, { n: 1 });
    assert.deepEqual((await h.svix.message.list(app.id)).data.map((m) => m.id), [other.id, message.id]);
    assert.deepEqual((await h.svix.message.list(app.id, { eventTypes: ['cov.sent'] })).data.map((m) => m.id), [message.id]);

    const attempts = await waitFor('the first attempt', async () => {
      const listed = await h.svix.messageAttempt.listByMsg(app.id, message.id);
      return listed.data.length === 1 ? listed : null;
    });
    const [attempt] = attempts.data;
    assert.equal(attempt!.status, MessageStatus.Success);
    assert.equal(attempt!.endpointId, endpoint.id);
    assert.equal((await h.svix.messageAttempt.get(app.id, message.id, attempt!.id)).id, attempt!.id);
    const byEndpoint = await waitFor('both attempts by endpoint', async () => {
      const listed = await h.svix.messageAttempt.listByEndpoint(app.id, endpoint.id);
      return listed.data.length === 2 ? listed : null;
    });
    assert.deepEqual(new Set(byEndpoint.data.map((a) => a.msgId)), new Set([message.id, other.id]));
    const destinations = await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id);
    assert.deepEqual(destinations.data.map((d) => d.id), [endpoint.id]);
    const attempted = await h.svix.messageAttempt.listAttemptedMessages(app.id, endpoint.id);
    assert.deepEqual(attempted.data.map((m) => m.id), [other.id, message.id]);

    await h.svix.messageAttempt.resend(app.id, message.id, endpoint.id);
    await waitFor('the resent delivery', () => receiver.requests.filter((r) => r.headers['webhook-id'] === message.id).length === 2);
    const after = await waitFor('the manual attempt', async () => {
      const listed = await h.svix.messageAttempt.listByMsg(app.id, message.id);
      return listed.data.length === 2 ? listed : null;
    });
    assert.equal(after.data[0]!.triggerType, 1, 'the newest attempt is the manual one');

    await h.svix.messageAttempt.expungeContent(app.id, message.id, attempt!.id);
    assert.equal((await h.svix.messageAttempt.get(app.id, message.id, attempt!.id)).response, 'EXPUNGED');
    await h.svix.message.expungeContent(app.id, message.id);
    assert.deepEqual((await h.svix.message.get(app.id, message.id, { withContent: true })).payload, { expired: true });
  });

  it('Authentication: appPortalAccess, logout and expireAll', async () => {
    const app = await h.svix.application.create({ name: 'Portal', uid: 'cov-portal' });
    const access = await h.svix.authentication.appPortalAccess(app.id);
    assert.match(access.token, /^appsk_/);
    assert.ok(access.url.includes(access.token));
    const portal = new Svix(access.token, { serverUrl: h.url });
    assert.equal((await portal.application.get(app.id)).id, app.id);

    const created = await h.svix.authentication.appPortalAccess('cov-portal-new', { application: { name: 'New portal', uid: 'cov-portal-new' } });
    assert.match(created.token, /^appsk_/);
    assert.equal((await h.svix.application.get('cov-portal-new')).name, 'New portal');

    const leaving = new Svix((await h.svix.authentication.appPortalAccess(app.id)).token, { serverUrl: h.url });
    await leaving.authentication.logout();
    await assert.rejects(leaving.application.get(app.id), { code: 401 });
    assert.equal((await portal.application.get(app.id)).id, app.id, 'another token of the application still works');

    await h.svix.authentication.expireAll(app.id);
    await assert.rejects(portal.application.get(app.id), { code: 401 });
  });

  it('Ingest: sources (create, get, list, upsert, rotateToken, delete) and their endpoints (create, get, list, upsert, secrets, headers, delete)', async () => {
    const source = await h.svix.ingest.source.create({ name: 'Hooks', uid: 'cov-source', type: 'generic-webhook' });
    assert.match(source.id, /^src_/);
    assert.match(source.ingestUrl ?? '', /\/in\//);
    assert.equal((await h.svix.ingest.source.get('cov-source')).id, source.id);
    assert.ok((await h.svix.ingest.source.list()).data.some((s) => s.id === source.id));
    const upserted = await h.svix.ingest.source.upsert(source.id, { name: 'GitHub', uid: 'cov-source', type: 'github', config: { secret: 'gh-secret' } });
    assert.equal(upserted.name, 'GitHub');
    assert.equal(upserted.type, 'github');
    const rotated = await h.svix.ingest.source.rotateToken(source.id);
    assert.notEqual(rotated.ingestUrl, source.ingestUrl);

    const endpoint = await h.svix.ingest.endpoint.create(source.id, { url: `${receiver.url}/ingest`, uid: 'forward', secret: SECRET });
    assert.match(endpoint.id, /^ep_/);
    assert.equal((await h.svix.ingest.endpoint.get(source.id, 'forward')).id, endpoint.id);
    assert.deepEqual((await h.svix.ingest.endpoint.list(source.id)).data.map((e) => e.id), [endpoint.id]);
    const replaced = await h.svix.ingest.endpoint.upsert(source.id, 'forward', { url: `${receiver.url}/ingest-v2`, uid: 'forward' });
    assert.equal(replaced.url, `${receiver.url}/ingest-v2`);
    assert.equal((await h.svix.ingest.endpoint.getSecret(source.id, endpoint.id)).key, SECRET);
    await h.svix.ingest.endpoint.rotateSecret(source.id, endpoint.id);
    assert.notEqual((await h.svix.ingest.endpoint.getSecret(source.id, endpoint.id)).key, SECRET);
    await h.svix.ingest.endpoint.setHeaders(source.id, endpoint.id, { headers: { 'x-from': 'herald' } });
    assert.deepEqual((await h.svix.ingest.endpoint.getHeaders(source.id, endpoint.id)).headers, { 'x-from': 'herald' });
    await h.svix.ingest.endpoint.delete(source.id, endpoint.id);
    await assert.rejects(h.svix.ingest.endpoint.get(source.id, endpoint.id), { code: 404 });

    await h.svix.ingest.source.delete(source.id);
    await assert.rejects(h.svix.ingest.source.get(source.id), { code: 404 });
  });
}));
