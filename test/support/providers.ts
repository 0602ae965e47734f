import { createHash, createHmac, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';

/**
 * Test requests signed the way each provider signs them: with the provider's own npm library
 * where one exists (Stripe, GitHub, Standard Webhooks, Twilio), with node:crypto otherwise.
 */
export interface SignedRequest {
  headers: Record<string, string>;
  /** A different body to send, when the signed content lives in the body (Linear's timestamp). */
  body?: string;
}

export interface ProviderCase {
  type: string;
  config: Record<string, unknown>;
  /** The same config with a different secret or key. */
  wrongConfig: Record<string, unknown>;
  contentType: string;
  /** A fresh body: each call names a new event, so providers' event ids never repeat by accident. */
  body(): string;
  /** Whether the signature covers the body (GitLab sends a bare token, which cannot tell a tampered body). */
  signsBody?: boolean;
  /** Signs `body` for the source at `url`, `ageSeconds` ago. */
  sign(body: string, url: string, ageSeconds?: number): Promise<SignedRequest> | SignedRequest;
  /** Whether the scheme signs a timestamp (so a stale one must be refused). */
  timestamped: boolean;
}

const now = () => Math.floor(Date.now() / 1000);
const hmac = (algorithm: string, key: string | Buffer, content: string) => createHmac(algorithm, key).update(content);
const stripe = new Stripe('sk_test_not_used');
const discordKeys = generateKeyPairSync('ed25519');
const discordPublicHex = Buffer.from(discordKeys.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
const otherDiscordPublicHex = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
export const SVIX_SECRET = `whsec_${Buffer.alloc(24, 5).toString('base64')}`;
let delivery = 0;
const next = () => ++delivery;

export const PROVIDER_CASES: ProviderCase[] = [
  {
    type: 'stripe', config: { secret: 'whsec_stripe_test_secret' }, wrongConfig: { secret: 'whsec_another_secret' },
    contentType: 'application/json', timestamped: true,
    // Stripe sends pretty-printed JSON: the body is signed exactly as it is.
    body: () => JSON.stringify({ id: `evt_${next()}`, type: 'invoice.paid', data: { object: { amount: 4200 } } }, null, 2),
    sign: (body, _url, age = 0) => ({ headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_stripe_test_secret', timestamp: now() - age }) } }),
  },
  {
    type: 'github', config: { secret: 'github-secret' }, wrongConfig: { secret: 'not-it' }, contentType: 'application/json', timestamped: false,
    body: () => JSON.stringify({ action: 'opened', number: next() }),
    sign: async (body) => ({ headers: { 'x-hub-signature-256': await githubSign('github-secret', body), 'x-github-event': 'pull_request', 'x-github-delivery': `gh-${++delivery}` } }),
  },
  {
    type: 'shopify', config: { secret: 'shopify-secret' }, wrongConfig: { secret: 'not-it' }, contentType: 'application/json', timestamped: false,
    body: () => JSON.stringify({ id: 820982911946154500 + next(), total_price: '10.00' }),
    sign: (body) => ({ headers: { 'x-shopify-hmac-sha256': hmac('sha256', 'shopify-secret', body).digest('base64'), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': `shop-${++delivery}` } }),
  },
  {
    type: 'slack', config: { secret: '8f742231b10e8888abcd99yyyzzz85a5' }, wrongConfig: { secret: '00000000000000000000000000000000' },
    contentType: 'application/x-www-form-urlencoded', timestamped: true,
    body: () => `token=x&team_id=T1&command=%2Fweather&text=${next()}&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1`,
    sign: (body, _url, age = 0) => {
      const ts = String(now() - age);
      return { headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${hmac('sha256', '8f742231b10e8888abcd99yyyzzz85a5', `v0:${ts}:${body}`).digest('hex')}` } };
    },
  },
  {
    type: 'svix', config: { secret: SVIX_SECRET }, wrongConfig: { secret: `whsec_${Buffer.alloc(24, 6).toString('base64')}` },
    contentType: 'application/json', timestamped: true,
    body: () => JSON.stringify({ type: 'user.created', data: { id: `user_${next()}` } }),
    sign: (body, _url, age = 0) => {
      const id = `msg_test_${++delivery}`;
      const at = new Date((now() - age) * 1000);
      return { headers: { 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new Webhook(SVIX_SECRET).sign(id, at, body) } };
    },
  },
  {
    type: 'twilio', config: { secret: '12345678901234567890123456789012' }, wrongConfig: { secret: 'abcdefabcdefabcdefabcdefabcdefab' },
    contentType: 'application/x-www-form-urlencoded', timestamped: false,
    body: () => `MessageSid=SM${next()}&From=%2B15005550006&To=%2B15005550001&Body=Hello+world%21`,
    sign: (body, url) => ({
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature('12345678901234567890123456789012', url, Object.fromEntries(new URLSearchParams(body))) },
    }),
  },
  {
    type: 'gitlab', config: { secret: 'gitlab-token' }, wrongConfig: { secret: 'not-it' }, contentType: 'application/json', timestamped: false, signsBody: false,
    body: () => JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', after: `${next()}` }),
    sign: () => ({ headers: { 'x-gitlab-token': 'gitlab-token', 'x-gitlab-event': 'Push Hook', 'idempotency-key': `gl-${++delivery}` } }),
  },
  {
    type: 'discord', config: { publicKey: discordPublicHex }, wrongConfig: { publicKey: otherDiscordPublicHex }, contentType: 'application/json', timestamped: false,
    body: () => JSON.stringify({ id: `interaction-${next()}`, type: 2, data: { name: 'hello' } }),
    sign: (body) => {
      const ts = String(now());
      return { headers: { 'x-signature-timestamp': ts, 'x-signature-ed25519': edSign(null, Buffer.from(ts + body), discordKeys.privateKey).toString('hex') } };
    },
  },
  {
    type: 'paddle', config: { secret: 'pdl_ntfset_secret' }, wrongConfig: { secret: 'pdl_ntfset_other' }, contentType: 'application/json', timestamped: true,
    body: () => JSON.stringify({ event_id: `evt_${next()}`, event_type: 'transaction.completed', data: {} }),
    sign: (body, _url, age = 0) => {
      const ts = now() - age;
      return { headers: { 'paddle-signature': `ts=${ts};h1=${hmac('sha256', 'pdl_ntfset_secret', `${ts}:${body}`).digest('hex')}` } };
    },
  },
  {
    type: 'linear', config: { secret: 'lin_wh_secret' }, wrongConfig: { secret: 'lin_wh_other' }, contentType: 'application/json', timestamped: true,
    body: () => JSON.stringify({ type: 'Issue', action: 'create', webhookTimestamp: Date.now(), data: { id: `i${next()}` } }),
    sign: () => ({ headers: {} }),
  },
  {
    type: 'zoom', config: { secret: 'zoom-secret-token' }, wrongConfig: { secret: 'other-token' }, contentType: 'application/json', timestamped: true,
    body: () => JSON.stringify({ event: 'meeting.started', event_ts: next(), payload: { object: { id: 1 } } }),
    sign: (body, _url, age = 0) => {
      const ts = String(now() - age);
      return { headers: { 'x-zm-request-timestamp': ts, 'x-zm-signature': `v0=${hmac('sha256', 'zoom-secret-token', `v0:${ts}:${body}`).digest('hex')}` } };
    },
  },
  {
    type: 'hmac',
    config: { secret: 'acme-secret', header: 'X-Acme-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', signedContent: '{timestamp}.{body}', timestampHeader: 'X-Acme-Timestamp', toleranceSeconds: 120, idHeader: 'X-Acme-Id' },
    wrongConfig: { secret: 'not-it', header: 'X-Acme-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', signedContent: '{timestamp}.{body}', timestampHeader: 'X-Acme-Timestamp', toleranceSeconds: 120 },
    contentType: 'text/xml', timestamped: true,
    body: () => `<event type="order.shipped"><id>${next()}</id></event>`,
    sign: (body, _url, age = 0) => {
      const ts = String(now() - age);
      return { headers: { 'x-acme-timestamp': ts, 'x-acme-id': `acme-${++delivery}`, 'x-acme-signature': `sha512=${hmac('sha512', 'acme-secret', `${ts}.${body}`).digest('base64')}` } };
    },
  },
];

// Linear signs its body, which carries the timestamp: the body is made at signing time.
const linearCase = PROVIDER_CASES.find((c) => c.type === 'linear')!;
linearCase.sign = (body, _url, age = 0) => {
  const parsed = JSON.parse(body) as { webhookTimestamp: number };
  const aged = age ? JSON.stringify({ ...parsed, webhookTimestamp: Date.now() - age * 1000 }) : body;
  return { headers: { 'linear-signature': hmac('sha256', 'lin_wh_secret', aged).digest('hex'), 'linear-delivery': `lin-${++delivery}` }, body: aged };
};

export const sha256Hex = (body: string) => createHash('sha256').update(body).digest('hex');
export { discordKeys };
