import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { SOURCE_TYPES, UNVERIFIED_TYPES } from '../src/inbound/providers/index.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { PROVIDER_CASES } from './support/providers.ts';
import { rawRequest } from './support/raw-request.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';

/**
 * Whatever a stranger sends to a source's URL, the answer is 2xx, 401, 413 or 415, never a 5xx:
 * bodies nested a hundred thousand levels deep, too large, not UTF-8, with any content type, and
 * JSON whose fields providers read (ids, types, challenges) hold the wrong kinds of value. What is
 * refused is kept and listed like any rejected request, and the process stays up. The fuzz suite
 * (test/fuzz.test.ts) throws random bodies at the same URLs; these are the cases worth naming.
 */

const DEEP = 100_000;
const STRIPE_SECRET = 'whsec_stripe_test_secret';
/** Stripe's scheme over the exact bytes (its library signs strings, which would re-encode bytes that are not UTF-8). */
const stripeSigned = (body: string | Buffer) => {
  const ts = Math.floor(Date.now() / 1000);
  return { 'stripe-signature': `t=${ts},v1=${createHmac('sha256', STRIPE_SECRET).update(`${ts}.`).update(body).digest('hex')}` };
};
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const slackSigned = (body: string) => {
  const ts = String(Math.floor(Date.now() / 1000));
  return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}` };
};

/** Unsigned bodies whose fields have the kinds no provider sends, in every field some provider reads. */
const JUNK_BODIES = [
  '{"type":{"x":1}}',
  '{"id":[1]}',
  '{"id":5,"type":[],"event_id":{"a":1},"event_type":7,"event":{"type":{"x":1}},"action":{"x":1},"challenge":{"x":1},"payload":{"plainToken":[1]},"webhookTimestamp":"soon","eventType":{}}',
  '{"event":"endpoint.url_validation","payload":{"plainToken":{"x":1}}}',
  '{"type":"url_verification","challenge":[[[]]]}',
  '[1,2,3]',
  '"just a string"',
  `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
];

