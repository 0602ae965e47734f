import assert from 'node:assert/strict';
import { createHmac, sign as edSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { verify } from '../src/core/signing.ts';
import { discordKeys, PROVIDER_CASES, SVIX_SECRET } from './support/providers.ts';
import type { ReceivedRequest, Receiver } from './support/receiver.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { forEachStore } from './support/stores.ts';
import { settled as deliveriesSettled, waitFor } from './support/wait.ts';

await forEachStore((store) => describe(`receiving webhooks (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  /** A source of `type` with one endpoint at the receiver; returns its ingest URL and endpoint secret. */
  async function source(type: string, config: Record<string, unknown>, path = `/${type}`) {
    const created = await h.api('POST', '/ingest/api/v1/source', { name: `${type} source`, type, config });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const endpoint = await h.api('POST', `/ingest/api/v1/source/${created.body.id}/endpoint`, { url: receiver.url + path });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const secret = (await h.api('GET', `/ingest/api/v1/source/${created.body.id}/endpoint/${endpoint.body.id}/secret`)).body.key;
    return { id: created.body.id as string, url: created.body.ingestUrl as string, secret: secret as string, path, endpointId: endpoint.body.id as string };
  }

  const post = (url: string, body: string, headers: Record<string, string>, method = 'POST') =>
    fetch(url, { method, headers, body }).then(async (r) => ({ status: r.status, text: await r.text(), headers: r.headers }));

  const arrivals = (path: string) => receiver.requests.filter((r) => r.path === path);

  /** Waits until nothing more is on its way to the source's endpoint (see `settled`). */
  const settled = (s: { id: string; endpointId: string }) => deliveriesSettled((path) => h.api('GET', path), [`/ingest/api/v1/source/${s.id}/endpoint/${s.endpointId}`]);

  async function assertForwarded(arrived: ReceivedRequest, body: string, sent: Record<string, string>, sourceId: string, endpointSecret: string) {
    assert.equal(arrived.body.toString('utf8'), body, 'the body arrives byte for byte');
    for (const [name, value] of Object.entries(sent)) {
      const forwarded = name.startsWith('webhook-') ? `x-original-${name}` : name;
      assert.equal(arrived.headers[forwarded], value, `the provider's ${name} header is forwarded`);
    }
    assert.equal(arrived.headers['x-herald-source'], sourceId);
    const herald = verify({
      secret: endpointSecret,
      id: arrived.headers['webhook-id'] as string,
      timestamp: arrived.headers['webhook-timestamp'] as string,
      signature: arrived.headers['webhook-signature'] as string,
      body: arrived.body,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    assert.equal(herald, null, 'Herald\'s own signature verifies');
  }

  for (const c of PROVIDER_CASES) {
    describe(c.type, () => {
      let s: Awaited<ReturnType<typeof source>>;
      let wrong: Awaited<ReturnType<typeof source>>;
      before(async () => {
        s = await source(c.type, c.config);
        wrong = await source(c.type, c.wrongConfig, `/${c.type}-wrong`);
      });

      const signed = async (ageSeconds = 0) => {
        const fresh = c.body();
        const request = await c.sign(fresh, s.url, ageSeconds);
        return { body: request.body ?? fresh, headers: { 'content-type': c.contentType, ...request.headers } };
      };

      it('accepts a request its provider signed, and forwards it byte for byte with the provider\'s headers and Herald\'s signature', async () => {
        const { body, headers } = await signed();
        const answer = await post(s.url, body, headers);
        assert.equal(answer.status, 200, answer.text);
        const arrived = await waitFor('the forward', () => arrivals(s.path)[0]);
        await assertForwarded(arrived, body, headers, s.id, s.secret);
        assert.equal(arrived.headers['x-herald-verified'], 'true');
      });

      if (c.signsBody !== false) it('refuses a tampered body with 401 and says the signature does not match', async () => {
        const { body, headers } = await signed();
        const tampered = body.replace(/[0-9a-zA-Z]/, (ch) => (ch === '1' ? '2' : '1'));
        const answer = await post(s.url, tampered, headers);
        assert.equal(answer.status, 401);
        assert.match(JSON.parse(answer.text).detail, /does not match|changed/);
      });

      it('refuses a request signed for another secret with 401', async () => {
        const { body, headers } = await signed();
        const answer = await post(wrong.url, body, headers);
        assert.equal(answer.status, 401);
        assert.match(JSON.parse(answer.text).detail, /does not match/);
        await settled(wrong);
        assert.equal(arrivals(wrong.path).length, 0);
      });

      if (c.timestamped) {
        it('refuses a stale timestamp, saying how old it is', async () => {
          const { body, headers } = await signed(3_600);
          const answer = await post(s.url, body, headers);
          assert.equal(answer.status, 401);
          assert.match(JSON.parse(answer.text).detail, /\d+ seconds old/);
        });
      }

      it('acknowledges a duplicate like the first but forwards it once', async () => {
        const before = arrivals(s.path).length;
        const { body, headers } = await signed();
        const first = await post(s.url, body, headers);
        assert.equal(first.status, 200);
        const again = await post(s.url, body, headers);
        assert.equal(again.status, 200);
        // A control: another event, sent after the duplicate, is forwarded; then nothing is left to send.
        const control = await signed();
        const controlAnswer = await post(s.url, control.body, control.headers);
        assert.equal(controlAnswer.status, 200, controlAnswer.text);
        const forwarded = (answer: { headers: Headers }) => arrivals(s.path).filter((r) => r.headers['webhook-id'] === answer.headers.get('herald-message-id')).length;
        await waitFor('the control forward', () => forwarded(controlAnswer) === 1);
        await settled(s);
        assert.equal(forwarded(first), 1, 'the first is forwarded');
        assert.equal(forwarded(again), 0, 'the duplicate is not');
        assert.equal(arrivals(s.path).length, before + 2);
        const duplicate = await h.api('GET', `/ingest/api/v1/source/${s.id}/msg/${again.headers.get('herald-message-id')}`);
        assert.ok(duplicate.body.inbound.duplicateOf, 'kept, linked to the first');
      });
    });
  }

  it('keeps a rejected request with its diagnosis, visible through the API', async () => {
    const s = await source('github', { secret: 'kept-secret' }, '/kept');
    const answer = await post(s.url, '{"a":1}', { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' });
    assert.equal(answer.status, 401);
    const listed = await h.api('GET', `/ingest/api/v1/source/${s.id}/msg`);
    const [rejected] = listed.body.data;
    assert.equal(rejected.inbound.verified, false);
    assert.match(rejected.inbound.diagnosis, /does not match/);
    assert.deepEqual(rejected.payload, { a: 1 });
  });

  it('diagnoses a body re-serialised on its way', async () => {
    const stripe = PROVIDER_CASES.find((c) => c.type === 'stripe')!;
    const s = await source('stripe', stripe.config, '/reserialised');
    const pretty = stripe.body();
    const { headers } = await stripe.sign(pretty, s.url);
    const compacted = JSON.stringify(JSON.parse(pretty));
    const answer = await post(s.url, compacted, { 'content-type': 'application/json', ...headers });
    assert.equal(answer.status, 401);
    assert.match(JSON.parse(answer.text).detail, /re-serialised/);
  });

  it('diagnoses a Standard Webhooks secret used raw instead of base64-decoded', async () => {
    const s = await source('svix', { secret: SVIX_SECRET }, '/raw-secret');
    const body = '{"type":"x"}';
    const ts = String(Math.floor(Date.now() / 1000));
    const raw = createHmac('sha256', SVIX_SECRET).update(`msg_raw.${ts}.${body}`).digest('base64');
    const answer = await post(s.url, body, { 'content-type': 'application/json', 'webhook-id': 'msg_raw', 'webhook-timestamp': ts, 'webhook-signature': `v1,${raw}` });
    assert.equal(answer.status, 401);
    assert.match(JSON.parse(answer.text).detail, /used as it is/);
  });

  it('diagnoses a request from another provider than the source expects', async () => {
    const s = await source('stripe', { secret: 'whsec_x' }, '/other-provider');
    const answer = await post(s.url, '{}', { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=abc' });
    assert.equal(answer.status, 401);
    assert.match(JSON.parse(answer.text).detail, /Stripe-Signature header is missing.*GitHub/);
  });

  it('answers Slack\'s url_verification with the challenge, without forwarding it', async () => {
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    const s = await source('slack', { secret }, '/slack-handshake');
    const signedSlack = (body: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}` };
    };
    const body = JSON.stringify({ type: 'url_verification', challenge: 'chal-123', token: 't' });
    const answer = await post(s.url, body, signedSlack(body));
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), { challenge: 'chal-123' });
    // A control: an event sent after the handshake is forwarded; then nothing is left to send.
    const event = JSON.stringify({ type: 'event_callback', event_id: 'Ev-after-handshake', event: { type: 'app_mention' } });
    assert.equal((await post(s.url, event, signedSlack(event))).status, 200);
    await waitFor('the event after the handshake', () => arrivals('/slack-handshake').length >= 1);
    await settled(s);
    assert.deepEqual(arrivals('/slack-handshake').map((r) => r.body.toString()), [event], 'the handshake itself is not forwarded');
  });

  it('answers Zoom\'s endpoint.url_validation with the encrypted token', async () => {
    const s = await source('zoom', { secret: 'zoom-secret-token' }, '/zoom-handshake');
    const body = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'plain-1' } });
    const ts = String(Math.floor(Date.now() / 1000));
    const answer = await post(s.url, body, { 'content-type': 'application/json', 'x-zm-request-timestamp': ts, 'x-zm-signature': `v0=${createHmac('sha256', 'zoom-secret-token').update(`v0:${ts}:${body}`).digest('hex')}` });
    assert.deepEqual(JSON.parse(answer.text), { plainToken: 'plain-1', encryptedToken: createHmac('sha256', 'zoom-secret-token').update('plain-1').digest('hex') });
  });

  it('answers Discord\'s PING with a PONG once it is verified', async () => {
    const discord = PROVIDER_CASES.find((c) => c.type === 'discord')!;
    const s = await source('discord', discord.config, '/discord-ping');
    const body = JSON.stringify({ type: 1 });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'content-type': 'application/json', 'x-signature-timestamp': ts, 'x-signature-ed25519': edSign(null, Buffer.from(ts + body), discordKeys.privateKey).toString('hex') };
    const answer = await post(s.url, body, headers);
    assert.deepEqual(JSON.parse(answer.text), { type: 1 });
    assert.equal((await post(s.url, body, { ...headers, 'x-signature-ed25519': '00'.repeat(64) })).status, 401);
  });

  it('forwards bodies that are not JSON untouched, through a generic source', async () => {
    const s = await source('generic-webhook', { methods: ['POST', 'PUT'] }, '/generic');
    const bodies: Array<[string, string]> = [
      ['text/plain; charset=utf-8', 'just text, with ümlauts and a trailing newline\n'],
      ['application/xml', '<?xml version="1.0"?><note><to>Tove</to></note>'],
      ['application/x-www-form-urlencoded', 'a=1&b=%F0%9F%92%A5&a=2'],
    ];
    for (const [contentType, body] of bodies) assert.equal((await post(s.url, body, { 'content-type': contentType }, 'PUT')).status, 200);
    await waitFor('three forwards', () => arrivals('/generic').length === 3);
    for (const [contentType, body] of bodies) {
      const arrived = arrivals('/generic').find((r) => r.headers['content-type'] === contentType)!;
      assert.equal(arrived.body.toString('utf8'), body);
      assert.equal(arrived.method, 'PUT');
      assert.equal(arrived.headers['x-herald-verified'], 'unchecked');
    }
    assert.equal((await post(s.url, 'x', { 'content-type': 'text/plain' }, 'DELETE')).status, 405);
  });

  it('lists, reads, updates, rotates and deletes sources, and never shows their secrets', async () => {
    const created = await h.svix.ingest.source.create({ name: 'Stripe', uid: 'stripe-main', type: 'stripe', config: { secret: 'whsec_listed' } });
    assert.match(created.ingestUrl!, /\/in\/[\w-]{20,}$/);
    const fetched = await h.api('GET', '/ingest/api/v1/source/stripe-main');
    assert.deepEqual(fetched.body.config, {});
    // Raw, because the SDK refuses to parse a list holding types it does not know (twilio, hmac, …).
    assert.ok((await h.api('GET', '/ingest/api/v1/source')).body.data.some((s: { id: string }) => s.id === created.id));
    const rotated = await h.svix.ingest.source.rotateToken(created.id);
    assert.notEqual(rotated.ingestUrl, created.ingestUrl);
    assert.equal((await post(created.ingestUrl!, '{}', { 'content-type': 'application/json' })).status, 404);
    await h.svix.ingest.source.upsert(created.id, { name: 'Stripe renamed', type: 'stripe', config: { secret: 'whsec_listed' } });
    assert.equal((await h.api('GET', `/ingest/api/v1/source/${created.id}`)).body.name, 'Stripe renamed');
    assert.ok(!(await h.svix.application.list()).data.some((a) => a.id === created.id), 'sources are not applications');
    await h.svix.ingest.source.delete(created.id);
    assert.equal((await h.api('GET', `/ingest/api/v1/source/${created.id}`)).status, 404);
  });

  it('refuses a source without what its type needs', async () => {
    for (const [type, config, loc] of [
      ['stripe', {}, ['body', 'config', 'secret']],
      ['discord', { publicKey: 'xyz' }, ['body', 'config', 'publicKey']],
      ['hmac', { secret: 's' }, ['body', 'config', 'header']],
      ['nonsense', {}, ['body', 'type']],
    ] as const) {
      const answer = await h.api('POST', '/ingest/api/v1/source', { name: 'x', type, config });
      assert.equal(answer.status, 422, type);
      assert.deepEqual(answer.body.detail[0].loc, loc);
    }
  });
}));
