import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * Creating a message: the payload's bytes are the bytes published (stored, sent and signed without
 * being parsed and written again); an `application` in the body creates the application the path
 * names when it does not exist yet, and only then; `send-example` of `svix.ping` sends what Svix
 * sends.
 */
await forEachStore((store) => describe(`creating messages (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  /** An application with one endpoint at the receiver under `path`, whose secret the receiver verifies with. */
  async function appWithEndpoint(uid: string, path: string) {
    const app = await h.svix.application.create({ name: uid, uid });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}${path}` });
    receiver.secret = (await h.svix.endpoint.getSecret(app.id, endpoint.id)).key;
    return { app: app.id, endpoint: endpoint.id, secret: receiver.secret };
  }

  const arrivalOf = (messageId: string) => waitFor(`message ${messageId}`, () => receiver.requests.find((r) => r.headers['webhook-id'] === messageId));

  describe('payload bytes', () => {
    const payloads: Array<[string, string]> = [
      ['integers beyond 2^53, 1e400 and 1e-400', '{"big":12345678901234567890,"huge":1e400,"tiny":1e-400,"negative":-98765432109876543210}'],
      ['numbers written in ways JSON.stringify would rewrite', '{"a":1.0,"b":2.50,"c":-0.0,"d":1E+2,"e":0.1e-0}'],
      ['spaces, new lines and indentation', '{\n  "b" : [ 1 , 2 ],\n\t"a":{ }\n}'],
      ['escapes JSON.stringify would write otherwise', '{"s":"\\u00e9\\/\\ud83d\\ude00 \\"quoted\\" \\\\ back","t":"é😀"}'],
      ['duplicate keys inside the payload', '{"k":1,"k":2}'],
    ];
    for (const [what, payload] of payloads) {
      it(`delivers ${what} exactly as published, signed over those bytes`, async () => {
        const { app, secret } = await appWithEndpoint(`bytes-${payloads.findIndex(([w]) => w === what)}`, '/bytes');
        const answer = await h.api('POST', `/api/v1/app/${app}/msg`, `{"eventType":"bytes.test", "payload" : ${payload} }`);
        assert.equal(answer.status, 202, JSON.stringify(answer.body));
        const arrived = await arrivalOf(answer.body.id);
        assert.equal(arrived.body.toString('utf8'), payload, 'the bytes sent are the bytes published');
        assert.equal(arrived.verified, true, 'the standardwebhooks library verifies the signature');
        assert.doesNotThrow(() => new Webhook(secret).verify(arrived.body.toString('utf8'), arrived.headers as Record<string, string>));
      });

      it(`reads ${what} back as published, in the create's answer, the message and the list`, async () => {
        const app = (await appWithEndpoint(`read-${payloads.findIndex(([w]) => w === what)}`, '/read')).app;
        const raw = async (method: string, path: string, body?: string) => (await fetch(`${h.url}${path}`, {
          method, headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, ...(body ? { body } : {}),
        })).text();
        const created = await raw('POST', `/api/v1/app/${app}/msg`, `{"eventType":"bytes.test", "payload" : ${payload} }`);
        assert.ok(created.includes(`"payload":${payload},`), created);
        const id = (JSON.parse(created) as { id: string }).id;
        for (const read of [await raw('GET', `/api/v1/app/${app}/msg/${id}`), await raw('GET', `/api/v1/app/${app}/msg`)]) {
          assert.ok(read.includes(`"payload":${payload},`), read);
        }
      });
    }

    it('sends the last of two payload members, as JSON.parse reads them, and finds a key written with escapes', async () => {
      const { app } = await appWithEndpoint('bytes-duplicates', '/duplicates');
      const duplicate = await h.api('POST', `/api/v1/app/${app}/msg`, '{"payload":{"first":true},"eventType":"dup.test","payload":{"second":12345678901234567890}}');
      assert.equal(duplicate.status, 202, JSON.stringify(duplicate.body));
      assert.equal((await arrivalOf(duplicate.body.id)).body.toString('utf8'), '{"second":12345678901234567890}');
      const escaped = await h.api('POST', `/api/v1/app/${app}/msg`, '{"eventType":"dup.test","p\\u0061yload":{"escaped":1e400},"other":{"payload":{"nested":1}}}');
      assert.equal(escaped.status, 202, JSON.stringify(escaped.body));
      assert.equal((await arrivalOf(escaped.body.id)).body.toString('utf8'), '{"escaped":1e400}');
    });

    it('refuses a body that is not valid UTF-8 with 400, and stores nothing', async () => {
      const { app } = await appWithEndpoint('bytes-utf8', '/utf8');
      const body = Buffer.concat([Buffer.from('{"eventType":"bad.bytes","payload":{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
      const response = await fetch(`${h.url}/api/v1/app/${app}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { code: string }).code, 'invalid_json');
      assert.deepEqual((await h.api('GET', `/api/v1/app/${app}/msg`)).body.data, []);
    });

    it('answers with the parsed payload and shows it again on GET', async () => {
      const { app } = await appWithEndpoint('bytes-echo', '/echo');
      const answer = await h.api('POST', `/api/v1/app/${app}/msg`, '{"eventType":"echo.test","payload":{"a":[1, 2],"b":"x"}}');
      assert.deepEqual(answer.body.payload, { a: [1, 2], b: 'x' });
      assert.deepEqual((await h.api('GET', `/api/v1/app/${app}/msg/${answer.body.id}`)).body.payload, { a: [1, 2], b: 'x' });
    });
  });

  describe('an application in the body', () => {
    it('creates the application the path names when it does not exist, with the fields given', async () => {
      const answer = await h.api('POST', '/api/v1/app/inline-new/msg', { eventType: 'x.y', payload: {}, application: { name: 'Inline', uid: 'inline-new', metadata: { plan: 'pro' } } });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const app = await h.api('GET', '/api/v1/app/inline-new');
      assert.equal(app.status, 200);
      assert.equal(app.body.name, 'Inline');
      assert.deepEqual(app.body.metadata, { plan: 'pro' });
      assert.deepEqual((await h.api('GET', '/api/v1/app/inline-new/msg')).body.data.map((m: { id: string }) => m.id), [answer.body.id]);
    });

    it('refuses an application.uid that differs from the path, or is missing, with 422, and creates nothing', async () => {
      const differs = await h.api('POST', '/api/v1/app/inline-path/msg', { eventType: 'x.y', payload: {}, application: { name: 'Other', uid: 'inline-other' } });
      assert.equal(differs.status, 422, JSON.stringify(differs.body));
      assert.deepEqual(differs.body.detail.map((item: { loc: string[] }) => item.loc), [['body', 'application', 'uid']]);
      const missing = await h.api('POST', '/api/v1/app/inline-path/msg', { eventType: 'x.y', payload: {}, application: { name: 'No uid' } });
      assert.equal(missing.status, 422, JSON.stringify(missing.body));
      assert.deepEqual(missing.body.detail.map((item: { loc: string[] }) => item.loc), [['body', 'application', 'uid']]);
      for (const path of ['/api/v1/app/inline-path', '/api/v1/app/inline-other']) assert.equal((await h.api('GET', path)).status, 404, path);
    });

    it('leaves an existing application as it is, whether the path names it by uid or by id', async () => {
      const app = await h.svix.application.create({ name: 'Existing', uid: 'inline-existing', metadata: { keep: 'me' } });
      const byUid = await h.api('POST', '/api/v1/app/inline-existing/msg', { eventType: 'x.y', payload: {}, application: { name: 'Renamed', uid: 'inline-existing', metadata: {} } });
      assert.equal(byUid.status, 202, JSON.stringify(byUid.body));
      const byId = await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x.y', payload: {}, application: { name: 'Renamed', uid: 'inline-elsewhere' } });
      assert.equal(byId.status, 202, JSON.stringify(byId.body));
      const after = await h.api('GET', `/api/v1/app/${app.id}`);
      assert.equal(after.body.name, 'Existing');
      assert.equal(after.body.uid, 'inline-existing');
      assert.deepEqual(after.body.metadata, { keep: 'me' });
      assert.equal(after.body.updatedAt, app.updatedAt.toISOString());
      assert.equal((await h.api('GET', '/api/v1/app/inline-elsewhere')).status, 404);
      assert.equal((await h.api('GET', `/api/v1/app/${app.id}/msg`)).body.data.length, 2);
    });

    it('creates the application once when two messages name it at the same moment', async () => {
      const body = { eventType: 'x.y', payload: {}, application: { name: 'Raced', uid: 'inline-raced' } };
      const answers = await Promise.all([h.api('POST', '/api/v1/app/inline-raced/msg', body), h.api('POST', '/api/v1/app/inline-raced/msg', body)]);
      assert.deepEqual(answers.map((a) => a.status), [202, 202], JSON.stringify(answers.map((a) => a.body)));
      assert.equal((await h.api('GET', '/api/v1/app/inline-raced/msg')).body.data.length, 2);
    });
  });

  describe('send-example', () => {
    it('sends svix.ping as {"success":true} to that one endpoint only', async () => {
      const { app, endpoint } = await appWithEndpoint('ping-app', '/ping');
      const other = await h.svix.endpoint.create(app, { url: `${receiver.url}/ping-other` });
      const example = await h.svix.endpoint.sendExample(app, endpoint, { eventType: 'svix.ping' });
      assert.equal(example.eventType, 'svix.ping');
      const arrived = await arrivalOf(example.id);
      assert.equal(arrived.path, '/ping');
      assert.equal(arrived.body.toString('utf8'), '{"success":true}');
      assert.equal(arrived.verified, true);
      const destinations = await h.svix.messageAttempt.listAttemptedDestinations(app, example.id);
      assert.deepEqual(destinations.data.map((d) => d.id), [endpoint], `not sent to ${other.id}`);
    });

    it('sends another event type\'s schema example, or a stand-in when it has none, as before', async () => {
      const { app, endpoint } = await appWithEndpoint('example-app', '/example');
      await h.svix.eventType.create({ name: 'order.paid', description: 'd', schemas: { 1: { type: 'object', examples: [{ order: 7 }] } } });
      const fromSchema = await h.svix.endpoint.sendExample(app, endpoint, { eventType: 'order.paid' });
      assert.deepEqual(JSON.parse((await arrivalOf(fromSchema.id)).body.toString('utf8')), { order: 7 });
      const standIn = await h.svix.endpoint.sendExample(app, endpoint, { eventType: 'order.unknown' });
      assert.deepEqual(JSON.parse((await arrivalOf(standIn.id)).body.toString('utf8')), { eventType: 'order.unknown', example: true });
    });
  });
}));
