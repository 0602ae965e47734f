import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { CAPTURED_METHODS } from '../src/bins/capture-route.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { call, TEST_TOKEN } from './support/process.ts';
import { processPair } from './support/process-pair.ts';
import { exchange, requestBytes } from './support/raw-socket.ts';
import { forEachStore, postgresReachable, SKIPPED_POSTGRES, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const MAX_REQUESTS = 5;
const MAX_HOLD_MS = 600;
const MAX_PAYLOAD = 4096;

interface BinOut {
  id: string;
  url: string;
  response: Record<string, unknown>;
  rules: Record<string, unknown>;
}

interface StreamedEvent {
  id: string;
  data: any;
}

/**
 * Reads a server-sent event stream as it arrives. `next(n)` resolves once `n` `request` events
 * have come in all, or fails after `timeoutMs`.
 */
function eventReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const parsed = () => text.split('\n\n').slice(0, -1).flatMap((block): StreamedEvent[] => {
    const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
    return fields.event === 'request' ? [{ id: fields.id!, data: JSON.parse(fields.data!) }] : [];
  });
  return {
    text: () => text,
    async until(check: (text: string) => boolean, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(text)) {
        const timer = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`stream: nothing more within ${timeoutMs} ms; got ${JSON.stringify(text)}`)), Math.max(1, deadline - Date.now())).unref());
        const { value, done } = await Promise.race([reader.read(), timer]);
        if (done) throw new Error(`the stream ended; got ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
    },
    async next(n: number, timeoutMs = 5_000): Promise<StreamedEvent[]> {
      await this.until(() => parsed().length >= n, timeoutMs);
      return parsed();
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

await forEachStore((store) => describe(`request bins (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let port: number;
  before(async () => {
    h = await startTestHerald({
      store,
      env: { HERALD_BIN_MAX_REQUESTS: String(MAX_REQUESTS), HERALD_BIN_MAX_HOLD: `${MAX_HOLD_MS}ms`, HERALD_MAX_PAYLOAD: String(MAX_PAYLOAD) },
    });
    port = Number(new URL(h.url).port);
  });
  after(async () => h?.close(failures.any()));

  async function newBin(body: unknown = {}): Promise<BinOut> {
    const created = await h.api('POST', '/api/v1/bin', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  }
  const pathOf = (bin: BinOut) => new URL(bin.url).pathname;
  const listed = async (bin: BinOut, query = '') => {
    const answer = await h.api('GET', `/api/v1/bin/${bin.id}/request${query}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as { data: any[]; iterator: string | null; prevIterator: string | null; done: boolean };
  };
  const captured = async (bin: BinOut, id: string, query = '') => (await h.api('GET', `/api/v1/bin/${bin.id}/request/${id}${query}`)).body;
  const requestIdOf = (answer: { headers: Array<[string, string]> }) => answer.headers.find(([name]) => name.toLowerCase() === 'herald-request-id')?.[1];
  const post = (url: string, body: string, init: RequestInit = {}) => fetch(url, { method: 'POST', body, ...init });

  it('is created with a capture URL that holds an unguessable token rather than its id, and is listed and read back', async () => {
    const bin = await newBin({ name: 'checkout tests' });
    assert.match(bin.id, /^bin_[0-9A-Za-z]{22}$/);
    assert.match(bin.url, new RegExp(`^${h.url}/bin/[A-Za-z0-9_-]{32}$`));
    assert.equal(bin.url.includes(bin.id.slice(4)), false);
    assert.deepEqual(bin.response, { status: 200, headers: {}, body: '', delayMs: 0 });
    assert.deepEqual(bin.rules, { failRate: 0, failStatus: 500, rateLimitRate: 0, retryAfterSeconds: 5, timeoutRate: 0 });
    assert.deepEqual((await h.api('GET', `/api/v1/bin/${bin.id}`)).body, bin);
    const all = (await h.api('GET', '/api/v1/bin?limit=250')).body;
    assert.ok(all.data.some((b: BinOut) => b.id === bin.id));
    assert.equal((await h.api('GET', '/api/v1/bin/bin_0000000000000000000000')).status, 404);
    assert.equal((await post(`${h.url}/bin/not-a-token`, 'x')).status, 404, 'an unknown token captures nothing');
  });

  it('captures every method with any sub-path and query byte for byte: headers in the order and case they came, repeats, bytes beyond ASCII, a body that is not UTF-8', async () => {
    const bin = await newBin();
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]);
    const target = `${pathOf(bin)}/a/B%2Fc/%zz/./x?x=1&x=2&y=%00&z&=`;
    for (const method of CAPTURED_METHODS) {
      const headers: Array<[string, string | Buffer]> = [
        ['Host', `127.0.0.1:${port}`],
        ['X-Dup', 'one'],
        ['content-TYPE', 'not a (media) type'],
        ['x-dup', 'two'],
        ['X-Latin', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff])],
        ['Content-Length', String(body.length)],
        ['Connection', 'close'],
      ];
      const answer = await exchange(port, requestBytes(method, target, headers, body));
      assert.equal(answer.status, 200, `${method}: ${answer.body.toString()}`);
      const got = await captured(bin, requestIdOf(answer)!);
      assert.equal(got.method, method);
      assert.equal(got.path, '/a/B%2Fc/%zz/./x');
      assert.equal(got.query, 'x=1&x=2&y=%00&z&=');
      assert.deepEqual(got.headers, headers.map(([name, value]) => ({ name, value: Buffer.isBuffer(value) ? value.toString('latin1') : value })));
      assert.deepEqual(Buffer.from(got.headers[4].value, 'latin1'), headers[4]![1], 'one character per byte: the bytes come back');
      assert.equal(got.bodyBase64, body.toString('base64'));
      assert.equal(got.body, null, 'not UTF-8, so no text');
      assert.equal(got.size, body.length);
      assert.match(got.ip, /127\.0\.0\.1$/);
      assert.equal(got.responseStatusCode, 200);
      assert.equal(got.rule, 'configured');
    }
  });

  it('captures empty, chunked and UTF-8 bodies, and tells no sub-path or query from empty ones', async () => {
    const bin = await newBin();
    const base = pathOf(bin);
    const send = async (method: string, target: string, headers: Array<[string, string]>, body?: string) =>
      captured(bin, requestIdOf(await exchange(port, requestBytes(method, target, [['Host', 'h'], ...headers, ['Connection', 'close']], body === undefined ? undefined : Buffer.from(body))))!);

    const bare = await send('GET', base, []);
    assert.deepEqual([bare.path, bare.query, bare.body, bare.bodyBase64, bare.size], ['', null, '', '', 0]);
    const slashed = await send('DELETE', `${base}/?`, []);
    assert.deepEqual([slashed.path, slashed.query], ['/', '']);
    const chunked = await send('POST', `${base}/c`, [['Transfer-Encoding', 'chunked']], '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    assert.equal(chunked.body, 'hello world');
    assert.deepEqual(chunked.headers.map((header: { name: string }) => header.name), ['Host', 'Transfer-Encoding', 'Connection']);
    const text = 'héllo ✓ {"a":1}';
    const utf8 = await send('PUT', `${base}/u`, [['Content-Length', String(Buffer.byteLength(text))]], text);
    assert.equal(utf8.body, text);
    assert.equal(utf8.bodyBase64, Buffer.from(text).toString('base64'));
    const getWithBody = await send('GET', `${base}/g`, [['Content-Length', '4']], 'body');
    assert.equal(getWithBody.body, 'body', 'a GET\'s body is kept too');
  });

  it('answers with its configured status, headers and body, after its delay', async () => {
    const bin = await newBin({ response: { status: 202, headers: { 'X-Bin': 'yes', 'Content-Type': 'application/xml' }, body: '<ok/>', delayMs: 200 } });
    const started = Date.now();
    const answer = await post(`${bin.url}/orders`, '{}');
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 202);
    assert.equal(answer.headers.get('x-bin'), 'yes');
    assert.equal(answer.headers.get('content-type'), 'application/xml');
    assert.equal(await answer.text(), '<ok/>');
    assert.ok(elapsed >= 195, `answered after ${elapsed} ms`);
    const got = await captured(bin, answer.headers.get('herald-request-id')!);
    assert.deepEqual([got.path, got.responseStatusCode, got.rule], ['/orders', 202, 'configured']);
  });

  it('fails every request under failRate 1 and none under failRate 0', async () => {
    const bin = await newBin({ rules: { failRate: 1, failStatus: 503 } });
    for (let i = 0; i < 3; i++) {
      const answer = await post(bin.url, 'x');
      assert.equal(answer.status, 503);
      assert.match(await answer.text(), /on purpose/);
      const got = await captured(bin, answer.headers.get('herald-request-id')!);
      assert.deepEqual([got.responseStatusCode, got.rule], [503, 'fail']);
    }
    assert.equal((await h.api('PATCH', `/api/v1/bin/${bin.id}`, { rules: { failRate: 0 } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await post(bin.url, 'x')).status, 200);
  });

  it('answers 429 with Retry-After under rateLimitRate 1', async () => {
    const bin = await newBin({ rules: { rateLimitRate: 1, retryAfterSeconds: 7 } });
    const answer = await post(bin.url, 'x');
    assert.equal(answer.status, 429);
    assert.equal(answer.headers.get('retry-after'), '7');
    const got = await captured(bin, answer.headers.get('herald-request-id')!);
    assert.deepEqual([got.responseStatusCode, got.rule], [429, 'rateLimit']);
  });

  it('holds a request open under timeoutRate 1 until the client gives up, keeping it, and closes the connection without an answer at HERALD_BIN_MAX_HOLD', async () => {
    const bin = await newBin({ rules: { timeoutRate: 1 } });
    await assert.rejects(post(bin.url, 'gave up', { signal: AbortSignal.timeout(150) }), (error: Error) => error.name === 'TimeoutError');
    const kept = await waitFor('the held request to be listed', async () => (await listed(bin)).data.find((r) => r.body === 'gave up'));
    assert.deepEqual([kept.responseStatusCode, kept.rule], [null, 'timeout']);
    const held = await exchange(port, requestBytes('POST', pathOf(bin), [['Host', 'h'], ['Content-Length', '4'], ['Connection', 'close']], Buffer.from('held')));
    assert.equal(held.status, null, 'no answer at all');
    assert.ok(held.elapsedMs >= MAX_HOLD_MS - 10 && held.elapsedMs < MAX_HOLD_MS + 4_000, `closed after ${held.elapsedMs} ms`);
  });

  it('refuses a body over HERALD_MAX_PAYLOAD with 413 and keeps nothing of it', async () => {
    const bin = await newBin();
    const big = 'x'.repeat(MAX_PAYLOAD + 1);
    assert.equal((await post(bin.url, big)).status, 413);
    const withGet = await exchange(port, requestBytes('GET', pathOf(bin), [['Host', 'h'], ['Content-Length', String(big.length)], ['Connection', 'close']], Buffer.from(big)));
    assert.equal(withGet.status, 413);
    const chunked = await exchange(port, requestBytes('POST', pathOf(bin), [['Host', 'h'], ['Transfer-Encoding', 'chunked'], ['Connection', 'close']],
      Buffer.from(`${(MAX_PAYLOAD + 1).toString(16)}\r\n${big}\r\n0\r\n\r\n`)));
    assert.equal(chunked.status, 413);
    assert.equal((await post(bin.url, 'small')).status, 200, 'a control that fits');
    assert.deepEqual((await listed(bin)).data.map((r) => r.body), ['small']);
  });

  it('pages its requests newest first in Svix\'s shape', async () => {
    const bin = await newBin();
    for (let i = 0; i < 4; i++) assert.equal((await post(bin.url, `r${i}`)).status, 200);
    const first = await listed(bin, '?limit=2');
    assert.deepEqual(first.data.map((r) => r.body), ['r3', 'r2']);
    assert.equal(first.done, false);
    const second = await listed(bin, `?limit=2&iterator=${first.iterator}`);
    assert.deepEqual(second.data.map((r) => r.body), ['r1', 'r0']);
    assert.equal(second.done, true);
    const back = await listed(bin, `?limit=2&iterator=${second.prevIterator}`);
    assert.deepEqual(back.data.map((r) => r.body), ['r3', 'r2']);
    const withoutContent = await listed(bin, '?limit=1&with_content=false');
    assert.deepEqual([withoutContent.data[0].body, withoutContent.data[0].bodyBase64, withoutContent.data[0].size], [null, null, 2]);
    assert.equal((await h.api('GET', `/api/v1/bin/${bin.id}/request?iterator=msg_0000000000000000000000`)).status, 422);
  });

  it('keeps only its newest HERALD_BIN_MAX_REQUESTS requests', async () => {
    const bin = await newBin();
    for (let i = 0; i < MAX_REQUESTS + 2; i++) assert.equal((await post(bin.url, `r${i}`)).status, 200);
    assert.deepEqual((await listed(bin)).data.map((r) => r.body), ['r6', 'r5', 'r4', 'r3', 'r2']);
  });

  it('deletes one request, and a deleted bin takes its requests and its URL with it', async () => {
    const bin = await newBin();
    const one = (await post(bin.url, 'one')).headers.get('herald-request-id')!;
    const two = (await post(bin.url, 'two')).headers.get('herald-request-id')!;
    assert.equal((await h.api('DELETE', `/api/v1/bin/${bin.id}/request/${one}`)).status, 204);
    assert.equal((await h.api('GET', `/api/v1/bin/${bin.id}/request/${one}`)).status, 404);
    assert.equal((await h.api('DELETE', `/api/v1/bin/${bin.id}/request/${one}`)).status, 404);
    assert.deepEqual((await listed(bin)).data.map((r) => r.id), [two]);
    assert.equal((await h.api('DELETE', `/api/v1/bin/${bin.id}`)).status, 204);
    assert.equal((await h.api('GET', `/api/v1/bin/${bin.id}`)).status, 404);
    assert.equal((await h.api('GET', `/api/v1/bin/${bin.id}/request/${two}`)).status, 404);
    assert.equal((await post(bin.url, 'after')).status, 404, 'the URL captures nothing more');
    assert.equal((await h.api('DELETE', `/api/v1/bin/${bin.id}`)).status, 404);
  });

  it('masks secret-looking headers in listings, the detail and the stream unless revealed', async () => {
    const bin = await newBin();
    const secrets: Array<[string, string]> = [['Authorization', 'Bearer s3cret'], ['Cookie', 'session=abc'], ['X-Hub-Signature-256', 'sha256=00'],
      ['X-Gitlab-Token', 'glt'], ['X-Api-Key', 'key-1'], ['Stripe-Signature', 't=1,v1=00']];
    const answer = await post(bin.url, 'x', { headers: Object.fromEntries([...secrets, ['X-Plain', 'visible']]) });
    const id = answer.headers.get('herald-request-id')!;
    // Names as fetch sent them, whose case it may change: compared in lower case.
    const shown = (request: any) => Object.fromEntries(request.headers.map((header: any) => [header.name.toLowerCase(), { ...header, name: header.name.toLowerCase() }]));
    for (const masked of [(await listed(bin)).data[0], await captured(bin, id)]) {
      for (const [name] of secrets) assert.deepEqual(shown(masked)[name.toLowerCase()], { name: name.toLowerCase(), value: null, masked: true }, name);
      assert.deepEqual(shown(masked)['x-plain'], { name: 'x-plain', value: 'visible' });
    }
    for (const revealed of [(await listed(bin, '?reveal=true')).data[0], await captured(bin, id, '?reveal=true')]) {
      for (const [name, value] of secrets) assert.deepEqual(shown(revealed)[name.toLowerCase()], { name: name.toLowerCase(), value }, name);
    }
  });

  it('is an operator\'s tool: an application\'s token gets 403 on every bin route', async () => {
    const bin = await newBin();
    const app = await h.api('POST', '/api/v1/app', { name: 'portal' });
    const portal = (await h.api('POST', `/api/v1/auth/app-portal-access/${app.body.id}`, {})).body.token;
    const as = (method: string, path: string, body?: unknown) =>
      fetch(h.url + path, { method, headers: { authorization: `Bearer ${portal}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) => r.status);
    assert.equal(await as('GET', `/api/v1/app/${app.body.id}`), 200, 'the token works where it may');
    for (const [method, path, body] of [['GET', '/api/v1/bin'], ['POST', '/api/v1/bin', {}], ['GET', `/api/v1/bin/${bin.id}`], ['PATCH', `/api/v1/bin/${bin.id}`, {}],
      ['DELETE', `/api/v1/bin/${bin.id}`], ['GET', `/api/v1/bin/${bin.id}/request?reveal=true`], ['GET', `/api/v1/bin/${bin.id}/request/stream`],
      ['POST', `/api/v1/bin/${bin.id}/token/rotate`]] as const) {
      assert.equal(await as(method, path, body), 403, `${method} ${path}`);
    }
    assert.equal((await fetch(`${h.url}/api/v1/bin`)).status, 401);
  });

  it('answers as changed by PATCH from the next request on, and stops answering at its old URL once rotated', async () => {
    const bin = await newBin({ name: 'before', response: { status: 201, body: 'first' } });
    assert.equal((await post(bin.url, 'x')).status, 201);
    const patched = await h.api('PATCH', `/api/v1/bin/${bin.id}`, { name: null, response: { body: 'second' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, null);
    assert.deepEqual(patched.body.response, { status: 201, headers: {}, body: 'second', delayMs: 0 }, 'absent fields stay');
    assert.equal(await (await post(bin.url, 'x')).text(), 'second');
    const reset = await h.api('PATCH', `/api/v1/bin/${bin.id}`, { response: null });
    assert.deepEqual(reset.body.response, { status: 200, headers: {}, body: '', delayMs: 0 }, 'null resets');
    const rotated = await h.api('POST', `/api/v1/bin/${bin.id}/token/rotate`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.url, bin.url);
    assert.equal((await post(bin.url, 'old')).status, 404);
    assert.equal((await post(rotated.body.url, 'new')).status, 200);
    assert.equal((await h.api('GET', `/api/v1/bin/${bin.id}`)).body.url, rotated.body.url);
  });

  it('refuses a configuration it could not answer with, saying where', async () => {
    const bin = await newBin();
    const cases: Array<[unknown, string[]]> = [
      [{ rules: { failRate: 0.6, timeoutRate: 0.5 } }, ['body', 'rules']],
      [{ rules: { failRate: 1.5 } }, ['body', 'rules', 'failRate']],
      [{ response: { delayMs: MAX_HOLD_MS + 1 } }, ['body', 'response', 'delayMs']],
      [{ response: { headers: { 'Bad Name': 'x' } } }, ['body', 'response', 'headers', 'Bad Name']],
      [{ response: { headers: { 'Content-Length': '3' } } }, ['body', 'response', 'headers', 'Content-Length']],
      [{ response: { headers: { 'X-A': 'line\nbreak' } } }, ['body', 'response', 'headers', 'X-A']],
      [{ response: { status: 99 } }, ['body', 'response', 'status']],
    ];
    for (const [body, loc] of cases) {
      for (const [method, path] of [['POST', '/api/v1/bin'], ['PATCH', `/api/v1/bin/${bin.id}`]]) {
        const answer = await h.api(method!, path!, body);
        assert.equal(answer.status, 422, `${method} ${JSON.stringify(body)}`);
        assert.deepEqual(answer.body.detail[0].loc, loc, JSON.stringify(answer.body));
      }
    }
  });

  it('streams the requests captured after the stream opened as server-sent events, in order, and resumes after a Last-Event-ID', async () => {
    const bin = await newBin();
    assert.equal((await post(bin.url, 'before')).status, 200);
    const open = (headers: Record<string, string> = {}) =>
      fetch(`${h.url}/api/v1/bin/${bin.id}/request/stream`, { headers: { authorization: `Bearer ${h.token}`, ...headers } });
    const response = await open();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
    const stream = eventReader(response);
    await stream.until((text) => text.includes('\n\n'));
    const a = (await post(`${bin.url}/a?x=1`, 'a', { headers: { authorization: 'Bearer hidden' } })).headers.get('herald-request-id');
    const b = (await post(bin.url, 'b')).headers.get('herald-request-id');
    const events = await stream.next(2);
    assert.deepEqual(events.map((e) => e.id), [a, b]);
    assert.deepEqual([events[0]!.data.body, events[0]!.data.path, events[0]!.data.query], ['a', '/a', 'x=1']);
    assert.deepEqual(events[0]!.data.headers.find((header: any) => header.name === 'authorization'), { name: 'authorization', value: null, masked: true });
    await stream.cancel();

    const c = (await post(bin.url, 'c')).headers.get('herald-request-id');
    const resumed = eventReader(await open({ 'last-event-id': a! }));
    assert.deepEqual((await resumed.next(2)).map((e) => e.data.body), ['b', 'c']);
    await resumed.cancel();
    const revealed = eventReader(await fetch(`${h.url}/api/v1/bin/${bin.id}/request/stream?reveal=true`, { headers: { authorization: `Bearer ${h.token}`, 'last-event-id': c! } }));
    await revealed.until((text) => text.includes('\n\n'));
    await post(bin.url, 'd', { headers: { authorization: 'Bearer shown' } });
    const [d] = await revealed.next(1);
    assert.deepEqual(d!.data.headers.find((header: any) => header.name === 'authorization'), { name: 'authorization', value: 'Bearer shown' });
    await revealed.cancel();
    assert.equal((await open({ 'last-event-id': 'nonsense' })).status, 422);
  });

  it('ends a bin\'s live stream with a deleted event when the bin is deleted', async () => {
    const bin = await newBin();
    const response = await fetch(`${h.url}/api/v1/bin/${bin.id}/request/stream`, { headers: { authorization: `Bearer ${h.token}` } });
    const stream = eventReader(response);
    await stream.until((text) => text.includes('\n\n'));
    assert.equal((await h.api('DELETE', `/api/v1/bin/${bin.id}`)).status, 204);
    await stream.until((text) => text.includes('event: deleted'));
    await assert.rejects(stream.until(() => false, 2_000), /the stream ended/);
  });

  it('takes Herald\'s own deliveries, whose signature verifies with the standardwebhooks library over the bytes it kept', async () => {
    const bin = await newBin();
    const app = await h.api('POST', '/api/v1/app', { name: 'self' });
    const endpoint = await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${bin.url}/hooks` });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const secret = (await h.api('GET', `/api/v1/app/${app.body.id}/endpoint/${endpoint.body.id}/secret`)).body.key;
    const payload = '{"amount": 12345678901234567890, "ratio": 2.50, "note": "caf\\u00e9"}';
    const sent = await h.api('POST', `/api/v1/app/${app.body.id}/msg`, `{"eventType": "invoice.paid", "payload": ${payload}}`);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const kept = await waitFor('the delivery to reach the bin', async () => (await listed(bin, '?reveal=true')).data[0]);
    assert.equal(kept.method, 'POST');
    assert.equal(kept.path, '/hooks');
    const body = Buffer.from(kept.bodyBase64, 'base64');
    assert.equal(body.toString(), payload, 'the payload\'s bytes as published');
    const headers = Object.fromEntries(kept.headers.map((header: any) => [header.name.toLowerCase(), header.value]));
    assert.equal(headers['webhook-id'], sent.body.id);
    assert.deepEqual(new Webhook(secret).verify(body.toString(), headers), JSON.parse(payload));
    assert.throws(() => new Webhook(secret).verify(body.toString().replace('2.50', '2.5'), headers), 'and a changed byte does not');
  });
}));

describe('request bins when Herald stops', () => {
  it('lets go of held requests and open streams at once, so shutdown does not wait for them', { timeout: 30_000 }, async () => {
    const h = await startTestHerald();
    let closed = false;
    try {
      const bin = (await h.api('POST', '/api/v1/bin', { rules: { timeoutRate: 1 } })).body;
      const held = exchange(Number(new URL(h.url).port), requestBytes('POST', new URL(bin.url).pathname, [['Host', 'h'], ['Content-Length', '1'], ['Connection', 'close']], Buffer.from('x')));
      await waitFor('the held request to be kept', async () => (await h.api('GET', `/api/v1/bin/${bin.id}/request`)).body.data.length === 1);
      const stream = eventReader(await fetch(`${h.url}/api/v1/bin/${bin.id}/request/stream`, { headers: { authorization: `Bearer ${h.token}` } }));
      await stream.until((text) => text.includes('\n\n'));
      const started = Date.now();
      await h.close();
      closed = true;
      const took = Date.now() - started;
      assert.ok(took < 5_000, `closing took ${took} ms, with HERALD_BIN_MAX_HOLD at its default of 60 s`);
      assert.equal((await held).status, null, 'the held request is dropped without an answer');
      await assert.rejects(stream.until(() => false, 5_000), /the stream ended/);
    } finally {
      if (!closed) await h.close();
    }
  });
});

const onPostgres = await postgresReachable();
(onPostgres ? describe : describe.skip)(onPostgres ? 'request bins across processes on PostgreSQL' : SKIPPED_POSTGRES, () => {
  const pair = processPair('bins');

  /** The bin's URL on the other process: the same token, another origin. */
  const onThere = (url: string) => `${pair.there.url}${new URL(url).pathname}`;

  it('streams on one process what another captures', async () => {
    const bin = (await call(pair.here.url, 'POST', '/api/v1/bin', {})).body;
    const stream = eventReader(await fetch(`${pair.here.url}/api/v1/bin/${bin.id}/request/stream`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }));
    await stream.until((text) => text.includes('\n\n'));
    const ids = [];
    for (const body of ['one', 'two', 'three']) ids.push((await fetch(onThere(bin.url), { method: 'POST', body })).headers.get('herald-request-id'));
    const events = await stream.next(3);
    assert.deepEqual(events.map((e) => e.id), ids);
    assert.deepEqual(events.map((e) => e.data.body), ['one', 'two', 'three']);
    await stream.cancel();
  });

  it('ends a bin\'s live stream on one process when another deletes the bin', async () => {
    const bin = (await call(pair.here.url, 'POST', '/api/v1/bin', {})).body;
    const stream = eventReader(await fetch(`${pair.here.url}/api/v1/bin/${bin.id}/request/stream`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }));
    await stream.until((text) => text.includes('\n\n'));
    assert.equal((await call(pair.there.url, 'DELETE', `/api/v1/bin/${bin.id}`)).status, 204);
    await stream.until((text) => text.includes('event: deleted'));
    await assert.rejects(stream.until(() => false, 2_000), /the stream ended/);
  });

  it('answers on another process as changed at once, though that process keeps bins in its cache', async () => {
    const bin = (await call(pair.here.url, 'POST', '/api/v1/bin', { response: { status: 201 } })).body;
    assert.equal((await fetch(onThere(bin.url), { method: 'POST', body: 'x' })).status, 201, 'cached there');
    assert.equal((await call(pair.here.url, 'PATCH', `/api/v1/bin/${bin.id}`, { rules: { failRate: 1, failStatus: 502 } })).status, 200);
    await waitFor('the other process to answer as changed', async () => (await fetch(onThere(bin.url), { method: 'POST', body: 'x' })).status === 502, 1_000);
  });
});