await forEachStore((store) => describe(`hostile requests to source URLs (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  async function source(type: string, config: Record<string, unknown>) {
    const created = await h.api('POST', '/ingest/api/v1/source', { name: `${type} source`, type, config });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const endpoint = await h.api('POST', `/ingest/api/v1/source/${created.body.id}/endpoint`, { url: `${receiver.url}/${type}` });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    return { id: created.body.id as string, url: created.body.ingestUrl as string };
  }

  const messagesOf = async (sourceId: string) => {
    const listed = await h.api('GET', `/ingest/api/v1/source/${sourceId}/msg?limit=250`);
    assert.equal(listed.status, 200, `listing what the source received: ${JSON.stringify(listed.body)?.slice(0, 300)}`);
    return listed.body.data as Array<{ id: string; eventType: string; eventId: string; inbound: { verified: boolean | null; diagnosis: string | null } }>;
  };

  describe('bodies no provider would send', () => {
    let generic: { id: string; url: string };
    let signed: { id: string; url: string };
    let slack: { id: string; url: string };
    before(async () => {
      generic = await source('generic-webhook', {});
      signed = await source('stripe', { secret: STRIPE_SECRET });
      slack = await source('slack', { secret: SLACK_SECRET });
    });

    const deepValid = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
    const deepObjects = `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;
    const cases: Array<{ does: string; body: string | Buffer; headers?: Record<string, string>; status: number[] }> = [
      { does: `${DEEP} unclosed [`, body: '['.repeat(DEEP), status: [200] },
      { does: `an array nested ${DEEP} levels deep`, body: deepValid, status: [200] },
      { does: `an object nested ${DEEP} levels deep`, body: deepObjects, status: [200] },
      { does: 'bytes that are not UTF-8', body: Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00, 0x7b]), status: [200] },
      { does: 'JSON with lone surrogates and NUL escapes', body: '{"id":"\\udc00","type":"\\ud800\\u0000","\\udc00":"\\u0000"}', status: [200] },
      { does: 'no content-type', body: '{"a":1}', headers: {}, status: [200] },
      { does: 'a content-type that is not one', body: '{"a":1}', headers: { 'content-type': ';;;="' }, status: [200, 415] },
      { does: 'a multipart content-type over JSON', body: '{"a":1}', headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: [200] },
      { does: 'gzip claimed over plain bytes', body: '{"a":1}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, status: [200] },
      { does: '50 MB', body: Buffer.alloc(50 * 1024 * 1024, '['), status: [413] },
    ];

    for (const c of cases) {
      const headers = c.headers ?? { 'content-type': 'application/json' };
      it(`a generic source answers ${c.does} with ${c.status.join(' or ')}`, async () => {
        const answer = await rawRequest(generic.url, { headers, body: c.body });
        assert.ok(c.status.includes(answer.status), `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)}`);
      });
      it(`a signed source answers ${c.does}, signed, with ${c.status.join(' or ')}`, async () => {
        const answer = await rawRequest(signed.url, { headers: { ...headers, ...stripeSigned(c.body) }, body: c.body });
        assert.ok(c.status.includes(answer.status), `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)}`);
      });
      it(`a signed source answers ${c.does}, signed wrongly, with ${c.status.map((s) => (s === 200 ? 401 : s)).join(' or ')}`, async () => {
        const answer = await rawRequest(signed.url, { headers: { ...headers, 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, body: c.body });
        assert.ok(c.status.map((s) => (s === 200 ? 401 : s)).includes(answer.status), `${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 300)}`);
      });
    }

    it('answers Slack\'s url_verification only for a challenge that is a string, and forwards the rest', async () => {
      const deep = `{"type":"url_verification","challenge":${deepValid}}`;
      const answer = await rawRequest(slack.url, { headers: { 'content-type': 'application/json', ...slackSigned(deep) }, body: deep });
      assert.equal(answer.status, 200, JSON.stringify(answer.body)?.slice(0, 300));
      assert.equal(answer.body, null, 'not answered as a handshake');
      const object = '{"type":"url_verification","challenge":{"x":1}}';
      const second = await rawRequest(slack.url, { headers: { 'content-type': 'application/json', ...slackSigned(object) }, body: object });
      assert.equal(second.status, 200);
      assert.equal(second.body, null, 'not answered as a handshake');
    });

    it('lists every request it kept, however deep its body, and is still up', async () => {
      for (const s of [generic, signed, slack]) assert.ok((await messagesOf(s.id)).length > 0);
      const deep = (await messagesOf(generic.id)).find((m) => m.inbound.verified === null);
      assert.ok(deep);
      assert.equal((await h.api('GET', '/api/v1/health')).status, 204);
    });
  });

  describe('unsigned junk to every signed source type', () => {
    // The aliases of Standard Webhooks take its config; every other type has a provider case.
    const configOf = (type: string) =>
      PROVIDER_CASES.find((c) => c.type === type)?.config ?? (['standard-webhooks', 'clerk'].includes(type) ? PROVIDER_CASES.find((c) => c.type === 'svix')!.config : null);
    const signedTypes = SOURCE_TYPES.filter((type) => !UNVERIFIED_TYPES.has(type));

    it('knows a config for every signed source type', () => {
      assert.deepEqual(signedTypes.filter((type) => !configOf(type)), []);
    });

    for (const type of signedTypes) {
      it(`${type}: answers unsigned bodies with fields of unexpected types with 401, and keeps them as rejected`, async () => {
        const s = await source(type, configOf(type)!);
        for (const body of JUNK_BODIES) {
          const answer = await rawRequest(s.url, { headers: { 'content-type': 'application/json' }, body });
          assert.equal(answer.status, 401, `${body.slice(0, 80)}: ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`);
          assert.equal(answer.body.code, 'signature_invalid');
        }
        const kept = await messagesOf(s.id);
        assert.equal(kept.length, JUNK_BODIES.length, 'every rejected request is kept');
        for (const message of kept) {
          assert.equal(message.inbound.verified, false);
          assert.equal(typeof message.inbound.diagnosis, 'string');
          assert.ok(message.inbound.diagnosis!.length > 0);
          assert.match(message.eventType, /^[a-zA-Z0-9\-_.]{1,256}$/);
        }
      });
    }
  });

  describe('provider ids and types of the wrong kind', () => {
    it('accepts signed events whose id or type is not a string, sent together with good ones, and stores them all', async () => {
      const s = await source('stripe', { secret: STRIPE_SECRET });
      const bad = ['{"id":[1],"type":"invoice.paid"}', '{"id":{"x":1},"type":"invoice.paid"}', '{"id":12345,"type":"invoice.paid"}', '{"id":"evt_typed","type":{"x":1}}', '{"id":null,"type":["a"]}'];
      const good = Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `evt_good_${i}`, type: 'invoice.paid' }));
      const bodies = [...good.slice(0, 10), ...bad, ...good.slice(10)];
      const answers = await Promise.all(bodies.map((body) => rawRequest(s.url, { headers: { 'content-type': 'application/json', ...stripeSigned(body) }, body })));
      answers.forEach((answer, i) => assert.equal(answer.status, 200, `${bodies[i]}: ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`));
      const kept = await messagesOf(s.id);
      assert.equal(kept.length, bodies.length);
      for (const id of good.map((body) => JSON.parse(body).id)) assert.ok(kept.some((m) => m.eventId === id), `${id} is stored`);
      for (const message of kept) {
        assert.equal(message.inbound.verified, true);
        assert.match(message.eventId, /^[a-zA-Z0-9\-_.]{1,256}$/);
        assert.match(message.eventType, /^[a-zA-Z0-9\-_.]{1,256}$/);
      }
    });
  });
}));
