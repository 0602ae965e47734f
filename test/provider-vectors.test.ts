import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { it } from 'node:test';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { Environment, LogLevel, Paddle } from '@paddle/paddle-node-sdk';
import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { AwsLambdaReceiver } from '@zoom/rivet/meetings';
import { verifyKey } from 'discord-interactions';
import { PROVIDERS } from '../src/inbound/providers/index.ts';
import { type InboundRequest, parseJson } from '../src/inbound/request.ts';

/**
 * Each provider's verifier against requests that Herald's own signing code never vouched for: a
 * worked example published in the provider's documentation, or a request that the provider's own
 * npm library accepts. Herald must accept each one, and refuse it once any byte the provider signs
 * is changed, where the provider's library (when there is one) refuses it too.
 *
 * Pages are cited without their scheme: they are read by people, never fetched by a test.
 */
interface Sent {
  headers: Record<string, string>;
  body: string;
}

interface Vector {
  /** The test's name, a sentence. */
  name: string;
  type: string;
  config: Record<string, unknown>;
  /** A request as the provider sends it, made afresh for each run when it carries a timestamp. */
  sent(): Sent;
  /** When Herald receives it, in Unix seconds (a published example is from the past). */
  nowSeconds?: number;
  /** The provider's library's verdict on a request, where the vector comes from that library. */
  vendor?(sent: Sent): Promise<boolean> | boolean;
  /** The header carrying the signature (or GitLab's token). */
  proof: string;
  /** Other signed headers, each of which must also break the vector when a byte of it changes. */
  signed?: string[];
  /** Whether the body is signed (GitLab sends a bare token, so its body is not). */
  signsBody?: boolean;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/**
 * JSON as a provider may write it, with spaces: what is signed is these bytes, so a verifier that
 * re-serialised the JSON it parsed would fail. (Zoom's library re-serialises, so Zoom's body is compact.)
 */
const pretty = (value: unknown) => JSON.stringify(value, null, 2);
const hmac = (key: string, content: string, encoding: 'hex' | 'base64') => createHmac('sha256', key).update(content).digest(encoding);

const ALPHABETS = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];

/** The same string with one character, at `from` or the first letter or digit after it, changed to the next of its kind: the format stays valid. */
function changeOneByte(text: string, from: number): string {
  for (let at = from; at < text.length; at++) {
    const alphabet = ALPHABETS.find((letters) => letters.includes(text[at]!));
    if (alphabet) return text.slice(0, at) + alphabet[(alphabet.indexOf(text[at]!) + 1) % alphabet.length] + text.slice(at + 1);
  }
  throw new Error(`nothing to change in ${text}`);
}

/** Every request that differs from `sent` by one byte the provider signs, named by where the byte is. */
function tampered(vector: Vector, sent: Sent): Array<[string, Sent]> {
  const changes: Array<[string, Sent]> = [];
  if (vector.signsBody !== false) changes.push(['a byte of the body changed', { headers: sent.headers, body: changeOneByte(sent.body, Math.floor(sent.body.length / 2)) }]);
  for (const name of [vector.proof, ...(vector.signed ?? [])]) {
    const value = sent.headers[name]!;
    // Well inside the value: past any `v0=` or `ts=…;h1=` prefix, before any base64 padding.
    changes.push([`a byte of ${name} changed`, { headers: { ...sent.headers, [name]: changeOneByte(value, Math.max(0, value.length - 8)) }, body: sent.body }]);
  }
  return changes;
}

