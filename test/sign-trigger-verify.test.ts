import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { verify as githubVerify } from '@octokit/webhooks-methods';
import { Environment, LogLevel, Paddle } from '@paddle/paddle-node-sdk';
import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { AwsLambdaReceiver } from '@zoom/rivet/meetings';
import { verifyKey } from 'discord-interactions';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { FIXTURES } from '../src/inbound/fixtures/index.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type CliResult, runCli } from './support/process.ts';
import { trackFailures } from './support/stores.ts';

/**
 * `herald sign`, `trigger` and `verify` run as a user runs them, in a child process. What they
 * sign is judged twice, by parties that never saw Herald's signing code: the provider's own npm
 * library (where the repository has one), in a service on loopback that answers 200 only to what
 * the library accepts, and a Herald source of the provider's type, whose verifier is pinned
 * against published vectors and the same libraries in provider-vectors.test.ts.
 */


type Result = CliResult;

const herald = (args: string[], input = '') => runCli(args, { ...process.env, NO_COLOR: '1' }, input);

function sh(script: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const SECRETS: Record<string, string> = {
  stripe: 'whsec_herald_cli_stripe',
  github: 'github-cli-secret',
  shopify: 'shopify-cli-client-secret',
  slack: '8f742231b10e8888abcd99yyyzzz85a5',
  svix: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
  'standard-webhooks': `whsec_${Buffer.alloc(32, 8).toString('base64')}`,
  clerk: `whsec_${Buffer.alloc(24, 9).toString('base64')}`,
  twilio: '12345678901234567890123456789012',
  gitlab: 'gitlab-cli-token',
  paddle: 'pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_cli',
  linear: 'lin_wh_cli_secret',
  zoom: 'zoom-cli-secret-token',
  hmac: 'acme-cli-secret',
};
/** An hmac scheme with every part: a prefix, base64, SHA-512, a signed timestamp, id and URL. */
const HMAC_SCHEME = { header: 'X-Acme-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', signedContent: '{id}.{timestamp}.{url}.{body}', timestampHeader: 'X-Acme-Timestamp', idHeader: 'X-Acme-Id', toleranceSeconds: 120 };
const HMAC_FLAGS = ['--signature-header', 'X-Acme-Signature', '--algorithm', 'sha512', '--encoding', 'base64', '--prefix', 'sha512=', '--signed-content', '{id}.{timestamp}.{url}.{body}', '--timestamp-header', 'X-Acme-Timestamp', '--id-header', 'X-Acme-Id'];

/** The command-line key of a type: its secret, Discord's private key, an hmac scheme's flags. */
let discordKeys: { publicKey: string; privateKey: string };
const keyArgs = (type: string, secret = SECRETS[type]!) =>
  type === 'discord' ? ['--private-key', discordKeys.privateKey] : type === 'hmac' ? ['--secret', secret, ...HMAC_FLAGS] : ['--secret', secret];

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

const stripe = new Stripe('sk_test_not_used');
const paddle = new Paddle('pdl_apikey_not_used', { environment: Environment.sandbox, logLevel: LogLevel.error });
const shopify = shopifyApi({
  apiKey: 'not-used', apiSecretKey: SECRETS.shopify!, scopes: [], hostName: '127.0.0.1', apiVersion: ApiVersion.January26, isEmbeddedApp: false,
  logger: { level: LogSeverity.Error, log: async () => {} },
});
type LambdaHandler = (event: { body: string; headers: Record<string, string> }, context: object) => Promise<{ statusCode: number }>;
const zoom = new AwsLambdaReceiver({ webhooksSecretToken: SECRETS.zoom! }).start() as unknown as LambdaHandler;

const attempt = async (check: () => unknown) => {
  try {
    return (await check()) !== false;
  } catch {
    return false;
  }
};

/** Each provider's own library, judging a request; where the repository has none, no entry. */
const VENDORS: Record<string, (seen: Seen) => Promise<boolean>> = {
  stripe: (s) => attempt(() => stripe.webhooks.constructEvent(s.body.toString(), s.headers['stripe-signature']!, SECRETS.stripe!)),
  github: (s) => attempt(() => githubVerify(SECRETS.github!, s.body.toString(), s.headers['x-hub-signature-256']!)),
  shopify: (s) => attempt(async () => {
    const request = new Request(s.url, { method: 'POST', headers: s.headers, body: new Uint8Array(s.body) });
    return (await shopify.webhooks.validate({ rawBody: s.body.toString(), rawRequest: request })).valid;
  }),
  svix: (s) => attempt(() => new SvixWebhook(SECRETS.svix!).verify(s.body.toString(), s.headers)),
  clerk: (s) => attempt(() => new SvixWebhook(SECRETS.clerk!).verify(s.body.toString(), s.headers)),
  'standard-webhooks': (s) => attempt(() => new StandardWebhook(SECRETS['standard-webhooks']!).verify(s.body.toString(), s.headers)),
  twilio: (s) => attempt(() => {
    const form = (s.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    return form
      ? twilio.validateRequest(SECRETS.twilio!, s.headers['x-twilio-signature']!, s.url, Object.fromEntries(new URLSearchParams(s.body.toString())))
      : twilio.validateRequestWithBody(SECRETS.twilio!, s.headers['x-twilio-signature']!, s.url, s.body.toString());
  }),
  paddle: (s) => attempt(() => paddle.webhooks.isSignatureValid(s.body.toString(), SECRETS.paddle!, s.headers['paddle-signature']!)),
  linear: (s) => attempt(() => new LinearWebhookClient(SECRETS.linear!).verify(s.body, s.headers['linear-signature']!)),
  zoom: (s) => attempt(async () => {
    const debug = console.debug;
    console.debug = () => {}; // Rivet logs every event it is handed
    try {
      return (await zoom({ body: s.body.toString(), headers: s.headers }, {})).statusCode === 200;
    } finally {
      console.debug = debug;
    }
  }),
  discord: (s) => attempt(() => verifyKey(s.body, s.headers['x-signature-ed25519']!, s.headers['x-signature-timestamp']!, discordKeys.publicKey)),
};
const LIBRARIES: Record<string, string> = {
  stripe: 'stripe', github: '@octokit/webhooks-methods', shopify: '@shopify/shopify-api', svix: 'svix', clerk: 'svix', 'standard-webhooks': 'standardwebhooks',
  twilio: 'twilio', paddle: '@paddle/paddle-node-sdk', linear: '@linear/sdk', zoom: '@zoom/rivet', discord: 'discord-interactions',
};

const TYPES = Object.keys(FIXTURES);
/** The header naming the event, for the providers that send one, and what it holds for each sample event. */
const EVENT_HEADERS: Record<string, [string, (event: string) => string]> = {
  github: ['x-github-event', (event) => event],
  shopify: ['x-shopify-topic', (event) => event],
  gitlab: ['x-gitlab-event', (event) => ({ push: 'Push Hook' })[event]!],
  linear: ['linear-event', (event) => event.split('.')[0]!],
};
const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

describe('herald sign, trigger and verify', () => {
  const failures = trackFailures();
  let h: TestHerald;
  let service: Server;
  let serviceUrl: string;
  let dir: string;
  /** What the service received at each provider's path, with its library's verdict (null: no library). */
  const received: Array<{ type: string; verdict: boolean | null; seen: Seen }> = [];
  /** Each type's Herald source. */
  const sources: Record<string, { id: string; url: string }> = {};

  before(async () => {
    h = await startTestHerald();
    dir = mkdtempSync(join(tmpdir(), 'herald-sign-'));
    const generated = await herald(['sign', 'discord', '--generate-key', '--json']);
    assert.equal(generated.code, 0, generated.stderr);
    discordKeys = JSON.parse(generated.stdout);
    service = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const type = (req.url ?? '').split(/[/?]/)[1]!;
        const seen = { url: `${serviceUrl}${req.url}`, headers: flat(req.headers), body: Buffer.concat(chunks) };
        const vendor = VENDORS[type];
        const verdict = vendor ? await vendor(seen) : null;
        received.push({ type, verdict, seen });
        res.writeHead(verdict === false ? 400 : 200).end(verdict === false ? 'refused' : 'verified');
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    await Promise.all(TYPES.map(async (type) => {
      const config = type === 'discord' ? { publicKey: discordKeys.publicKey } : type === 'hmac' ? { secret: SECRETS.hmac, ...HMAC_SCHEME } : { secret: SECRETS[type] };
      const created = await h.api('POST', '/ingest/api/v1/source', { name: `${type} for the CLI`, type, config });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      sources[type] = { id: created.body.id, url: created.body.ingestUrl };
    }));
  });
  after(async () => {
    await h.close(failures.any());
    await new Promise((resolve) => service.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const type of TYPES) {
    const judge = LIBRARIES[type] ? `${LIBRARIES[type]} verifies` : 'a service receives';
    it(`herald trigger ${type}: each sample event arrives signed, so that ${judge} it and a Herald ${type} source accepts it as verified`, async () => {
      for (const { event } of FIXTURES[type]!) {
        const before = received.length;
        const [toService, toSource] = await Promise.all([
          herald(['trigger', type, event, ...keyArgs(type), '--to', `${serviceUrl}/${type}`]),
          herald(['trigger', type, event, ...keyArgs(type), '--to', sources[type]!.url]),
        ]);
        assert.equal(toService.code, 0, `${event} to the service: ${toService.stdout}${toService.stderr}`);
        assert.match(toService.stdout, /^200 OK in \d+ ms$/m);
        const arrived = received.slice(before).filter((r) => r.type === type);
        assert.equal(arrived.length, 1);
        if (LIBRARIES[type]) assert.equal(arrived[0]!.verdict, true, `${LIBRARIES[type]} accepts ${event}`);
        assert.ok(arrived[0]!.seen.body.length > 100, 'a realistic body, not a stub');
        const eventHeader = EVENT_HEADERS[type];
        if (eventHeader) assert.equal(arrived[0]!.seen.headers[eventHeader[0]], eventHeader[1](event), `the ${eventHeader[0]} header names ${event}`);
        assert.equal(toSource.code, 0, `${event} to the source: ${toSource.stdout}${toSource.stderr}`);
      }
      // Everything the source kept (Discord's PING is answered, not kept) passed its verification.
      const kept = (await h.api('GET', `/ingest/api/v1/source/${sources[type]!.id}/msg?with_content=false`)).body.data as Array<{ inbound: { verified: boolean } }>;
      assert.equal(kept.length, FIXTURES[type]!.filter((f) => f.event !== 'ping').length);
      assert.ok(kept.every((message) => message.inbound.verified === true));
    });
  }

  it('herald trigger sends fresh ids each time, so a provider\'s retries are not what it sends', async () => {
    const before = received.length;
    const sent = await Promise.all([1, 2].map(() => herald(['trigger', 'github', 'pull_request', ...keyArgs('github'), '--to', `${serviceUrl}/github`])));
    assert.deepEqual(sent.map((result) => result.code), [0, 0]);
    const [first, second] = received.slice(before).map((r) => r.seen);
    assert.notEqual(first!.headers['x-github-delivery'], second!.headers['x-github-delivery']);
    assert.notEqual(JSON.parse(first!.body.toString()).pull_request.id, JSON.parse(second!.body.toString()).pull_request.id);
  });

  it('herald trigger lists the sample events, sends a body of your own, and exits 1 when the answer is not 2xx', async () => {
    const listed = await herald(['trigger', 'stripe', '--list']);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^payment_intent\.succeeded +\S.*\ncheckout\.session\.completed +\S/);

    writeFileSync(join(dir, 'own.json'), '{"id":"evt_own","type":"invoice.paid"}');
    const before = received.length;
    const own = await herald(['trigger', 'stripe', '--secret', SECRETS.stripe!, '--to', `${serviceUrl}/stripe`, '--body', `@${join(dir, 'own.json')}`]);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(received[before]!.seen.body.toString(), '{"id":"evt_own","type":"invoice.paid"}');
    assert.equal(received[before]!.verdict, true);

    const wrong = await herald(['trigger', 'stripe', '--secret', 'whsec_not_it', '--to', sources.stripe!.url]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^401 Unauthorized in \d+ ms$/m);
    assert.match(wrong.stderr, /signature_invalid.*Stripe-Signature signature does not match/);

    const unknown = await herald(['trigger', 'stripe', 'no.such.event', '--secret', 'x', '--to', serviceUrl]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /event must be one of payment_intent\.succeeded, checkout\.session\.completed/);
    const noTarget = await herald(['trigger', 'stripe', '--secret', 'x']);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /--to is required/);
  });

  for (const type of Object.keys(VENDORS)) {
    it(`herald sign ${type} prints headers that ${LIBRARIES[type]} verifies`, async () => {
      const fixture = FIXTURES[type]!.at(-1)!;
      const file = join(dir, `${type}.body`);
      writeFileSync(file, fixture.body({ id: crypto.randomUUID(), now: Math.floor(Date.now() / 1000) }));
      const url = `${serviceUrl}/${type}/signed`;
      const signed = await herald(['sign', type, ...keyArgs(type), '--body', `@${file}`, '--url', url, '--event', fixture.event, '--json']);
      assert.equal(signed.code, 0, signed.stderr);
      const { url: to, headers } = JSON.parse(signed.stdout) as { url: string; headers: Record<string, string> };
      const seen = { url: to, headers: lower(headers), body: readFileSync(file) };
      assert.equal(await VENDORS[type]!(seen), true);
      assert.equal(await VENDORS[type]!({ ...seen, body: tampered(seen.body) }), false, 'and refuses another body');
    });
  }

  it('herald sign prints Name: value lines by default, and with --curl a command that sends the signed request', async () => {
    const body = '{"id": "evt_curl", "type": "invoice.paid"}';
    const lines = await herald(['sign', 'stripe', '--secret', SECRETS.stripe!, '--body', body, '--timestamp', '1700000000']);
    assert.equal(lines.code, 0, lines.stderr);
    const expected = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRETS.stripe!, timestamp: 1700000000 });
    assert.equal(lines.stdout, `Content-Type: application/json; charset=utf-8\nStripe-Signature: ${expected}\n`);

    // A body with a quote and a newline, which the shell must pass on untouched.
    const tricky = '{"note": "it\'s\\n here",\n "id": "evt_curl_2"}';
    for (const [type, url] of [['stripe', `${serviceUrl}/stripe/curl`], ['twilio', `${serviceUrl}/twilio/curl?x=1`]] as const) {
      const command = await herald(['sign', type, ...keyArgs(type), '--body', '-', '--url', url, '--curl'], tricky);
      assert.equal(command.code, 0, command.stderr);
      assert.match(command.stdout, /^curl /);
      const before = received.length;
      const sent = await sh(command.stdout);
      assert.equal(sent.stdout, 'verified', sent.stderr);
      assert.equal(received[before]!.seen.body.toString(), tricky);
    }
    const noUrl = await herald(['sign', 'stripe', '--secret', 'x', '--body', '{}', '--curl']);
    assert.equal(noUrl.code, 2);
    const twilioWithoutUrl = await herald(['sign', 'twilio', '--secret', 'x', '--body', 'a=b']);
    assert.equal(twilioWithoutUrl.code, 2);
    assert.match(twilioWithoutUrl.stderr, /Twilio signs the URL it calls/);
  });

  it('herald sign discord --generate-key prints a pair whose public key a Discord source takes', async () => {
    const pair = await herald(['sign', 'discord', '--generate-key']);
    assert.equal(pair.code, 0);
    const [, publicKey] = pair.stdout.match(/^Public key: +([0-9a-f]{64})$/m) ?? [];
    const [, privateKey] = pair.stdout.match(/^Private key: +([0-9a-f]{64})$/m) ?? [];
    assert.ok(publicKey && privateKey, pair.stdout);
    const created = await h.api('POST', '/ingest/api/v1/source', { name: 'fresh discord', type: 'discord', config: { publicKey } });
    const sent = await herald(['trigger', 'discord', 'application_command', '--private-key', privateKey, '--to', created.body.ingestUrl]);
    assert.equal(sent.code, 0, sent.stderr);
    const other = await herald(['trigger', 'discord', '--private-key', discordKeys.privateKey, '--to', created.body.ingestUrl]);
    assert.equal(other.code, 1, 'another pair\'s signature is refused');
  });

  describe('herald verify', () => {
    const body = JSON.stringify({ id: 'evt_verify', type: 'invoice.paid', data: { object: { amount: 4200 } } }, null, 2);
    let file: string;
    let headers: string[];
    before(async () => {
      file = join(dir, 'verify.json');
      writeFileSync(file, body);
      const signed = await herald(['sign', 'stripe', '--secret', SECRETS.stripe!, '--body', `@${file}`]);
      headers = signed.stdout.trim().split('\n').flatMap((line) => ['--header', line]);
    });
    const check = (args: string[]) => herald(['verify', 'stripe', ...args]);
    /** What a Herald stripe source answers to the same request: the gateway's diagnosis. */
    async function gateway(requestBody: string, headerArgs: string[]): Promise<string> {
      const sent: Record<string, string> = {};
      for (let i = 1; i < headerArgs.length; i += 2) {
        const line = headerArgs[i]!;
        sent[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trim();
      }
      const response = await fetch(sources.stripe!.url, { method: 'POST', headers: sent, body: requestBody });
      assert.equal(response.status, 401);
      return ((await response.json()) as { detail: string }).detail;
    }

    it('exits 0 and prints "verified" when the signature holds', async () => {
      const result = await check(['--secret', SECRETS.stripe!, '--body', `@${file}`, ...headers]);
      assert.deepEqual([result.code, result.stdout, result.stderr], [0, 'verified\n', '']);
    });

    it('exits 1 with the gateway\'s own diagnosis for a wrong secret, a changed body, re-serialised JSON and a stale timestamp', async () => {
      const signedWith = async (...args: string[]) => (await herald(['sign', 'stripe', '--body', `@${file}`, ...args])).stdout.trim().split('\n').flatMap((line) => ['--header', line]);
      const otherSecret = await signedWith('--secret', 'whsec_not_it');
      const staleHeaders = await signedWith('--secret', SECRETS.stripe!, '--timestamp', String(Math.floor(Date.now() / 1000) - 3600));
      const compact = JSON.stringify(JSON.parse(body));
      // [what, the body received, its headers, the diagnosis]: the same request goes to `herald verify` and to a Herald source.
      const cases: Array<[string, string, string[], RegExp]> = [
        ['signed with another secret', body, otherSecret, /signature does not match: the source's secret is not the one Stripe signs with/],
        ['changed body', body.replace('4200', '4201'), headers, /signature does not match/],
        ['re-serialised JSON', compact, headers, /re-serialised it/],
        ['stale timestamp', body, staleHeaders, /The timestamp is 36\d\d seconds old; Stripe allows 300/],
      ];
      for (const [what, sentBody, headerArgs, diagnosis] of cases) {
        writeFileSync(join(dir, 'received.json'), sentBody);
        const result = await check(['--secret', SECRETS.stripe!, '--body', `@${join(dir, 'received.json')}`, ...headerArgs]);
        assert.equal(result.code, 1, what);
        assert.match(result.stderr, diagnosis, what);
        const fromGateway = await gateway(sentBody, headerArgs);
        // The seconds may tick between the two; everything else is the same sentence.
        const words = (text: string) => text.replace(/\d+ seconds/, 'N seconds').trim();
        assert.equal(words(result.stderr), words(`not verified: ${fromGateway}`), what);
      }
      const tolerated = await check(['--secret', SECRETS.stripe!, '--body', `@${file}`, ...staleHeaders, '--tolerance', '7200']);
      assert.equal(tolerated.code, 0, '--tolerance widens the window');
      const unchecked = await check(['--secret', SECRETS.stripe!, '--body', `@${file}`, ...staleHeaders, '--tolerance', '0']);
      assert.equal(unchecked.code, 0, '--tolerance 0 checks no timestamp');
    });

    it('verifies a request a bin captured, read with --request from `herald bin request get <bin> latest --reveal --json`', async () => {
      const bin = (await h.api('POST', '/api/v1/bin', { name: 'verify' })).body;
      const server = ['--url', h.url, '--token', h.token];
      const triggered = await herald(['trigger', 'stripe', 'payment_intent.succeeded', '--secret', SECRETS.stripe!, '--to', bin.url]);
      assert.equal(triggered.code, 0, triggered.stderr);
      const revealed = await herald(['bin', 'request', 'get', bin.id, 'latest', '--reveal', '--json', ...server]);
      assert.equal(revealed.code, 0, revealed.stderr);
      const good = await herald(['verify', 'stripe', '--secret', SECRETS.stripe!, '--request', '-'], revealed.stdout);
      assert.deepEqual([good.code, good.stdout], [0, 'verified\n']);
      const wrong = await herald(['verify', 'stripe', '--secret', 'whsec_not_the_secret', '--request', '-'], revealed.stdout);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /does not match/);
      // Without --reveal the signature is masked, and cannot be checked: a usage error says how to get it.
      const masked = await herald(['bin', 'request', 'get', bin.id, 'latest', '--json', ...server]);
      const refused = await herald(['verify', 'stripe', '--secret', SECRETS.stripe!, '--request', '-'], masked.stdout);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /masked; get the request with --reveal/);
    });

    it('names a missing header, and the provider whose header came instead', async () => {
      const github = await herald(['sign', 'github', '--secret', 'x', '--body', `@${file}`]);
      const result = await check(['--secret', SECRETS.stripe!, '--body', `@${file}`, ...github.stdout.trim().split('\n').flatMap((line) => ['-H', line])]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /The Stripe-Signature header is missing.*It carries x-hub-signature-256: it looks like it comes from GitHub/);
    });

    it('says a header that is there holds no signature of the provider\'s form, rather than that it is missing', async () => {
      const result = await check(['--secret', SECRETS.stripe!, '--body', `@${file}`, '-H', 'Stripe-Signature: garbage']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /The Stripe-Signature header holds no signature in the form Stripe writes it/);
    });

    it('verifies Twilio against the URL it was sent to, Discord with the public key, and an hmac scheme from its flags', async () => {
      const url = 'https://example.com/sms?from=cli';
      const form = 'Body=Hi&From=%2B15005550001&To=%2B15005550006';
      const twilioHeaders = (await herald(['sign', 'twilio', '--secret', SECRETS.twilio!, '--body', form, '--url', url])).stdout.trim().split('\n').flatMap((line) => ['-H', line]);
      assert.equal((await herald(['verify', 'twilio', '--secret', SECRETS.twilio!, '--body', form, '--url', url, ...twilioHeaders])).code, 0);
      const elsewhere = await herald(['verify', 'twilio', '--secret', SECRETS.twilio!, '--body', form, '--url', 'https://example.com/other', ...twilioHeaders]);
      assert.equal(elsewhere.code, 1);
      assert.equal((await herald(['verify', 'twilio', '--secret', SECRETS.twilio!, '--body', form, ...twilioHeaders])).code, 2, 'Twilio needs the URL');

      const discordHeaders = (await herald(['sign', 'discord', '--private-key', discordKeys.privateKey, '--body', body])).stdout.trim().split('\n').flatMap((line) => ['-H', line]);
      assert.equal((await herald(['verify', 'discord', '--public-key', discordKeys.publicKey, '--body', body, ...discordHeaders])).code, 0);
      const otherKey = await herald(['verify', 'discord', '--public-key', 'ab'.repeat(32), '--body', body, ...discordHeaders]);
      assert.equal(otherKey.code, 1);
      assert.match(otherKey.stderr, /does not match the public key/);

      const hmacHeaders = (await herald(['sign', 'hmac', ...keyArgs('hmac'), '--body', body, '--url', url])).stdout.trim().split('\n').flatMap((line) => ['-H', line]);
      assert.equal((await herald(['verify', 'hmac', ...keyArgs('hmac'), '--body', body, '--url', url, ...hmacHeaders])).code, 0);
      writeFileSync(join(dir, 'scheme.json'), JSON.stringify(HMAC_SCHEME));
      assert.equal((await herald(['verify', 'hmac', '--secret', SECRETS.hmac!, '--config', `@${join(dir, 'scheme.json')}`, '--body', body, '--url', url, ...hmacHeaders])).code, 0, 'the scheme as a source\'s config');
      writeFileSync(join(dir, 'source.json'), JSON.stringify({ secret: SECRETS.hmac, ...HMAC_SCHEME }));
      assert.equal((await herald(['verify', 'hmac', '--config', `@${join(dir, 'source.json')}`, '--body', body, '--url', url, ...hmacHeaders])).code, 0, 'the config as given to the source, its secret in it');
      assert.equal((await herald(['verify', 'hmac', ...keyArgs('hmac'), '--body', body, '--url', `${url}&more`, ...hmacHeaders])).code, 1);
    });

    it('exits 2, sending nothing, when the command line is wrong', async () => {
      const results = await Promise.all([
        ['verify', 'stripe', '--body', `@${file}`, ...headers],
        ['verify', 'stripe', '--secret', 'x', '--body', `@${file}`, '--header', 'no colon'],
        ['verify', 'stripe', '--secret', 'x', '--body', `@${join(dir, 'missing.json')}`],
        ['verify', 'stripe', '--secret', 'x', '--body', `@${file}`, '--tolerance', 'soon'],
        ['verify', 'discord', '--public-key', 'not-hex', '--body', `@${file}`],
        ['verify', 'hmac', '--secret', 'x', '--algorithm', 'md5', '--signature-header', 'X-Sig', '--body', `@${file}`],
        ['verify', 'hmac', '--secret', 'x', '--body', `@${file}`],
        ['verify', 'nosuch', '--secret', 'x'],
      ].map(async (args) => ({ args, result: await herald(args) })));
      for (const { args, result } of results) {
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /--help/);
      }
      // A body from stdin that a shell word cannot carry: a curl command would send other bytes.
      const binary = await herald(['sign', 'stripe', '--secret', 'whsec_x', '--body', '-', '--url', 'http://127.0.0.1:1/x', '--curl'], 'ab\u0000cd');
      assert.equal(binary.code, 2);
      assert.match(binary.stderr, /give it as --body @file/);
      assert.equal(binary.stdout, '');
    });
  });
});

/** Another body: a JSON field or a form parameter more (Zoom's library re-serialises JSON, so a space would not do). */
function tampered(body: Buffer): Buffer {
  const text = body.toString();
  try {
    return Buffer.from(JSON.stringify({ ...JSON.parse(text), tampered: true }));
  } catch {
    return Buffer.from(`${text}&tampered=1`);
  }
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)]));
}
