import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { PROVIDER_CASES } from './support/providers.ts';
import { type Receiver, type ReceivedRequest, startReceiver } from './support/receiver.ts';
import { BIN, type CliResult, NODE_FLAGS, runCli } from './support/process.ts';
import { trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * The API commands (`herald app …`, `herald endpoint …`) run as a user runs them: the real
 * `herald` in a child process, talking over loopback to a Herald started in this process, whose
 * answers the tests read through the API directly to compare. The CLI is an HTTP client only, so
 * one store (SQLite) serves; the API's parity across stores is pinned by the API's own suites.
 */

/** The environment of the tests' process, without what would change the CLI's behaviour. */
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(HERALD_|NO_COLOR$|COLUMNS$|FORCE_COLOR$)/.test(name)));

type Result = CliResult;

/** Runs `herald …` as a child process, with `input` on its stdin. */
const run = (args: string[], env: Record<string, string>, input = '') => runCli(args, { ...BASE_ENV, ...env }, input);

const json = (result: Result) => {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
};

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the API commands', () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;
  let dir: string;
  /** Paths the receiver answers 500 to, while they are in here. */
  const down = new Set<string>();
  let herald: (args: string[], options?: { env?: Record<string, string>; input?: string }) => Promise<Result>;

  before(async () => {
    h = await startTestHerald();
    receiver = await startReceiver((request) => (down.has(request.path) ? { status: 500, body: 'down' } : { status: 200, body: 'ok' }));
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    herald = (args, { env = {}, input = '' } = {}) => run(args, { HERALD_URL: h.url, HERALD_TOKEN: h.token, ...env }, input);
  });
  after(async () => {
    await h.close(failures.any());
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const requestsOf = (messageId: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === messageId);
  /** An application and an endpoint of it at the receiver's `path`, made with the CLI. */
  async function appWithEndpoint(uid: string, path: string, ...endpointArgs: string[]) {
    json(await herald(['app', 'create', uid, '--uid', uid, '--json']));
    const endpoint = json(await herald(['endpoint', 'create', uid, `${receiver.url}${path}`, '--uid', 'main', ...endpointArgs, '--json']));
    return { app: uid, endpoint };
  }

  it('creates, shows, lists, changes and deletes an application, --json printing what the API answers', async () => {
    const created = json(await herald(['app', 'create', 'Acme', '--uid', 'acme-crud', '--metadata', 'plan=pro', '--metadata', 'region=eu', '--json']));
    assert.deepEqual(created, (await h.api('GET', '/api/v1/app/acme-crud')).body);
    assert.deepEqual(created.metadata, { plan: 'pro', region: 'eu' });

    const shown = await herald(['app', 'get', 'acme-crud']);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /^id +app_\w+$/m);
    assert.match(shown.stdout, /^name +Acme$/m);
    assert.match(shown.stdout, /^createdAt +(just now|\d+s ago) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)$/m);

    assert.deepEqual(json(await herald(['app', 'list', '--json'])), (await h.api('GET', '/api/v1/app')).body.data);
    const table = await herald(['app', 'list']);
    assert.match(table.stdout, /^ID +UID +NAME +CREATED\n/);
    assert.match(table.stdout, new RegExp(`^${created.id} +acme-crud +Acme +`, 'm'));

    const updated = json(await herald(['app', 'update', 'acme-crud', '--name', 'Acme Inc.', '--json']));
    assert.equal(updated.name, 'Acme Inc.');
    assert.deepEqual(updated.metadata, { plan: 'pro', region: 'eu' }, 'what is not given stays');

    const deleted = await herald(['app', 'delete', 'acme-crud']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Deleted application acme-crud.\n');
    assert.equal((await h.api('GET', '/api/v1/app/acme-crud')).status, 404);
  });

  it('imports event types from an OpenAPI document (a file or stdin, JSON or YAML) and exports them back', async () => {
    const yaml = 'webhooks:\n  cli.imported:\n    post:\n      description: From YAML\n      requestBody:\n        content:\n          application/json:\n            schema: { type: object, required: [id] }\n';
    writeFileSync(join(dir, 'webhooks.yaml'), yaml);
    const dry = await herald(['event-type', 'import', join(dir, 'webhooks.yaml'), '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, 'Would change 1 event type: cli.imported.\n');
    assert.equal((await h.api('GET', '/api/v1/event-type/cli.imported')).status, 404);
    assert.equal((await herald(['event-type', 'import', join(dir, 'webhooks.yaml')])).stdout, 'Changed 1 event type: cli.imported.\n');
    assert.deepEqual((await h.api('GET', '/api/v1/event-type/cli.imported')).body.schemas, { 1: { type: 'object', required: ['id'] } });
    const exported = json(await herald(['event-type', 'export']));
    assert.deepEqual(exported, (await h.api('GET', '/api/v1/event-type/export/openapi')).body);
    const again = await herald(['event-type', 'import', '-'], { input: JSON.stringify(exported) });
    assert.equal(again.stdout, 'Nothing to change.\n');
    const missing = await herald(['event-type', 'import', join(dir, 'nope.yaml')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read the file/);
  });

  it('creates, shows, lists, changes and archives event types and endpoints', async () => {
    const schema = { type: 'object', properties: { id: { type: 'string' } } };
    writeFileSync(join(dir, 'schema.json'), JSON.stringify(schema));
    const eventType = json(await herald(['event-type', 'create', 'crud.happened', '--description', 'Something happened', '--schema', `@${join(dir, 'schema.json')}`, '--json']));
    assert.deepEqual(eventType, (await h.api('GET', '/api/v1/event-type/crud.happened')).body);
    assert.deepEqual(eventType.schemas, { 1: schema });
    const deprecated = json(await herald(['event-type', 'update', 'crud.happened', '--deprecate', '--schema-validation', 'enforce', '--json']));
    assert.deepEqual([deprecated.deprecated, deprecated.schemaValidation], [true, 'enforce']);
    assert.equal(json(await herald(['event-type', 'update', 'crud.happened', '--schema-validation', 'default', '--json'])).schemaValidation, null);
    assert.match((await herald(['event-type', 'list'])).stdout, /^crud\.happened +Something happened +deprecated +/m);

    const { app, endpoint } = await appWithEndpoint('crud-app', '/crud', '--event-type', 'crud.happened', '--channel', 'c1,c2', '--header', 'X-Team: blue', '--description', 'the crud one');
    assert.deepEqual(endpoint, (await h.api('GET', `/api/v1/app/${app}/endpoint/main`)).body);
    assert.deepEqual([endpoint.eventTypes, endpoint.channels, endpoint.description], [['crud.happened'], ['c1', 'c2'], 'the crud one']);
    assert.deepEqual((await h.api('GET', `/api/v1/app/${app}/endpoint/main/headers`)).body.headers, { 'X-Team': 'blue' });
    assert.deepEqual(json(await herald(['endpoint', 'list', app, '--json'])), (await h.api('GET', `/api/v1/app/${app}/endpoint`)).body.data);
    assert.deepEqual(json(await herald(['endpoint', 'get', app, 'main', '--json'])), endpoint);
    assert.match((await herald(['endpoint', 'list', app])).stdout, new RegExp(`^${endpoint.id} +main +${receiver.url}/crud +crud\\.happened +c1,c2 +enabled +`, 'm'));

    assert.equal(json(await herald(['endpoint', 'update', app, 'main', '--disable', '--json'])).disabled, true);
    const moved = json(await herald(['endpoint', 'update', app, 'main', `${receiver.url}/moved`, '--enable', '--json']));
    assert.deepEqual([moved.url, moved.disabled, moved.eventTypes], [`${receiver.url}/moved`, false, ['crud.happened']]);
    assert.equal((await herald(['endpoint', 'delete', app, 'main'])).stdout, 'Deleted endpoint main.\n');
    assert.equal((await h.api('GET', `/api/v1/app/${app}/endpoint/main`)).status, 404);

    assert.equal((await herald(['event-type', 'delete', 'crud.happened'])).stdout, 'Archived event type crud.happened.\n');
    assert.equal((await h.api('GET', '/api/v1/event-type/crud.happened')).body.archived, true);
    assert.ok(!json(await herald(['event-type', 'list', '--json'])).some((e: { name: string }) => e.name === 'crud.happened'));
    assert.ok(json(await herald(['event-type', 'list', '--include-archived', '--json'])).some((e: { name: string }) => e.name === 'crud.happened'));
    assert.equal((await herald(['event-type', 'delete', 'crud.happened', '--expunge'])).code, 0);
    assert.equal((await h.api('GET', '/api/v1/event-type/crud.happened')).status, 404);
  });

  it('sends a message that reaches the endpoint byte for byte, signed with the secret `endpoint secret` prints, and lists its attempt', async () => {
    const { app, endpoint } = await appWithEndpoint('send-app', '/send');
    // A number JavaScript would round, an escape and spacing: sent as written.
    const payload = '{ "amount": 12345678901234567890, "note": "caf\\u00e9" }\n';
    writeFileSync(join(dir, 'payload.json'), payload);
    const message = json(await herald(['message', 'send', app, 'invoice.paid', '--data', `@${join(dir, 'payload.json')}`, '--event-id', 'inv_1', '--channel', 'eu', '--ordering-key', 'inv', '--json']));
    assert.deepEqual([message.eventType, message.eventId, message.channels, message.orderingKey], ['invoice.paid', 'inv_1', ['eu'], 'inv']);
    const request = await waitFor('the message at the receiver', () => requestsOf(message.id)[0]);
    assert.equal(request!.body.toString('utf8'), payload.trimEnd());

    const secret = await herald(['endpoint', 'secret', app, 'main']);
    assert.equal(secret.code, 0, secret.stderr);
    assert.equal(secret.stdout, `${(await h.api('GET', `/api/v1/app/${app}/endpoint/main/secret`)).body.key}\n`);
    new Webhook(secret.stdout.trim()).verify(request!.body.toString('utf8'), request!.headers as Record<string, string>);

    assert.deepEqual(json(await herald(['message', 'get', app, 'inv_1', '--json'])), (await h.api('GET', `/api/v1/app/${app}/msg/inv_1`)).body);
    assert.deepEqual(json(await herald(['message', 'list', app, '--json'])), (await h.api('GET', `/api/v1/app/${app}/msg`)).body.data);
    const feed = (await h.api('GET', `/api/v1/app/${app}/events?event_types=invoice.paid`)).body.data;
    assert.deepEqual(feed.map((m: { id: string }) => m.id), [message.id]);
    assert.deepEqual(json(await herald(['message', 'events', app, '--event-type', 'invoice.paid', '--all', '--json'])), feed);
    assert.deepEqual(json(await herald(['message', 'events', app, '--event-type', 'other.type', '--json'])), []);
    const attempts = await waitFor('the attempt recorded', async () => {
      const listed = json(await herald(['attempt', 'list', app, '--msg', message.id, '--json']));
      return listed.length === 1 && listed;
    });
    assert.deepEqual(attempts, (await h.api('GET', `/api/v1/app/${app}/attempt/msg/${message.id}`)).body.data);
    assert.deepEqual([attempts[0].status, attempts[0].responseStatusCode, attempts[0].endpointId], [0, 200, endpoint.id]);
    const byEndpoint = await herald(['attempt', 'list', app, '--endpoint', 'main']);
    assert.match(byEndpoint.stdout, /^ID +MESSAGE +STATUS +CODE +TIME +TRIGGER +WHEN\n/, 'the endpoint is the same on every line');
    assert.match(byEndpoint.stdout, new RegExp(`^${attempts[0].id} +${message.id} +success +200 +\\d+ms +scheduled +`, 'm'));
    const byMessage = await herald(['attempt', 'list', app, '--msg', 'inv_1']);
    assert.match(byMessage.stdout, new RegExp(`^ID +ENDPOINT +STATUS +CODE +TIME +TRIGGER +WHEN\n${attempts[0].id} +${endpoint.id} +success +`));
    assert.deepEqual(json(await herald(['attempt', 'get', app, message.id, attempts[0].id, '--json'])), (await h.api('GET', `/api/v1/app/${app}/msg/${message.id}/attempt/${attempts[0].id}`)).body);
    const shown = await herald(['message', 'get', app, 'inv_1']);
    // As published: the number whole, the escape as written.
    assert.match(shown.stdout, /^payload +\{"amount":12345678901234567890,"note":"caf\\u00e9"\}$/m);
  });

  it('sends the payload from stdin, and with --count as many messages as asked', async () => {
    const { app } = await appWithEndpoint('count-app', '/count');
    const sent = json(await herald(['message', 'send', app, 'load.test', '--data', '-', '--count', '5', '--concurrency', '2', '--json'], { input: '{"n":1}' }));
    assert.equal(sent.length, 5);
    assert.equal(new Set(sent.map((m: { id: string }) => m.id)).size, 5);
    for (const message of sent) assert.deepEqual(message.payload, { n: 1 });
    await waitFor('five messages at the receiver', () => receiver.requests.filter((r) => r.path === '/count').length === 5);
    assert.ok(receiver.requests.filter((r) => r.path === '/count').every((r) => r.body.toString() === '{"n":1}'));
    const summary = await herald(['message', 'send', app, 'load.test', '--count', '3']);
    assert.match(summary.stdout, /^Sent 3 messages to count-app in \d+\.\ds \(\d+ a second\)\.\n$/);
    assert.equal(summary.stderr, '', 'no progress bar off a terminal');
  });

  it('resends a message to an endpoint as one manual attempt', async () => {
    const { app, endpoint } = await appWithEndpoint('resend-app', '/resend');
    const message = json(await herald(['message', 'send', app, 'resend.me', '--data', '{"r":1}', '--json']));
    await waitFor('the first attempt', async () => (await h.api('GET', `/api/v1/app/${app}/attempt/msg/${message.id}`)).body.data.length === 1);
    const resent = await herald(['attempt', 'resend', app, message.id, 'main']);
    assert.equal(resent.code, 0, resent.stderr);
    assert.equal(resent.stdout, `Resending ${message.id} to main.\n`);
    await waitFor('the resent request', () => requestsOf(message.id).length === 2);
    const attempts = await waitFor('the manual attempt recorded', async () => {
      const listed = json(await herald(['attempt', 'list', app, '--msg', message.id, '--endpoint', endpoint.id, '--json']));
      return listed.length === 2 && listed;
    });
    assert.deepEqual(attempts.map((a: { triggerType: number }) => a.triggerType), [1, 0], 'newest first: the manual one');
    assert.deepEqual(json(await herald(['attempt', 'resend', app, message.id, 'main', '--json'])), {});
  });

  it('recovers the failed deliveries of an endpoint since a time', async () => {
    down.add('/recover');
    const { app } = await appWithEndpoint('recover-app', '/recover');
    const message = json(await herald(['message', 'send', app, 'recover.me', '--json']));
    await waitFor('the delivery to fail for good', async () => (await h.api('GET', `/api/v1/app/${app}/msg/${message.id}/endpoint`)).body.data[0]?.status === 2);
    const failedRequests = requestsOf(message.id).length;
    down.delete('/recover');

    const recovered = json(await herald(['endpoint', 'recover', app, 'main', '--since', '1h', '--json']));
    assert.equal(recovered.status, 'finished');
    assert.equal(recovered.data.queued, 1);
    await waitFor('the recovered request', () => requestsOf(message.id).length === failedRequests + 1);
    await waitFor('the delivery to succeed', async () => (await h.api('GET', `/api/v1/app/${app}/msg/${message.id}/endpoint`)).body.data[0]?.status === 0);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    assert.match((await herald(['endpoint', 'recover', app, 'main', '--since', since])).stdout, new RegExp(`^Queued 0 failed deliveries \\(of \\d+ messages since ${since.replaceAll('.', '\\.')}\\)\\.\n$`));
  });

  it('rotates an endpoint secret and prints the new one', async () => {
    const { app } = await appWithEndpoint('secret-app', '/secret');
    const before = (await herald(['endpoint', 'secret', app, 'main'])).stdout.trim();
    const rotated = await herald(['endpoint', 'secret', app, 'main', '--rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^whsec_\S+\n$/);
    assert.notEqual(rotated.stdout.trim(), before);
    assert.equal(rotated.stdout.trim(), (await h.api('GET', `/api/v1/app/${app}/endpoint/main/secret`)).body.key);
    assert.match(rotated.stderr, /old secret also signs for 86400 more seconds/);

    const chosen = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    assert.deepEqual(json(await herald(['endpoint', 'secret', app, 'main', '--rotate', '--key', chosen, '--grace-period', '0', '--json'])), { key: chosen });
    const message = json(await herald(['message', 'send', app, 'signed.by.new', '--json']));
    const request = await waitFor('the message at the receiver', () => requestsOf(message.id)[0]);
    new Webhook(chosen).verify(request!.body.toString('utf8'), request!.headers as Record<string, string>);
    // Rotated out with no grace period, the previous secret no longer signs.
    assert.throws(() => new Webhook(rotated.stdout.trim()).verify(request!.body.toString('utf8'), request!.headers as Record<string, string>), /No matching signature/);
  });

  it('answers an API error with exit code 1, its message on stderr and nothing on stdout', async () => {
    json(await herald(['app', 'create', 'Errors', '--uid', 'errors-app', '--json']));
    const port = await closedPort();
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['app', 'get', 'no-such-app'], /^herald: Application not found\. \(404 not_found, GET \/api\/v1\/app\/no-such-app\)\n$/],
      [['message', 'send', 'no-such-app', 'x', '--count', '3', '--concurrency', '1'], /^Stopped after 0 of 3 messages were sent\.\nherald: Application not found\. \(404 not_found, POST \/api\/v1\/app\/no-such-app\/msg\)\n$/],
      [['endpoint', 'create', 'errors-app', 'not a url', '--throttle-rate', '5'], /^herald: the request is invalid \(422 validation, POST \/api\/v1\/app\/errors-app\/endpoint\):\n  body\.url: must be an absolute URL[^\n]*\n$/],
      [['event-type', 'create', 'bad name!'], /the request is invalid \(422 validation, POST \/api\/v1\/event-type\):\n  body\.name: /],
      [['app', 'list'], /Missing or invalid token\.[^\n]*\(401 [^\n]*\) Check --token or HERALD_TOKEN\.\n$/, { HERALD_TOKEN: 'not-the-token-at-all' }],
      [['app', 'list'], new RegExp(`^herald: cannot reach Herald at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Is it running\\? Point --url or HERALD_URL at it\\.\n$`), { HERALD_URL: `http://127.0.0.1:${port}` }],
    ];
    for (const [args, message, env] of cases) {
      const result = await herald(args, env ? { env } : {});
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '', args.join(' '));
    }
    json(await herald(['message', 'send', 'errors-app', 'twice', '--event-id', 'once', '--json']));
    const conflict = await herald(['message', 'send', 'errors-app', 'twice', '--event-id', 'once', '--json']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /A message with this eventId already exists for this application\. \(409 conflict/);
  });

  it('refuses a misused command line with exit code 2, before calling Herald', async () => {
    // Nothing listens there: a command that called Herald would exit 1.
    const env = { HERALD_URL: `http://127.0.0.1:${await closedPort()}` };
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['app', 'list', '--bogus'], /Unknown option '--bogus'[\s\S]*Run `herald app list --help`/],
      [['app', 'lst'], /Unknown command "herald app lst"/],
      [['app', 'list'], /No API token: pass --token or set HERALD_TOKEN/, { HERALD_TOKEN: '' }],
      [['app', 'list', '--limit', 'ten'], /--limit must be a whole number of at least 1; got "ten"/],
      [['app', 'list', '--url', 'nowhere'], /--url "nowhere" is not a URL/],
      [['endpoint', 'create', 'acme'], /Missing url/],
      [['endpoint', 'create', 'acme', 'http://127.0.0.1:9/hook', '--key-type', 'rsa'], /--key-type must be one of hmac, ed25519; got "rsa"/],
      [['endpoint', 'recover', 'acme', 'main'], /Missing --since/],
      [['endpoint', 'recover', 'acme', 'main', '--since', 'yesterday'], /--since takes a date-time .* or a duration ago/],
      [['endpoint', 'secret', 'acme', 'main', '--grace-period', '60'], /go with --rotate/],
      [['endpoint', 'update', 'acme', 'main'], /Nothing to change: give at least one of/],
      [['message', 'send', 'acme', 'x', '--data', '{"a":'], /--data is not JSON/],
      [['message', 'send', 'acme', 'x', '--data', '[1]'], /--data must be a JSON object/],
      [['message', 'send', 'acme', 'x', '--data', `@${join(tmpdir(), 'no-such-file.json')}`], /cannot read the file \(ENOENT\)/],
      [['message', 'send', 'acme', 'x', '--count', '2', '--event-id', 'e'], /--event-id names one message: it cannot go with --count/],
      [['attempt', 'list', 'acme'], /Say whose attempts: --msg <message> or --endpoint <endpoint>/],
      [['attempt', 'list', 'acme', '--msg', 'm', '--status', 'great'], /--status must be one of success, pending, fail, sending/],
      [['source', 'create', 'Stripe'], /Missing --type/],
      [['app', 'create', 'A', '--metadata', 'novalue'], /--metadata takes key=value/],
    ];
    for (const [args, message, extra] of cases) {
      const result = await herald(args, { env: { ...env, ...extra } });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '', args.join(' '));
    }
  });

  it('pages through every page with --all, and a page at a time with --limit and --iterator', async () => {
    for (let i = 0; i < 5; i++) json(await herald(['app', 'create', `Page ${i}`, '--uid', `page-${i}`, '--json']));
    const everything = (await h.api('GET', '/api/v1/app?limit=250')).body;
    assert.ok(everything.done && everything.data.length >= 7, 'more than three pages of two');
    assert.deepEqual(json(await herald(['app', 'list', '--all', '--limit', '2', '--json'])), everything.data);

    const first = await herald(['app', 'list', '--limit', '2', '--json']);
    const page = (await h.api('GET', '/api/v1/app?limit=2')).body;
    assert.deepEqual(JSON.parse(first.stdout), page.data);
    assert.equal(first.stderr, `More applications: add --iterator ${page.iterator}, or --all for every page.\n`);
    const second = json(await herald(['app', 'list', '--limit', '2', '--iterator', page.iterator, '--json']));
    assert.deepEqual(second, (await h.api('GET', `/api/v1/app?limit=2&iterator=${page.iterator}`)).body.data);

    const table = await herald(['app', 'list', '--all', '--limit', '3']);
    assert.equal(table.stdout.trimEnd().split('\n').length, everything.data.length + 1, 'a header and every application');
    assert.equal(table.stderr, '', 'no progress count and no "more" off a terminal');
  });

  it('fits tables to the width COLUMNS gives, keeping ids whole, with no colour off a terminal', async () => {
    const { app, endpoint } = await appWithEndpoint('narrow-app', `/a/rather/long/path/${'x'.repeat(60)}`, '--description', 'narrow');
    const wide = await herald(['endpoint', 'list', app]);
    assert.ok(wide.stdout.includes(`/a/rather/long/path/${'x'.repeat(60)}`), 'whole without a width');
    const narrow = await herald(['endpoint', 'list', app], { env: { COLUMNS: '90' } });
    const lines = narrow.stdout.trimEnd().split('\n');
    for (const line of lines) assert.ok([...line].length <= 90, `${JSON.stringify(line)} is wider than 90`);
    assert.ok(lines[1]!.startsWith(`${endpoint.id}  main  http://`), 'the id whole');
    assert.match(lines[1]!, /^\S+ +main +http:\/\/\S*… +all +all +enabled +\S/, 'the URL cut');
    assert.doesNotMatch(wide.stdout + narrow.stdout, /\x1b/);
  });

  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  it('on a terminal, counts pages and draws a progress bar on stderr, in colour unless NO_COLOR', { skip: script.status === 0 ? false : 'no `script` command here to give the CLI a terminal' }, async () => {
    json(await herald(['app', 'create', 'Terminal', '--uid', 'tty-app', '--json']));
    // `script` runs the command on a pseudo-terminal and copies what it shows.
    const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
    const onTerminal = async (args: string[], env: Record<string, string> = {}) => {
      const command = ['stty cols 100;', ...[process.execPath, ...NODE_FLAGS, BIN, ...args].map(quote)].join(' ');
      return new Promise<string>((resolve, reject) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...BASE_ENV, HERALD_URL: h.url, HERALD_TOKEN: h.token, TERM: 'xterm', ...env } });
        let shown = '';
        child.stdout.setEncoding('utf8').on('data', (chunk) => (shown += chunk));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(shown) : reject(new Error(`exit ${code}: ${shown}`))));
        child.stdin.end();
      });
    };
    const listed = await onTerminal(['app', 'list', '--all', '--limit', '1']);
    assert.match(listed, /\r\x1b\[2Klisting applications \d+ \d+\.\ds/);
    assert.match(listed, /\x1b\[1mID/);
    const { app } = await appWithEndpoint('tty-send', '/tty');
    const sent = await onTerminal(['message', 'send', app, 'tty.test', '--count', '20'], { NO_COLOR: '1' });
    assert.match(sent, /sending \[#+\] 20\/20 \d+\.\ds/);
    assert.match(sent, /Sent 20 messages/);
    assert.doesNotMatch(sent, /\x1b\[[\d;]*m/, 'no colour with NO_COLOR');
  });

  it('manages sources, keeping the secret through an update, rotating the URL; their endpoints and requests with --source', async () => {
    const stripe = PROVIDER_CASES.find((c) => c.type === 'stripe')!;
    const created = json(await herald(['source', 'create', 'Stripe', '--type', 'stripe', '--uid', 'stripe-cli', '--secret', String(stripe.config.secret), '--json']));
    assert.deepEqual(created, (await h.api('GET', '/ingest/api/v1/source/stripe-cli')).body);
    assert.equal(created.config.secret, undefined, 'the secret is never shown');
    assert.deepEqual(json(await herald(['source', 'list', '--json'])), (await h.api('GET', '/ingest/api/v1/source')).body.data);
    const renamed = json(await herald(['source', 'update', 'stripe-cli', '--name', 'Stripe live', '--metadata', 'env=live', '--json']));
    assert.deepEqual([renamed.name, renamed.type, renamed.metadata], ['Stripe live', 'stripe', { env: 'live' }]);

    const forwarded = json(await herald(['endpoint', 'create', 'stripe-cli', `${receiver.url}/from-stripe`, '--source', '--json']));
    assert.deepEqual(json(await herald(['endpoint', 'list', 'stripe-cli', '--source', '--json'])), [forwarded]);
    // Signed with the secret given at creation: the update kept it.
    const body = stripe.body();
    const post = (url: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal((await post(created.ingestUrl, (await stripe.sign(body, created.ingestUrl)).headers)).status, 200);
    await waitFor('the forwarded request', () => receiver.requests.some((r: ReceivedRequest) => r.path === '/from-stripe' && r.body.toString() === body));
    const received = json(await herald(['message', 'list', 'stripe-cli', '--source', '--json']));
    assert.equal(received.length, 1);
    assert.equal(received[0].inbound.verified, true);

    const rotated = await herald(['source', 'rotate-token', 'stripe-cli']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newUrl = rotated.stdout.trim();
    assert.match(newUrl, /^http:\/\/127\.0\.0\.1:\d+\/in\/\S+$/);
    assert.notEqual(newUrl, created.ingestUrl);
    assert.equal((await post(created.ingestUrl, (await stripe.sign(body, created.ingestUrl)).headers)).status, 404);

    assert.equal((await herald(['source', 'delete', 'stripe-cli'])).stdout, 'Deleted source stripe-cli.\n');
    assert.equal((await h.api('GET', '/ingest/api/v1/source/stripe-cli')).status, 404);
  });

  it('manages request bins: create, list, show, change, their requests, delete', async (t) => {
    const probe = await h.api('GET', '/api/v1/bin');
    if (probe.status === 404 && /No route/.test(probe.body?.detail ?? '')) {
      t.skip('this Herald has no request bins yet (GET /api/v1/bin has no route): the bin commands are tested once they are merged');
      return;
    }
    const created = json(await herald(['bin', 'create', '--name', 'cli-bin', '--status', '202', '--body', 'taken', '--header', 'X-Bin: yes', '--json']));
    assert.deepEqual(created, (await h.api('GET', `/api/v1/bin/${created.id}`)).body);
    assert.deepEqual([created.response.status, created.response.body, created.response.headers], [202, 'taken', { 'X-Bin': 'yes' }]);
    assert.ok(json(await herald(['bin', 'list', '--all', '--json'])).some((b: { id: string }) => b.id === created.id));

    const answer = await fetch(`${created.url}/hook?x=1`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: 'Bearer hidden' }, body: 'hello bin' });
    assert.equal(answer.status, 202);
    assert.equal(await answer.text(), 'taken');
    const requests = json(await herald(['bin', 'requests', created.id, '--json']));
    assert.deepEqual(requests, (await h.api('GET', `/api/v1/bin/${created.id}/request`)).body.data);
    assert.deepEqual([requests[0].method, requests[0].path, requests[0].query, requests[0].body], ['POST', '/hook', 'x=1', 'hello bin']);
    assert.match((await herald(['bin', 'requests', created.id])).stdout, new RegExp(`^${requests[0].id} +POST +/hook\\?x=1 +9B +202 +`, 'm'));
    const shown = await herald(['bin', 'request', 'get', created.id, requests[0].id]);
    assert.match(shown.stdout, /^headers\n(  .*\n)*  authorization: \(masked; --reveal shows it\)\n/m);
    assert.match(shown.stdout, /^body\n  hello bin\n$/m);
    assert.deepEqual(json(await herald(['bin', 'request', 'get', created.id, requests[0].id, '--json'])), (await h.api('GET', `/api/v1/bin/${created.id}/request/${requests[0].id}`)).body);

    assert.equal(json(await herald(['bin', 'update', created.id, '--status', '201', '--json'])).response.status, 201);
    assert.equal((await herald(['bin', 'request', 'delete', created.id, requests[0].id])).code, 0);
    assert.deepEqual(json(await herald(['bin', 'requests', created.id, '--json'])), []);
    assert.equal((await herald(['bin', 'delete', created.id])).stdout, `Deleted bin ${created.id}.\n`);
    assert.equal((await h.api('GET', `/api/v1/bin/${created.id}`)).status, 404);
  });

  it('lists every API command in herald help', async () => {
    const { stdout } = await herald(['help']);
    for (const command of ['app', 'endpoint', 'event-type', 'message', 'attempt', 'source', 'bin']) assert.match(stdout, new RegExp(`\\n  ${command} +\\S`));
    const help = await herald(['help', 'endpoint', 'secret']);
    assert.match(help.stdout, /--rotate +replace it with a new one/);
    assert.match(help.stdout, /--url <url> +the Herald to talk to \(or HERALD_URL; default http:\/\/127\.0\.0\.1:8071\)/);
  });
});
