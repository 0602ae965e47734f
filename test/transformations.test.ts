import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Webhook } from 'svix';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, type ReceivedRequest, startReceiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { settled, waitFor } from './support/wait.ts';

/** What a receiver makes of a request's body, by its content type, as an ordinary web framework would. */
function parsed(request: ReceivedRequest): unknown {
  const type = String(request.headers['content-type'] ?? '').split(';')[0];
  const text = request.body.toString('utf8');
  if (type === 'application/json') return JSON.parse(text);
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (type === 'application/xml') {
    assert.equal(XMLValidator.validate(text), true, `well-formed XML: ${text}`);
    return new XMLParser({ parseTagValue: false }).parse(text);
  }
  return text;
}

await forEachStore((store) => {
  describe(`transformations (${store})`, () => {
    const failures = trackFailures();
    let h: TestHerald;
    let receiver: Receiver;
    let appId: string;
    let paths = 0;

    before(async () => {
      h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '50ms,50ms' } });
      receiver = await startReceiver();
      appId = (await h.svix.application.create({ name: 'transformations' })).id;
      await h.svix.eventType.create({ name: 'order.created', description: 'An order was placed.' });
    });
    after(async () => {
      await h.close(failures.any());
      await receiver.close();
    });

    /** An endpoint at its own path of the receiver, with `code` set and enabled through the svix SDK. */
    async function endpointWith(code: string | null) {
      const path = `/hook-${++paths}`;
      const endpoint = await h.svix.endpoint.create(appId, { url: receiver.url + path, headers: { 'X-Configured': 'yes' } });
      const { key: secret } = await h.svix.endpoint.getSecret(appId, endpoint.id);
      if (code !== null) await h.svix.endpoint.transformation.patch(appId, endpoint.id, { code, enabled: true });
      const apiPath = `/api/v1/app/${appId}/endpoint/${endpoint.id}`;
      const at = (prefix: string) => receiver.requests.filter((request) => request.path.startsWith(prefix));
      return { endpoint, path, secret, apiPath, at };
    }

    const publish = (payload: Record<string, unknown>) => h.svix.message.create(appId, { eventType: 'order.created', payload });

    /** The request that reached `prefix`, checked with the svix library's Webhook.verify over the bytes received. */
    async function receivedAt(prefix: string, secret: string): Promise<ReceivedRequest> {
      const request = await waitFor(`a request at ${prefix}`, () => receiver.requests.find((r) => r.path.startsWith(prefix)));
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      return request;
    }

    /** The attempts of a message at an endpoint, once its delivery is over. */
    async function attemptsOnceSettled(apiPath: string, msgId: string, endpointId: string) {
      await settled((path) => h.api('GET', path), [apiPath]);
      const { data } = (await h.api('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}?endpoint_id=${endpointId}`)).body as { data: Array<Record<string, any>> };
      return data;
    }

    it('reads and changes an endpoint\'s transformation through the svix SDK, and refuses code that cannot run', async () => {
      const { endpoint } = await endpointWith(null);
      const initial = await h.svix.endpoint.transformation.get(appId, endpoint.id);
      assert.deepEqual([initial.code, initial.enabled, initial.updatedAt], [null, false, null]);
      const code = 'function handler(webhook) { return webhook; }';
      await h.svix.endpoint.transformation.patch(appId, endpoint.id, { code });
      const set = await h.svix.endpoint.transformation.get(appId, endpoint.id);
      assert.deepEqual([set.code, set.enabled], [code, false]);
      assert.ok(set.updatedAt instanceof Date);
      // The SDK's older call (Svix renamed it) sets both at once.
      await h.svix.endpoint.transformationPartialUpdate(appId, endpoint.id, { code, enabled: true });
      assert.equal((await h.svix.endpoint.transformation.get(appId, endpoint.id)).enabled, true);

      const path = `/api/v1/app/${appId}/endpoint/${endpoint.id}/transformation`;
      const syntax = await h.api('PATCH', path, { code: 'function handler(webhook) { return webhook' });
      assert.equal(syntax.status, 422);
      assert.deepEqual((syntax.body as any).detail[0].loc, ['body', 'code']);
      assert.match((syntax.body as any).detail[0].msg, /SyntaxError/);
      const noHandler = await h.api('PATCH', path, { code: 'var notAHandler = 1;' });
      assert.match((noHandler.body as any).detail[0].msg, /function handler\(webhook\)/);
      await h.api('PATCH', path, { code: null });
      const removed = await h.svix.endpoint.transformation.get(appId, endpoint.id);
      assert.deepEqual([removed.code, removed.enabled], [null, false]);
      const enableNothing = await h.api('PATCH', path, { enabled: true });
      assert.deepEqual([enableNothing.status, (enableNothing.body as any).detail[0].loc], [422, ['body', 'enabled']]);
      const variables = await h.api('PATCH', path, { code, variables: { a: 'b' } });
      assert.deepEqual([variables.status, (variables.body as any).detail[0].loc], [422, ['body', 'variables']]);
      assert.equal((await h.api('PATCH', path, { code: 'short' })).status, 422);
    });

    it('opens the routes to a portal token only with ManageTransformations', async () => {
      const { endpoint } = await endpointWith(null);
      const path = `/api/v1/app/${appId}/endpoint/${endpoint.id}/transformation`;
      const simulate = { code: 'function handler(webhook) { return webhook; }', eventType: 'order.created', payload: { a: 1 } };
      const as = async (capabilities: string[]) => {
        const { token } = await h.svix.authentication.appPortalAccess(appId, { capabilities: capabilities as any });
        const headers = { authorization: `Bearer ${token}` };
        return [
          (await h.api('GET', path, undefined, headers)).status,
          (await h.api('PATCH', path, { enabled: false }, headers)).status,
          (await h.api('POST', `${path}/simulate`, simulate, headers)).status,
        ];
      };
      assert.deepEqual(await as(['ViewBase', 'ManageEndpoint']), [403, 403, 403]);
      assert.deepEqual(await as(['ViewBase', 'ManageTransformations']), [200, 204, 200]);
    });

    it('sends by the method, to the URL and with the headers the code chose, signed over the bytes sent, and records that URL', async () => {
      const { endpoint, secret, path, apiPath } = await endpointWith(`function handler(webhook) {
        webhook.method = 'PUT';
        webhook.url = webhook.url + '/moved?tenant=t1';
        webhook.headers['X-Tenant'] = 't1';
        webhook.payload = { order: webhook.payload.id, eventType: webhook.eventType, configured: webhook.headers['X-Configured'] };
        return webhook;
      }`);
      const message = await publish({ id: 'o-1' });
      const request = await receivedAt(`${path}/moved`, secret);
      assert.deepEqual([request.method, request.path, request.headers['x-tenant'], request.headers['x-configured']], ['PUT', `${path}/moved?tenant=t1`, 't1', 'yes']);
      assert.deepEqual(parsed(request), { order: 'o-1', eventType: 'order.created', configured: 'yes' });
      const [attempt] = await attemptsOnceSettled(apiPath, message.id, endpoint.id);
      assert.deepEqual([attempt!.url, attempt!.status], [`${receiver.url}${path}/moved?tenant=t1`, 0]);
    });

    /** Publishes a payload written as `payload` is, numbers JavaScript cannot hold included. */
    async function publishText(payload: string): Promise<string> {
      const response = await fetch(`${h.url}/api/v1/app/${appId}/msg`, {
        method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: `{"eventType":"order.created","payload":${payload}}`,
      });
      assert.equal(response.status, 202);
      return ((await response.json()) as { id: string }).id;
    }

    it('sends the published bytes when the code leaves the payload as it came, numbers JavaScript cannot hold arriving unchanged', async () => {
      const { path, secret } = await endpointWith('function handler(webhook) { webhook.headers["X-Seen"] = "yes"; return webhook; }');
      const payload = '{"big": 12345678901234567890, "huge": 1e400, "tiny": 1e-400, "price": 1.50}';
      await publishText(payload);
      const request = await receivedAt(path, secret);
      assert.equal(request.body.toString('utf8'), payload);
      assert.equal(request.headers['x-seen'], 'yes');
    });

    it('fails, naming the number, the attempt of code that changes a payload holding a number JavaScript cannot hold, instead of sending it changed', async () => {
      const { endpoint, apiPath, at } = await endpointWith('function handler(webhook) { webhook.payload.seen = true; return webhook; }');
      const id = await publishText('{"id": 12345678901234567890}');
      const attempts = await attemptsOnceSettled(apiPath, id, endpoint.id);
      assert.equal(at(`/hook-${paths}`).length, 0, 'nothing is sent');
      assert.equal(attempts[0]!.failureReason, 'transformation_failed');
      assert.match(attempts[0]!.response, /the number 12345678901234567890, which JavaScript cannot hold exactly/);
      // A payload of numbers it can hold goes through the same code.
      await publish({ id: 9007199254740991 });
      await waitFor('the payload it can hold', () => at(`/hook-${paths}`).length === 1);
      assert.deepEqual(parsed(at(`/hook-${paths}`)[0]!), { id: 9007199254740991, seen: true });
    });

    it('shows in the attempt\'s view the request the code made, as the receiver got it, and drops its body when the payload is erased', async () => {
      const { endpoint, secret, path, apiPath } = await endpointWith(`function handler(webhook) {
        webhook.method = 'PATCH';
        webhook.headers['X-Tenant'] = 't2';
        webhook.contentType = 'application/x-www-form-urlencoded';
        webhook.payload = { order: webhook.payload.id };
        return webhook;
      }`);
      const message = await publish({ id: 'o-view' });
      const request = await receivedAt(path, secret);
      const [attempt] = await attemptsOnceSettled(apiPath, message.id, endpoint.id);
      // Names as the code wrote them (X-Tenant); compared as the receiver's, in lower case.
      const view = async () => {
        const { body } = await h.api('GET', `/api/v1/app/${appId}/msg/${message.id}/attempt/${attempt!.id}/headers`);
        return { ...body, sentHeaders: Object.fromEntries(Object.entries(body.sentHeaders as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value])) };
      };
      const shown = await view();
      assert.equal(shown.method, 'PATCH');
      assert.equal(shown.transformedBody, 'order=o-view');
      assert.equal(shown.transformedBody, request.body.toString());
      // Rebuilt over the bytes sent, with the code's headers: what the receiver got, to the letter.
      for (const name of ['x-tenant', 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        assert.equal(shown.sentHeaders[name], request.headers[name], name);
      }
      assert.equal(shown.sentHeaders['x-configured'], 'yes', 'the endpoint\'s header, which the code kept');

      assert.equal((await h.api('DELETE', `/api/v1/app/${appId}/msg/${message.id}/content`)).status, 204);
      const erased = await view();
      assert.equal(erased.transformedBody, null);
      assert.equal(erased.sentHeaders['x-tenant'], 't2');
      assert.equal(erased.sentHeaders['webhook-signature'], 'v1,****', 'a signature over erased bytes cannot be rebuilt');
    });

    it('sends a GET\'s payload as query parameters, with no body, signed over the empty body', async () => {
      const { secret, path } = await endpointWith(`function handler(webhook) {
        webhook.method = 'GET';
        webhook.payload = { id: webhook.payload.id, customer: { name: 'Ada L' }, tags: ['a', 'b'] };
        return webhook;
      }`);
      await publish({ id: 'o-2' });
      const request = await receivedAt(path, secret);
      assert.equal(request.method, 'GET');
      assert.equal(request.body.length, 0);
      const query = new URL(request.path, 'http://x').searchParams;
      assert.deepEqual([...query], [['id', 'o-2'], ['customer[name]', 'Ada L'], ['tags[0]', 'a'], ['tags[1]', 'b']]);
    });

    it('delivers form data that the receiver parses', async () => {
      const { secret, path } = await endpointWith(`function handler(webhook) {
        webhook.contentType = 'application/x-www-form-urlencoded';
        webhook.payload = { id: webhook.payload.id, amount: 12.5, paid: true, note: 'a&b=c ü', customer: { email: 'ada@example.com' } };
        return webhook;
      }`);
      await publish({ id: 'o-3' });
      const request = await receivedAt(path, secret);
      assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.deepEqual(parsed(request), { id: 'o-3', amount: '12.5', paid: 'true', note: 'a&b=c ü', 'customer[email]': 'ada@example.com' });
    });

    it('delivers XML that the receiver parses', async () => {
      const { secret, path } = await endpointWith(`function handler(webhook) {
        webhook.contentType = 'application/xml';
        webhook.payload = { order: { id: webhook.payload.id, note: '<b> & "quotes"', items: [{ sku: 'a' }, { sku: 'b' }], gift: null } };
        return webhook;
      }`);
      await publish({ id: 'o-4' });
      const request = await receivedAt(path, secret);
      assert.equal(request.headers['content-type'], 'application/xml');
      assert.deepEqual(parsed(request), { '?xml': '', order: { id: 'o-4', note: '<b> & "quotes"', items: [{ sku: 'a' }, { sku: 'b' }], gift: '' } });
    });

    it('sends a string payload as it is, with the content type the code set', async () => {
      const { secret, path } = await endpointWith(`function handler(webhook) {
        webhook.contentType = 'text/plain; charset=utf-8';
        webhook.payload = 'order ' + webhook.payload.id + ' placed';
        return webhook;
      }`);
      await publish({ id: 'o-5' });
      const request = await receivedAt(path, secret);
      assert.deepEqual([request.headers['content-type'], request.body.toString('utf8')], ['text/plain; charset=utf-8', 'order o-5 placed']);
    });

    it('ends a delivery the code cancels as canceled, sending nothing', async () => {
      const { endpoint, apiPath, at } = await endpointWith('function handler(webhook) { webhook.cancel = webhook.payload.skip; return webhook; }');
      const skipped = await publish({ skip: true });
      const kept = await publish({ skip: false });
      await waitFor('the kept message', () => at(`/hook-${paths}`).length === 1);
      const [attempt] = await attemptsOnceSettled(apiPath, skipped.id, endpoint.id);
      assert.deepEqual([attempt!.failureReason, attempt!.responseStatusCode], ['transformation_canceled', 0]);
      // Canceled, not failed: as Svix shows canceled ones, success (0) unless expanded_statuses asks for 4.
      assert.deepEqual([attempt!.status, attempt!.statusText], [0, 'success']);
      const expanded = (await h.api('GET', `/api/v1/app/${appId}/attempt/endpoint/${endpoint.id}?expanded_statuses=true`)).body.data;
      assert.deepEqual(expanded.filter((a: any) => a.msgId === skipped.id).map((a: any) => [a.status, a.statusText]), [[4, 'canceled']]);
      assert.equal((await h.api('GET', `/api/v1/app/${appId}/msg/${skipped.id}/attempt/${attempt!.id}?expanded_statuses=true`)).body.status, 4);
      assert.deepEqual((await h.api('GET', `/api/v1/app/${appId}/attempt/endpoint/${endpoint.id}?status=4`)).body.data.map((a: any) => a.msgId), [skipped.id]);
      const stats = (await h.api('GET', `${apiPath}/stats`)).body as Record<string, number>;
      assert.deepEqual([stats.canceled, stats.success, stats.fail], [1, 1, 0]);
      assert.deepEqual(at(`/hook-${paths}`).map((r) => (parsed(r) as any).skip), [false]);
      const [destination] = (await h.api('GET', `/api/v1/app/${appId}/msg/${skipped.id}/endpoint?expanded_statuses=true`)).body.data;
      assert.equal(destination.status, 4);
      void kept;
      const metrics = await h.api('GET', '/metrics');
      assert.match(String(metrics.body), /herald_delivery_attempts_total\{outcome="canceled"\} 1\b/);
    });

    /** Publishes one message to an endpoint with `code`, and the reason its attempts failed (all three of them). */
    async function failedAttempts(code: string) {
      const { endpoint, apiPath, at } = await endpointWith(code);
      const message = await publish({ id: 'o-bad' });
      const attempts = await attemptsOnceSettled(apiPath, message.id, endpoint.id);
      assert.equal(at(`/hook-${paths}`).length, 0, 'nothing is sent for a failed transformation');
      assert.equal(attempts.length, 3, 'retried on the schedule, as the code may be fixed meanwhile');
      for (const attempt of attempts) assert.deepEqual([attempt.failureReason, attempt.status, attempt.responseStatusCode], ['transformation_failed', 2, 0]);
      return attempts[0]!.response as string;
    }

    it('fails the attempt of a handler that loops forever, with its reason, while another endpoint is delivered to', async () => {
      const plain = await endpointWith(null);
      const response = await failedAttempts('function handler(webhook) { for (;;) {} }');
      assert.match(response, /CPU time limit/);
      await waitFor('the other endpoint\'s delivery', () => plain.at(plain.path).length === 1);
      assert.deepEqual(plain.at(plain.path).map((r) => (parsed(r) as any).id), ['o-bad']);
    });

    it('fails the attempt of a handler that allocates without bound, and the sandbox serves the next delivery', async () => {
      assert.match(await failedAttempts('function handler(webhook) { var kept = []; for (;;) kept.push("x".repeat(65536) + kept.length); }'), /out of memory/);
      const { secret, path } = await endpointWith('function handler(webhook) { webhook.payload.after = true; return webhook; }');
      await publish({ id: 'o-6' });
      assert.deepEqual(parsed(await receivedAt(path, secret)), { id: 'o-6', after: true });
    });

    it('fails the attempt of a handler that throws, or returns the wrong shape', async () => {
      assert.match(await failedAttempts('function handler(webhook) { throw new Error("no such customer"); }'), /Error: no such customer/);
      assert.match(await failedAttempts('function handler(webhook) { return 42; }'), /must return the webhook object, not number/);
      assert.match(await failedAttempts('function handler(webhook) { webhook.method = "DELETE"; return webhook; }'), /webhook\.method must be one of POST, PUT, PATCH, GET/);
      assert.match(await failedAttempts('function handler(webhook) { webhook.contentType = "application/xml"; webhook.payload = { "1bad": 1 }; return webhook; }'), /cannot be an XML element name/);
    });

    it('refuses to let the code set the signature headers', async () => {
      assert.match(await failedAttempts('function handler(webhook) { webhook.headers["webhook-signature"] = "v1,forged"; return webhook; }'), /webhook-signature.*Standard Webhooks header/);
      assert.match(await failedAttempts('function handler(webhook) { webhook.headers["Svix-Id"] = "msg_forged"; return webhook; }'), /Svix-Id.*Svix header/);
    });

    it('simulates the request a payload would make, or says why there would be none', async () => {
      const { endpoint } = await endpointWith(null);
      const path = `/api/v1/app/${appId}/endpoint/${endpoint.id}/transformation/simulate`;
      const run = (code: string, payload: Record<string, unknown> = { id: 'o-7' }) => h.api('POST', path, { code, eventType: 'order.created', payload });
      const sent = await run(`function handler(webhook) {
        webhook.method = 'PATCH'; webhook.contentType = 'application/x-www-form-urlencoded'; webhook.headers['X-Kind'] = webhook.eventType;
        return webhook;
      }`);
      assert.equal(sent.status, 200);
      assert.deepEqual(sent.body, {
        cancel: false, method: 'PATCH', url: endpoint.url, payload: 'id=o-7', contentType: 'application/x-www-form-urlencoded',
        headers: { 'X-Configured': 'yes', 'X-Kind': 'order.created', 'content-type': 'application/x-www-form-urlencoded' },
      });
      const canceled = await run('function handler(webhook) { webhook.cancel = true; return webhook; }');
      assert.equal((canceled.body as any).cancel, true);
      const threw = await run('function handler(webhook) { throw new TypeError("bad " + webhook.payload.id); }');
      assert.deepEqual([threw.status, (threw.body as any).code], [400, 'transformation_failed']);
      assert.match((threw.body as any).detail, /TypeError: bad o-7/);
      const looped = await run('function handler(webhook) { while (true) {} }');
      assert.match((looped.body as any).detail, /CPU time limit/);
    });

    it('gives a source\'s destinations the same routes, and transforms a received request before forwarding it', async () => {
      const source = await h.svix.ingest.source.create({ name: 'github', type: 'generic-webhook' } as any);
      const destination = await h.svix.ingest.endpoint.create(source.id, { url: `${receiver.url}/ingest` });
      const { key: secret } = await h.svix.ingest.endpoint.getSecret(source.id, destination.id);
      const code = `function handler(webhook) {
        webhook.method = 'PUT';
        webhook.headers['X-Seen-Agent'] = webhook.headers['x-provider-agent'];
        webhook.contentType = 'application/xml';
        webhook.payload = { push: { ref: webhook.payload.ref, via: webhook.method } };
        return webhook;
      }`;
      await h.svix.ingest.endpoint.transformation.patch(source.id, destination.id, { code, enabled: true });
      const read = await h.svix.ingest.endpoint.transformation.get(source.id, destination.id);
      assert.deepEqual([read.code, read.enabled], [code, true]);

      // A provider's own svix-* headers cannot go back out under Herald's names: they are left out, not a failure.
      const sent = await fetch(source.ingestUrl!, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-provider-agent': 'GitHub-Hookshot', 'svix-id': 'msg_provider' }, body: '{"ref":"refs/heads/main"}',
      });
      assert.equal(sent.status < 300, true);
      const request = await receivedAt('/ingest', secret);
      assert.deepEqual([request.method, request.headers['x-seen-agent'], request.headers['x-herald-source'], request.headers['svix-id']], ['PUT', 'GitHub-Hookshot', source.id, undefined]);
      assert.deepEqual(parsed(request), { '?xml': '', push: { ref: 'refs/heads/main', via: 'PUT' } });
    });
  });
});
