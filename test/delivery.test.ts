import assert from 'node:assert/strict';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MessageAttemptTriggerType, MessageStatus } from 'svix';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { settled as deliveriesSettled, waitFor } from './support/wait.ts';

await forEachStore((store) => describe(`delivery (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };

  before(async () => {
    h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '100ms,200ms', HERALD_REQUEST_TIMEOUT: '1500ms' } });
  });
  after(async () => {
    await h.close(failures.any());
    await Promise.all(receivers.map((r) => r.close()));
  });

  /** A fresh application with one endpoint at `url`, and the endpoint's secret given to `target`. */
  async function endpointFor(target: Receiver, path = '/hook', extra: object = {}) {
    const app = await h.svix.application.create({ name: 'delivery test' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${target.url}${path}`, ...extra });
    target.secret = (await h.svix.endpoint.getSecret(app.id, endpoint.id)).key;
    return { app, endpoint };
  }

  /** Endpoints may filter only on event types that exist. */
  async function eventTypes(...names: string[]) {
    for (const name of names) await h.svix.eventType.create({ name, description: name });
  }

  /** Waits until nothing more is on its way to the endpoint (see `settled`). */
  const settled = (appId: string, endpointId: string) => deliveriesSettled((path) => h.api('GET', path), [`/api/v1/app/${appId}/endpoint/${endpointId}`]);

  async function attemptsOf(appId: string, msgId: string, count: number) {
    return waitFor(`${count} attempts`, async () => {
      const { data } = await h.svix.messageAttempt.listByMsg(appId, msgId, { withContent: true });
      return data.length >= count ? [...data].reverse() : null;
    });
  }

  it('retries a failing endpoint on the schedule until it succeeds, signing each attempt afresh', async () => {
    const flaky = await receiver((_req, index) => (index < 2 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' }));
    const { app } = await endpointFor(flaky);
    const message = await h.svix.message.create(app.id, { eventType: 'retry.test', payload: { n: 1 } });
    const attempts = await attemptsOf(app.id, message.id, 3);
    assert.deepEqual(attempts.map((a) => a.status), [MessageStatus.Fail, MessageStatus.Fail, MessageStatus.Success]);
    assert.deepEqual(attempts.map((a) => a.responseStatusCode), [500, 500, 200]);
    assert.deepEqual(attempts.map((a) => a.response), ['boom', 'boom', 'ok']);
    assert.ok(flaky.requests.every((r) => r.verified), 'every attempt verifies with standardwebhooks');
    assert.equal(new Set(flaky.requests.map((r) => r.body.toString())).size, 1, 'the body is identical on every attempt');
    assert.equal(new Set(flaky.requests.map((r) => r.headers['webhook-id'])).size, 1, 'the id is the same on every attempt');
    const [destination] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data;
    assert.equal(destination!.status, MessageStatus.Success);
  });

  it('fails a delivery after the last scheduled attempt, and recover sends it again', async () => {
    let healthy = false;
    const down = await receiver(() => (healthy ? { status: 204 } : { status: 503 }));
    const { app, endpoint } = await endpointFor(down);
    const since = new Date(Date.now() - 1000);
    const message = await h.svix.message.create(app.id, { eventType: 'exhaust.test', payload: {} });
    await attemptsOf(app.id, message.id, 3);
    const failed = await waitFor('the delivery to fail', async () => {
      const [row] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data;
      return row?.status === MessageStatus.Fail ? row : null;
    });
    assert.equal(failed.nextAttempt, null);
    await settled(app.id, endpoint.id);
    // A control published now goes through the whole schedule, every gap of it, on the same
    // dispatcher: a fourth attempt of the first message would have been made by the time it is done.
    const control = await receiver(() => ({ status: 503 }));
    const controlled = await endpointFor(control);
    await h.svix.message.create(controlled.app.id, { eventType: 'exhaust.test', payload: {} });
    await waitFor('the control to use up its schedule', () => control.requests.length === 3);
    await settled(controlled.app.id, controlled.endpoint.id);
    assert.equal(down.requests.length, 3, 'no attempt after the schedule is used up');
    assert.equal((await h.svix.endpoint.getStats(app.id, endpoint.id)).fail, 1);

    healthy = true;
    await h.svix.endpoint.recover(app.id, endpoint.id, { since });
    const attempts = await attemptsOf(app.id, message.id, 4);
    assert.equal(attempts[3]!.status, MessageStatus.Success);
    assert.equal(attempts[3]!.triggerType, MessageAttemptTriggerType.Manual);
  });

  it('stops at 410 Gone and disables the endpoint', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const witness = await receiver();
    const { app, endpoint } = await endpointFor(gone);
    await h.svix.endpoint.create(app.id, { url: witness.url });
    const message = await h.svix.message.create(app.id, { eventType: 'gone.test', payload: {} });
    await waitFor('the endpoint to be disabled', async () => (await h.svix.endpoint.get(app.id, endpoint.id)).disabled);
    await settled(app.id, endpoint.id);
    assert.equal(gone.requests.length, 1);
    const [row] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data.filter((d) => d.id === endpoint.id);
    assert.equal(row!.status, MessageStatus.Fail);
    assert.equal(row!.nextAttempt, null, 'no retry after 410');
    const next = await h.svix.message.create(app.id, { eventType: 'gone.test', payload: {} });
    await waitFor('the next message at the other endpoint', () => witness.requests.some((r) => r.headers['webhook-id'] === next.id));
    await settled(app.id, endpoint.id);
    assert.equal(gone.requests.length, 1, 'a disabled endpoint receives no new messages');
  });

  it('treats a redirect as a failure and never follows it', async () => {
    const target = await receiver();
    const redirecting = await receiver(() => ({ status: 302, headers: { location: `${target.url}/elsewhere` } }));
    const { app } = await endpointFor(redirecting);
    const message = await h.svix.message.create(app.id, { eventType: 'redirect.test', payload: {} });
    const attempts = await attemptsOf(app.id, message.id, 3);
    assert.deepEqual(attempts.map((a) => [a.status, a.responseStatusCode]), [[2, 302], [2, 302], [2, 302]]);
    assert.equal(target.requests.length, 0);
  });

  it('records a timeout when the endpoint answers too late', async () => {
    const slow = await receiver(() => ({ status: 200, delayMs: 3_000 }));
    const { app } = await endpointFor(slow);
    const message = await h.svix.message.create(app.id, { eventType: 'timeout.test', payload: {} });
    const [first] = await attemptsOf(app.id, message.id, 1);
    const attempt = await h.api('GET', `/api/v1/app/${app.id}/msg/${message.id}/attempt/${first!.id}`);
    assert.equal(attempt.body.status, MessageStatus.Fail);
    assert.equal(attempt.body.responseStatusCode, 0);
    assert.equal(attempt.body.failureReason, 'timeout');
  });

  it('records a refused connection', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const app = await h.svix.application.create({ name: 'refused' });
    await h.svix.endpoint.create(app.id, { url: `http://127.0.0.1:${closedPort}/` });
    const message = await h.svix.message.create(app.id, { eventType: 'refused.test', payload: {} });
    const [first] = await attemptsOf(app.id, message.id, 1);
    const attempt = await h.api('GET', `/api/v1/app/${app.id}/msg/${message.id}/attempt/${first!.id}`);
    assert.equal(attempt.body.failureReason, 'connection_refused');
  });

  it('waits as long as Retry-After asks on 429, within the schedule', async () => {
    const throttled = await receiver((_req, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const slowSchedule = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '100ms,5s' } });
    try {
      const app = await slowSchedule.svix.application.create({ name: 'throttled' });
      await slowSchedule.svix.endpoint.create(app.id, { url: throttled.url });
      const message = await slowSchedule.svix.message.create(app.id, { eventType: 'throttle.test', payload: {} });
      await waitFor('the first attempt', () => throttled.requests.length === 1);
      const row = await waitFor('the retry to be scheduled', async () => {
        const [destination] = (await slowSchedule.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data;
        return destination?.nextAttempt && destination.status === MessageStatus.Pending ? destination : null;
      });
      const [attempt] = (await slowSchedule.svix.messageAttempt.listByMsg(app.id, message.id)).data;
      // Counted from the attempt's end, when the answer came: the time the request itself took
      // (long on a loaded machine) is not part of the wait.
      const delay = row.nextAttempt!.getTime() - (attempt!.timestamp.getTime() + attempt!.responseDurationMs);
      assert.ok(delay >= 990 && delay < 1_500, `retry scheduled ${delay} ms after the attempt's answer`);
      await waitFor('the second attempt', () => throttled.requests.length === 2, 5_000);
    } finally {
      await slowSchedule.close();
    }
  });

  it('sends only to endpoints whose event types and channels match', async () => {
    const all = await receiver();
    const invoices = await receiver();
    const europe = await receiver();
    const app = await h.svix.application.create({ name: 'fan-out' });
    await eventTypes('invoice.paid', 'user.created');
    const endpoints = [
      (await h.svix.endpoint.create(app.id, { url: all.url })).id,
      (await h.svix.endpoint.create(app.id, { url: invoices.url, eventTypes: ['invoice.paid'] })).id,
      (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: europe.url, filterTypes: ['invoice.paid', 'user.created'], channels: ['eu'] })).body.id as string,
    ];
    await h.svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n: 1 }, channels: ['eu'] });
    await h.svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n: 2 }, channels: ['us'] });
    await h.svix.message.create(app.id, { eventType: 'user.created', payload: { n: 3 } });
    await waitFor('fan-out', () => all.requests.length === 3 && invoices.requests.length === 2 && europe.requests.length === 1);
    for (const endpoint of endpoints) await settled(app.id, endpoint);
    assert.equal(all.requests.length, 3);
    assert.deepEqual(invoices.requests.map((r) => JSON.parse(r.body.toString()).n).sort(), [1, 2]);
    assert.deepEqual(europe.requests.map((r) => JSON.parse(r.body.toString()).n), [1]);
  });

  it('signs with the old and the new secret during a rotation grace period', async () => {
    const target = await receiver();
    const { app, endpoint } = await endpointFor(target);
    const oldSecret = target.secret!;
    await h.svix.endpoint.rotateSecret(app.id, endpoint.id, {});
    const newSecret = (await h.svix.endpoint.getSecret(app.id, endpoint.id)).key;
    assert.notEqual(newSecret, oldSecret);
    await h.svix.message.create(app.id, { eventType: 'rotate.test', payload: {} });
    const [request] = await waitFor('the delivery', () => (target.requests.length ? target.requests : null));
    assert.equal(String(request!.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [oldSecret, newSecret]) {
      assert.doesNotThrow(() => new Webhook(secret).verify(request!.body.toString(), request!.headers as Record<string, string>));
    }
    // Rotating with no grace period retires the secret being replaced at once; the first one keeps its own day.
    await h.svix.endpoint.rotateSecret(app.id, endpoint.id, { gracePeriodSeconds: 0 });
    const newest = (await h.svix.endpoint.getSecret(app.id, endpoint.id)).key;
    await h.svix.message.create(app.id, { eventType: 'rotate.test', payload: {} });
    const later = await waitFor('the second delivery', () => target.requests[1]);
    const verifiesWith = (secret: string) => {
      try {
        new Webhook(secret).verify(later.body.toString(), later.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };
    assert.deepEqual([oldSecret, newSecret, newest].map(verifiesWith), [true, false, true]);
  });

  it('signs an ed25519 endpoint\'s deliveries as v1a, checkable with the public key it shows', async () => {
    const target = await receiver();
    const app = await h.svix.application.create({ name: 'ed25519' });
    const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: target.url, keyType: 'ed25519' });
    assert.equal(created.status, 201);
    const { key } = await h.svix.endpoint.getSecret(app.id, created.body.id);
    assert.match(key, /^whpk_/, 'only the public key is shown');
    await h.svix.message.create(app.id, { eventType: 'ed.test', payload: { n: 1 } });
    const request = await waitFor('the delivery', () => target.requests[0]);
    const signature = String(request.headers['webhook-signature']);
    assert.match(signature, /^v1a,/);
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
    const content = Buffer.concat([Buffer.from(`${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.`), request.body]);
    assert.equal(verifySignature(null, content, publicKey, Buffer.from(signature.slice(4), 'base64')), true);
    await h.svix.endpoint.rotateSecret(app.id, created.body.id, {});
    assert.match((await h.svix.endpoint.getSecret(app.id, created.body.id)).key, /^whpk_/, 'rotation keeps the scheme');
  });

  it('sends custom headers with each delivery and hides sensitive ones when read back', async () => {
    const target = await receiver();
    const { app, endpoint } = await endpointFor(target);
    await h.svix.endpoint.setHeaders(app.id, endpoint.id, { headers: { 'X-Tenant': 'acme', Authorization: 'Bearer s3cret' } });
    await h.svix.endpoint.patchHeaders(app.id, endpoint.id, { headers: { 'X-Extra': '1' } });
    const read = await h.svix.endpoint.getHeaders(app.id, endpoint.id);
    assert.deepEqual(read.headers, { 'X-Tenant': 'acme', 'X-Extra': '1' });
    assert.deepEqual(read.sensitive, ['Authorization']);
    await h.svix.message.create(app.id, { eventType: 'headers.test', payload: {} });
    const request = await waitFor('the delivery', () => target.requests[0]);
    assert.equal(request.headers['x-tenant'], 'acme');
    assert.equal(request.headers['x-extra'], '1');
    assert.equal(request.headers.authorization, 'Bearer s3cret');
    assert.equal(request.verified, true);
  });

  it('resends a delivered message on request, as a manual attempt', async () => {
    const target = await receiver();
    const { app, endpoint } = await endpointFor(target);
    const message = await h.svix.message.create(app.id, { eventType: 'resend.test', payload: { once: true } });
    await attemptsOf(app.id, message.id, 1);
    await h.svix.messageAttempt.resend(app.id, message.id, endpoint.id);
    const attempts = await attemptsOf(app.id, message.id, 2);
    assert.equal(attempts[1]!.triggerType, MessageAttemptTriggerType.Manual);
    assert.equal(target.requests[1]!.headers['webhook-id'], message.id);
    assert.equal(target.requests[1]!.verified, true);
  });

  it('sends an example event to one endpoint', async () => {
    const target = await receiver();
    const other = await receiver();
    await eventTypes('something.else');
    const { app, endpoint } = await endpointFor(target, '/', { eventTypes: ['something.else'] });
    const otherEndpoint = await h.svix.endpoint.create(app.id, { url: other.url });
    await h.svix.eventType.create({
      name: 'example.shown',
      description: 'has an example',
      schemas: { '1': { type: 'object', examples: [{ hello: 'world' }] } },
    });
    const message = await h.svix.endpoint.sendExample(app.id, endpoint.id, { eventType: 'example.shown' });
    const request = await waitFor('the example', () => target.requests[0]);
    assert.equal(request.headers['webhook-id'], message.id);
    assert.deepEqual(JSON.parse(request.body.toString()), { hello: 'world' });
    await settled(app.id, otherEndpoint.id);
    assert.equal(other.requests.length, 0);
  });

  it('keeps delivering to a healthy endpoint while another one is slow', async () => {
    // The slow endpoint holds each request far longer than the test can take, even on a loaded
    // machine, so every request it has seen is still in flight when the count is read.
    const isolated = await startTestHerald({ store, env: { HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '2', HERALD_REQUEST_TIMEOUT: '30s' } });
    const slow = await receiver(() => ({ status: 200, delayMs: 8_000 }));
    const fast = await receiver();
    try {
      const app = await isolated.svix.application.create({ name: 'isolation' });
      await isolated.svix.endpoint.create(app.id, { url: slow.url });
      await isolated.svix.endpoint.create(app.id, { url: fast.url });
      for (let i = 0; i < 10; i++) await isolated.svix.message.create(app.id, { eventType: 'isolation.test', payload: { i } });
      await waitFor('all ten at the fast endpoint', () => fast.requests.length === 10, 7_000);
      assert.ok(slow.requests.length <= 2, `the slow endpoint holds at most its two slots (${slow.requests.length} sent)`);
    } finally {
      await isolated.close();
    }
  });

  it('refuses to deliver to a name that resolves to loopback unless private networks are allowed', async () => {
    const target = await receiver();
    const guarded = await startTestHerald({ store, env: { HERALD_ALLOW_PRIVATE_NETWORKS: 'false' } });
    try {
      const app = await guarded.svix.application.create({ name: 'ssrf' });
      const port = new URL(target.url).port;
      await guarded.svix.endpoint.create(app.id, { url: `http://localhost:${port}/` });
      const message = await guarded.svix.message.create(app.id, { eventType: 'ssrf.test', payload: {} });
      const attempt = await waitFor('the blocked attempt', async () => {
        const list = await guarded.api('GET', `/api/v1/app/${app.id}/attempt/msg/${message.id}?with_content=true`);
        return list.body.data[0];
      });
      assert.equal(attempt.failureReason, 'blocked_address');
      assert.match(attempt.response, /loopback/);
      assert.equal(target.requests.length, 0);
      // In an application no message goes to, so a guard that let it through still sends nothing there.
      const elsewhere = await guarded.svix.application.create({ name: 'ssrf literal' });
      const literal = await guarded.api('POST', `/api/v1/app/${elsewhere.id}/endpoint`, { url: 'http://169.254.169.254/latest' });
      assert.equal(literal.status, 422);
    } finally {
      await guarded.close();
    }
  });
}));
