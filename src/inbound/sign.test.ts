import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { FIXTURES } from './fixtures/index.ts';
import { discordKeyPair } from './providers/discord.ts';
import { PROVIDERS, SIGNING_TYPES } from './providers/index.ts';
import { parseJson, type InboundRequest } from './request.ts';
import { contentTypeOf, type Signed, SigningError } from './sign.ts';

/**
 * Each provider's `sign` against its own `verify`, for every sample event: what Herald signs, a
 * Herald source of that type accepts, and refuses once the body, the secret or the time is off.
 * (That the providers' own libraries accept it too is test/sign-trigger-verify.test.ts's part.)
 */
const keys = discordKeyPair();
const URL = 'https://hooks.example.com/in/abc?x=1';
const now = Math.floor(Date.now() / 1000);

/** The config a source holds (`verify`) and the one that signs (`sign`), by type. */
function configs(type: string): { sign: Record<string, unknown>; verify: Record<string, unknown> } {
  if (type === 'discord') return { sign: { privateKey: keys.privateKey }, verify: { publicKey: keys.publicKey } };
  if (type === 'hmac') {
    const scheme = { secret: 'whsec_c2VjcmV0IGJ5dGVz', header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', signedContent: '{url}|{id}|{timestamp}|{body}', timestampHeader: 'X-Ts', idHeader: 'X-Id', toleranceSeconds: 60, secretEncoding: 'base64' };
    return { sign: scheme, verify: scheme };
  }
  const secret = type === 'svix' || type === 'clerk' || type === 'standard-webhooks' ? `whsec_${Buffer.alloc(24, 3).toString('base64')}` : `${type}-secret`;
  return { sign: { secret }, verify: { secret } };
}

/** The request as the gateway would see it, sent as signed. */
function received(signed: Signed, body: Buffer, at = now): InboundRequest {
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: 'POST', url: signed.url ?? URL, headers, body, json: parseJson(body), nowSeconds: at };
}

describe('signing', () => {
  for (const type of SIGNING_TYPES) {
    it(`${type}: every sample event signed by Herald verifies as a source of type ${type} verifies, and not with another body`, () => {
      const provider = PROVIDERS[type]!;
      const { sign, verify } = configs(type);
      for (const fixture of FIXTURES[type]!) {
        const body = Buffer.from(fixture.body({ id: randomUUID(), now }));
        const signed = provider.sign!({ body, url: URL, timestamp: now, id: randomUUID(), event: fixture.event }, sign);
        assert.deepEqual(provider.verify(received(signed, body), verify), { ok: true }, fixture.event);
        assert.equal(signed.notes, undefined, 'nothing a verifier would refuse');
        if (type !== 'gitlab') {
          const changed = Buffer.from(body.toString().replace(/\d/, (d) => String((Number(d) + 1) % 10)));
          assert.equal(provider.verify(received(signed, changed), verify).ok, false, `${fixture.event} with a digit changed`);
        }
      }
    });
  }

  it('a timestamp signed long ago fails as stale where the scheme signs one', () => {
    for (const type of ['stripe', 'slack', 'svix', 'paddle', 'zoom', 'hmac']) {
      const body = Buffer.from('{"id":"evt_1"}');
      const { sign, verify } = configs(type);
      const signed = PROVIDERS[type]!.sign!({ body, url: URL, timestamp: now - 3600, id: randomUUID(), event: null }, sign);
      const verdict = PROVIDERS[type]!.verify(received(signed, body), verify);
      assert.equal(verdict.ok, false, type);
      assert.match((verdict as { diagnosis: string }).diagnosis, /The timestamp is 3600 seconds old/, type);
    }
  });

  it('says what it cannot sign: Twilio or a {url} scheme without a URL, a malformed Discord key, a missing secret', () => {
    const body = Buffer.from('a=b');
    const input = { body, url: null, timestamp: now, id: 'x', event: null };
    assert.throws(() => PROVIDERS.twilio!.sign!(input, { secret: 's' }), SigningError);
    assert.throws(() => PROVIDERS.hmac!.sign!(input, { secret: 's', header: 'X', signedContent: '{url}{body}' }), SigningError);
    assert.throws(() => PROVIDERS.discord!.sign!(input, { privateKey: 'ab' }), /64 hex characters/);
    assert.throws(() => PROVIDERS.stripe!.sign!(input, {}), /Stripe signs with a secret/);
  });

  it('puts a JSON body\'s hash in the URL Twilio signs, so another body fails', () => {
    const json = Buffer.from('{"a":1}');
    const signed = PROVIDERS.twilio!.sign!({ body: json, url: URL, timestamp: now, id: 'x', event: null }, { secret: 's' });
    assert.match(signed.url!, /^https:\/\/hooks\.example\.com\/in\/abc\?x=1&bodySHA256=[0-9a-f]{64}$/);
    assert.deepEqual(PROVIDERS.twilio!.verify(received(signed, Buffer.from('{"a":2}')), { secret: 's' }).ok, false);
  });

  it('notes a Linear body without a fresh webhookTimestamp, which Linear\'s verifiers refuse', () => {
    const sign = (body: string) => PROVIDERS.linear!.sign!({ body: Buffer.from(body), url: null, timestamp: now, id: 'x', event: null }, { secret: 's' }).notes;
    assert.match(sign('{"type":"Issue"}')![0]!, /lacks/);
    assert.match(sign(`{"webhookTimestamp":${(now - 600) * 1000}}`)![0]!, /600 seconds from now; Linear allows 60/);
    assert.equal(sign(`{"webhookTimestamp":${now * 1000}}`), undefined);
  });

  it('gives JSON, forms and anything else the content type a provider would', () => {
    assert.equal(contentTypeOf(Buffer.from('{"a": [1]}')), 'application/json');
    assert.equal(contentTypeOf(Buffer.from('From=%2B1&Body=Hi+there')), 'application/x-www-form-urlencoded');
    assert.equal(contentTypeOf(Buffer.from('<xml/>')), 'text/plain');
  });
});