/** The request as Herald's receive route hands it to a verifier: lower-case headers, raw bytes, parsed JSON. */
function inbound(sent: Sent, now: number): InboundRequest {
  const body = Buffer.from(sent.body);
  const headers = Object.fromEntries(Object.entries(sent.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: 'POST', url: 'http://127.0.0.1:9/in/vector', headers, body, json: parseJson(body), nowSeconds: now };
}

// Discord's library only verifies: the request is signed here, and Discord's code is the judge.
const discordKeys = generateKeyPairSync('ed25519');
const discordPublicKey = Buffer.from(discordKeys.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');

const PADDLE_SECRET = 'pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI';
const LINEAR_SECRET = 'lin_wh_secret_from_the_webhook_settings';
const paddle = new Paddle('pdl_apikey_not_used', { environment: Environment.sandbox, logLevel: LogLevel.error });
const shopify = shopifyApi({
  apiKey: 'not-used', apiSecretKey: 'shopify-client-secret', scopes: [], hostName: '127.0.0.1', apiVersion: ApiVersion.January26, isEmbeddedApp: false,
  logger: { level: LogSeverity.Error, log: async () => {} },
});
// Rivet types its Lambda handler with aws-lambda's types, which nothing here installs.
type LambdaHandler = (event: { body: string; headers: Record<string, string> }, context: object) => Promise<{ statusCode: number }>;
const zoom = new AwsLambdaReceiver({ webhooksSecretToken: 'zoom-secret-token' }).start() as unknown as LambdaHandler;

/** Zoom's receiver logs every event it is handed at debug level. */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const debug = console.debug;
  console.debug = () => {};
  try {
    return await run();
  } finally {
    console.debug = debug;
  }
}

const VECTORS: Vector[] = [
  {
    name: 'Slack: Herald accepts the worked example of Slack\'s documentation, and refuses it with any signed byte changed',
    type: 'slack',
    // docs.slack.dev/authentication/verifying-requests-from-slack ("Validating a request"): secret, timestamp, body and signature as published.
    config: { secret: '8f742231b10e8888abcd99yyyzzz85a5' },
    sent: () => ({
      headers: { 'X-Slack-Request-Timestamp': '1531420618', 'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' },
      body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    }),
    nowSeconds: 1531420618 + 60,
    proof: 'X-Slack-Signature',
    signed: ['X-Slack-Request-Timestamp'],
  },
  {
    name: 'Shopify: Herald accepts a webhook that Shopify\'s own library verifies, and refuses it with any signed byte changed',
    type: 'shopify',
    // @shopify/shopify-api's shopify.webhooks.validate, which also wants the topic, shop, API version and webhook id headers.
    config: { secret: 'shopify-client-secret' },
    sent: () => {
      const body = pretty({ id: 820982911946154500, email: 'jon@doe.ca', total_price: '398.00', currency: 'USD' });
      return {
        body,
        headers: {
          'X-Shopify-Hmac-Sha256': hmac('shopify-client-secret', body, 'base64'),
          'X-Shopify-Topic': 'orders/create', 'X-Shopify-Shop-Domain': 'example-shop.myshopify.io', 'X-Shopify-API-Version': ApiVersion.January26,
          'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', 'X-Shopify-Triggered-At': '2023-03-29T18:00:27.877041743Z',
        },
      };
    },
    vendor: async (sent) => {
      const request = new Request('http://127.0.0.1:9/webhooks', { method: 'POST', headers: sent.headers, body: sent.body });
      return (await shopify.webhooks.validate({ rawBody: sent.body, rawRequest: request })).valid;
    },
    proof: 'X-Shopify-Hmac-Sha256',
  },
  {
    name: 'Zoom: Herald accepts an event that Zoom\'s own library (Rivet) verifies, and refuses it with any signed byte changed',
    type: 'zoom',
    // @zoom/rivet's AwsLambdaReceiver, which answers 200 to a verified event and 400 otherwise. Rivet verifies
    // JSON.stringify of the parsed body, so the body is compact JSON, as Zoom sends it.
    config: { secret: 'zoom-secret-token' },
    sent: () => {
      const body = JSON.stringify({ event: 'meeting.started', event_ts: 1626230691572, payload: { account_id: 'AAAAAABBBB', object: { id: '1234567890', uuid: '4444AAAiAAAAAiAiAiiAii==', topic: 'My Meeting', type: 2 } } });
      const timestamp = String(nowSeconds());
      return { body, headers: { 'x-zm-request-timestamp': timestamp, 'x-zm-signature': `v0=${hmac('zoom-secret-token', `v0:${timestamp}:${body}`, 'hex')}` } };
    },
    vendor: async (sent) => (await quietly(() => zoom({ body: sent.body, headers: sent.headers }, {}))).statusCode === 200,
    proof: 'x-zm-signature',
    signed: ['x-zm-request-timestamp'],
  },
  {
    name: 'Paddle: Herald accepts a notification that Paddle\'s own SDK verifies, and refuses it with any signed byte changed',
    type: 'paddle',
    // @paddle/paddle-node-sdk's paddle.webhooks.isSignatureValid, which also allows five seconds for the timestamp.
    config: { secret: PADDLE_SECRET },
    sent: () => {
      const body = pretty({ event_id: 'evt_01h8441jx8x9fyp4dgbwhmd5tj', event_type: 'transaction.completed', occurred_at: '2023-08-21T11:57:49.121384Z', notification_id: 'ntf_01h8441k0cgqr1ej7rzfs6s1fr', data: { id: 'txn_01h8441a1ks5g8s1awd5wfdq1k', status: 'completed' } });
      const ts = nowSeconds();
      return { body, headers: { 'Paddle-Signature': `ts=${ts};h1=${hmac(PADDLE_SECRET, `${ts}:${body}`, 'hex')}` } };
    },
    vendor: (sent) => paddle.webhooks.isSignatureValid(sent.body, PADDLE_SECRET, sent.headers['Paddle-Signature']!),
    proof: 'Paddle-Signature',
  },
  {
    name: 'Linear: Herald accepts a webhook that Linear\'s own SDK verifies, and refuses it with any signed byte changed',
    type: 'linear',
    // @linear/sdk/webhooks's LinearWebhookClient.verify, which also checks the signed webhookTimestamp.
    config: { secret: LINEAR_SECRET },
    sent: () => {
      const body = pretty({ action: 'create', type: 'Issue', createdAt: '2024-01-01T00:00:00.000Z', data: { id: '2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9', title: 'A bug' }, url: 'linear-issue-ENG-1', webhookTimestamp: Date.now(), webhookId: '000042e3-d123-4980-b49f-8e140eef9329' });
      return { body, headers: { 'Linear-Signature': hmac(LINEAR_SECRET, body, 'hex'), 'Linear-Delivery': '234d1a4e-b617-4388-90fe-adc3633d6b72', 'Linear-Event': 'Issue' } };
    },
    vendor: (sent) => {
      try {
        return new LinearWebhookClient(LINEAR_SECRET).verify(Buffer.from(sent.body), sent.headers['Linear-Signature']!);
      } catch {
        return false;
      }
    },
    proof: 'Linear-Signature',
  },
  {
    name: 'Discord: Herald accepts an interaction that Discord\'s own library verifies, and refuses it with any signed byte changed',
    type: 'discord',
    // discord-interactions' verifyKey, the check Discord's documentation points to.
    config: { publicKey: discordPublicKey },
    sent: () => {
      const body = pretty({ application_id: '123456789012345678', id: '987654321098765432', token: 'A_UNIQUE_TOKEN', type: 2, data: { id: '771825006014889984', name: 'blep', type: 1 } });
      const timestamp = String(nowSeconds());
      return { body, headers: { 'X-Signature-Timestamp': timestamp, 'X-Signature-Ed25519': sign(null, Buffer.from(timestamp + body), discordKeys.privateKey).toString('hex') } };
    },
    vendor: (sent) => verifyKey(sent.body, sent.headers['X-Signature-Ed25519']!, sent.headers['X-Signature-Timestamp']!, discordPublicKey),
    proof: 'X-Signature-Ed25519',
    signed: ['X-Signature-Timestamp'],
  },
  {
    name: 'GitLab: Herald accepts a push with the headers GitLab\'s documentation lists, and refuses it with any byte of the token changed',
    type: 'gitlab',
    // docs.gitlab.com/user/project/integrations/webhooks ("Create a webhook": the secret token is sent as it is in
    // X-Gitlab-Token; "Delivery headers": the example values below), and the push event of .../webhook_events, abridged:
    // GitLab signs nothing, so its token covers no byte of the body.
    config: { secret: 'gitlab-secret-token' },
    sent: () => ({
      headers: {
        'User-Agent': 'GitLab/15.5.0-pre', 'X-Gitlab-Webhook-UUID': '02affd2d-2cba-4033-917d-ec22d5dc4b38', 'X-Gitlab-Event': 'Push Hook',
        'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e', 'Idempotency-Key': 'f5e5f430-f57b-4e6e-9fac-d9128cd7232f', 'X-Gitlab-Token': 'gitlab-secret-token',
      },
      body: JSON.stringify({ object_kind: 'push', event_name: 'push', before: '95790bf891e76fee5e1747ab589903a6a1f80f22', after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/heads/master', user_username: 'jsmith', project_id: 15, total_commits_count: 4 }),
    }),
    proof: 'X-Gitlab-Token',
    signsBody: false,
  },
];

for (const vector of VECTORS) {
  it(vector.name, async () => {
    const verify = (sent: Sent) => PROVIDERS[vector.type]!.verify(inbound(sent, vector.nowSeconds ?? nowSeconds()), vector.config);
    const sent = vector.sent();
    if (vector.vendor) assert.equal(await vector.vendor(sent), true, 'the provider\'s library accepts the vector');
    assert.deepEqual(verify(sent), { ok: true });
    for (const [what, changed] of tampered(vector, sent)) {
      if (vector.vendor) assert.equal(await vector.vendor(changed), false, `the provider's library refuses it with ${what}`);
      assert.equal(verify(changed).ok, false, `Herald refuses it with ${what}`);
    }
  });
}
