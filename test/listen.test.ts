import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { request as undiciRequest } from 'undici';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { BIN, NODE_FLAGS } from './support/process.ts';
import { trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * `herald listen` as a user runs it: the real CLI in a child process, pulling a session of a
 * Herald on SQLite (in this process) over loopback and forwarding to a local receiver. The
 * session's server side is the delivery queue, whose store parity the contract suite pins.
 */

const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(HERALD_|NO_COLOR$|COLUMNS$|FORCE_COLOR$)/.test(name)));

interface Listening {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | string>;
}

const seqOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { seq: number }).seq;

describe('herald listen', () => {
  const failures = trackFailures();
  let h: TestHerald;
  const running: Listening[] = [];

  const listen = (args: string[], token?: string, url?: string): Listening => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'listen', ...args], {
      env: { ...BASE_ENV, HERALD_URL: url ?? h.url, HERALD_TOKEN: token ?? h.token },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
    const listening = { child, stdout: () => stdout, stderr: () => stderr, exited };
    running.push(listening);
    return listening;
  };
  const stop = async (listening: Listening, signal: NodeJS.Signals = 'SIGINT') => {
    listening.child.kill(signal);
    return listening.exited;
  };
  const send = (app: string, eventType: string, seq: number) =>
    h.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload: { seq } }).then((r) => (assert.equal(r.status, 202), r.body.id as string));
  const newApp = async (uid: string) => {
    assert.equal((await h.api('POST', '/api/v1/app', { name: uid, uid })).status, 201);
  };
  /** Runs `herald listen --source` on a session until the first request reaches a receiver: that request, and what the CLI printed. */
  const forwardedFrom = async (sourceId: string, session: string) => {
    const receiver = await startReceiver();
    try {
      const listening = listen(['--source', sourceId, '--session', session, '--forward-to', `${receiver.url}/${session}`]);
      await waitFor('the request', () => receiver.requests.length >= 1);
      await stop(listening);
      return { request: receiver.requests[0]!, stdout: listening.stdout() };
    } finally {
      await receiver.close();
    }
  };

  before(async () => {
    h = await startTestHerald({ env: { HERALD_LISTEN_MAX_EVENTS: '5' } });
    for (const name of ['order.created', 'order.paid']) await h.api('POST', '/api/v1/event-type', { name, description: name });
  });
  after(async () => {
    for (const listening of running) if (listening.child.exitCode === null && listening.child.signalCode === null) listening.child.kill('SIGKILL');
    await h.close(failures.any());
  });

  it('forwards in order, signed, the events sent while no listener was connected, and the local answers show in the attempt log', async () => {
    await newApp('offline');
    const receiver = await startReceiver();
    try {
      // The session exists before the events (a listener came and went), so they are kept for it.
      const opened = await h.api('POST', '/api/v1/app/offline/listen', { name: 'laptop' });
      assert.equal(opened.status, 201);
      receiver.secret = opened.body.secret;
      const ids = [];
      for (let seq = 0; seq < 4; seq++) ids.push(await send('offline', 'order.created', seq));
      assert.equal((await h.api('GET', `/api/v1/app/offline/listen/laptop`)).body.pending, 4);

      const listening = listen(['--app', 'offline', '--session', 'laptop', '--forward-to', `${receiver.url}/hooks`]);
      await waitFor('the four events', () => receiver.requests.length >= 4);
      assert.deepEqual(receiver.requests.map((r) => seqOf(r.body)), [0, 1, 2, 3]);
      assert.ok(receiver.requests.every((r) => r.verified === true && r.path === '/hooks' && r.method === 'POST'));
      await waitFor('the session to be drained', async () => (await h.api('GET', `/api/v1/app/offline/listen/laptop`)).body.pending === 0);
      assert.equal(await stop(listening), 0);
      assert.match(listening.stdout(), /order\.created\s+msg_\S+\s+→ 200/);
      assert.match(listening.stderr(), /stopped: 4 forwarded, 4 answered 2xx/);

      const attempts = await h.api('GET', `/api/v1/app/offline/attempt/endpoint/${opened.body.id}?with_content=true`);
      assert.equal(attempts.body.data.length, 4);
      for (const attempt of attempts.body.data) {
        assert.equal(attempt.responseStatusCode, 200);
        assert.equal(attempt.response, 'ok');
        assert.equal(attempt.url, `${receiver.url}/hooks`);
        assert.equal(attempt.status, 0);
      }
      const destinations = await h.api('GET', `/api/v1/app/offline/msg/${ids[0]}/endpoint`);
      assert.equal(destinations.body.data[0].status, 0);
    } finally {
      await receiver.close();
    }
  });

  it("keeps the session's secret when it is opened again, with new filters or without, so deliveries still verify", async () => {
    await newApp('reopened');
    const receiver = await startReceiver();
    try {
      const opened = await h.api('POST', '/api/v1/app/reopened/listen', { name: 'laptop' });
      assert.match(opened.body.secret, /^whsec_/);
      receiver.secret = opened.body.secret;
      const again = await h.api('POST', '/api/v1/app/reopened/listen', { name: 'laptop' });
      const refiltered = await h.api('POST', '/api/v1/app/reopened/listen', { name: 'laptop', eventTypes: ['order.created'] });
      assert.deepEqual([again.body.secret, refiltered.body.secret], [opened.body.secret, opened.body.secret]);
      const listening = listen(['--app', 'reopened', '--session', 'laptop', '--event-types', 'order.paid', '--forward-to', `${receiver.url}/hooks`]);
      await waitFor('the session to be opened with its new filter', () => listening.stderr().includes('verify with'));
      await send('reopened', 'order.paid', 1);
      await waitFor('the event', () => receiver.requests.length >= 1);
      assert.equal(receiver.requests[0]!.verified, true, 'signed with the secret the session was opened with');
      assert.ok(listening.stderr().includes(opened.body.secret), `the CLI shows the secret to verify with: ${listening.stderr()}`);
      assert.equal(await stop(listening), 0);
    } finally {
      await receiver.close();
    }
  });

  it('waits out a Herald that answers 503 (draining, or a proxy in front of one that is down) and goes on, rather than exiting', async () => {
    await newApp('draining');
    const receiver = await startReceiver();
    // A proxy in front of Herald that answers 503 while `down`, as one does while Herald restarts.
    let down = false;
    let refused = 0;
    const proxy = createServer((req, res) => {
      if (down) {
        refused++;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream unavailable');
        return;
      }
      const upstream = request(`${h.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const listening = listen(['--app', 'draining', '--session', 'laptop', '--forward-to', `${receiver.url}/hooks`], undefined, `http://127.0.0.1:${port}`);
      await waitFor('the session to be opened', () => listening.stderr().includes('listening:'));
      down = true;
      // Either the poll already open brings the event and reporting the local answer meets the 503,
      // or the next poll meets it.
      const sent = await send('draining', 'order.created', 1);
      await waitFor('the listener to meet the 503 and say so', () => refused > 0 && listening.stderr().includes('Herald answered 503'));
      // Past the first back-off: the listener is still there, retrying.
      await waitFor('a retry through the proxy', () => refused >= 2);
      assert.equal(listening.child.exitCode, null, `the listener exited: ${listening.stderr()}`);
      down = false;
      await waitFor('the listener to reconnect', () => /reconnected/.test(listening.stderr()));
      // The answer it could not report is not lost: the event goes again and is answered.
      await waitFor('the session to be drained', async () => (await h.api('GET', '/api/v1/app/draining/listen/laptop')).body.pending === 0);
      await waitFor('the event at the local service', () => receiver.requests.find((r) => r.headers['webhook-id'] === sent));
      assert.equal(await stop(listening), 0);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
      await receiver.close();
    }
  });

  it('loses nothing when killed with SIGKILL mid-stream and started again with the same session', async () => {
    await newApp('killed');
    // Slow answers, so the kill lands while events are being forwarded.
    const receiver = await startReceiver(() => ({ status: 200, body: 'ok', delayMs: 30 }));
    try {
      await h.api('POST', '/api/v1/app/killed/listen', { name: 'ks' });
      const total = 5;
      for (let seq = 0; seq < total; seq++) await send('killed', 'order.created', seq);
      const first = listen(['--app', 'killed', '--session', 'ks', '--forward-to', receiver.url]);
      await waitFor('a first event', () => receiver.requests.length >= 2);
      await stop(first, 'SIGKILL');
      const beforeRestart = receiver.requests.length;
      assert.ok(beforeRestart < total + 1, 'the kill came before the end of the stream');
      const second = listen(['--app', 'killed', '--session', 'ks', '--forward-to', receiver.url, '--json']);
      await waitFor('every event', () => new Set(receiver.requests.map((r) => seqOf(r.body))).size === total);
      await waitFor('the session to be drained', async () => (await h.api('GET', '/api/v1/app/killed/listen/ks')).body.pending === 0);
      await stop(second);
      const seqs = receiver.requests.map((r) => seqOf(r.body));
      // In order: each first arrival is the next event; a repeat is only of what the first run was
      // given before the kill and not yet acknowledged.
      const firsts = seqs.filter((seq, i) => seqs.indexOf(seq) === i);
      assert.deepEqual(firsts, [0, 1, 2, 3, 4]);
      const deliveredBeforeKill = new Set(seqs.slice(0, beforeRestart));
      for (const [i, seq] of seqs.entries()) if (seqs.indexOf(seq) !== i) assert.ok(deliveredBeforeKill.has(seq), `only an interrupted event comes twice: ${seqs}`);
      const after = seqs.slice(beforeRestart);
      assert.deepEqual(after, [...after].sort((a, b) => a - b), 'the second run forwards in order');
      const lines = second.stdout().trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(lines.at(-1).summary.failed, 0);
    } finally {
      await receiver.close();
    }
  });

  it('retries a local 500 on the usual schedule, and with --no-retry records it and goes on', async () => {
    await newApp('failing');
    let fails = 1;
    const receiver = await startReceiver((request) => (seqOf(request.body) === 0 && fails-- > 0 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' }));
    try {
      const session = (await h.api('POST', '/api/v1/app/failing/listen', { name: 'r' })).body;
      await send('failing', 'order.created', 0);
      await send('failing', 'order.created', 1);
      const retrying = listen(['--app', 'failing', '--session', 'r', '--forward-to', receiver.url]);
      await waitFor('both events answered 2xx', () => receiver.requests.filter((r) => r.body.length > 0).length >= 3);
      await waitFor('the session to be drained', async () => (await h.api('GET', '/api/v1/app/failing/listen/r')).body.pending === 0);
      await stop(retrying);
      // The failed event came again before the next one: order holds through a retry.
      assert.deepEqual(receiver.requests.map((r) => seqOf(r.body)), [0, 0, 1]);
      assert.match(retrying.stdout(), /→ 500 .*retry at/);
      const attempts = (await h.api('GET', `/api/v1/app/failing/attempt/endpoint/${session.id}?with_content=true`)).body.data;
      assert.deepEqual(attempts.map((a: any) => [a.responseStatusCode, a.response]).reverse(), [[500, 'boom'], [200, 'ok'], [200, 'ok']]);

      fails = 1;
      receiver.requests.length = 0;
      const first = await send('failing', 'order.created', 0);
      await send('failing', 'order.created', 1);
      const skipping = listen(['--app', 'failing', '--session', 'r', '--no-retry', '--forward-to', receiver.url]);
      await waitFor('the second event', () => receiver.requests.some((r) => seqOf(r.body) === 1));
      await stop(skipping);
      assert.deepEqual(receiver.requests.map((r) => seqOf(r.body)), [0, 1]);
      assert.match(skipping.stdout(), /→ 500 .*recorded, not retried/);
      const destination = (await h.api('GET', `/api/v1/app/failing/msg/${first}/endpoint`)).body.data[0];
      assert.equal(destination.status, 2);
    } finally {
      await receiver.close();
    }
  });

  it("forwards a source's requests with their method, headers and bytes, so the provider's library verifies them", async () => {
    const source = (await h.api('POST', '/ingest/api/v1/source', { name: 'Stripe', type: 'stripe', config: { secret: 'whsec_listen_stripe' } })).body;
    await h.api('POST', `/ingest/api/v1/source/${source.id}/listen`, { name: 'dev' });
    // Spacing and key order a re-serialiser would change.
    const body = '{"id":"evt_listen_1",  "type":"invoice.paid","data":{"object":{"amount":4200, "b":1,"a":2}}}';
    const stripe = new Stripe('sk_test_not_used');
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_listen_stripe' });
    const received = await fetch(source.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header, 'x-custom': 'kept' }, body });
    assert.equal(received.status, 200, await received.text());
    const { request, stdout } = await forwardedFrom(source.id, 'dev');
    assert.equal(request.body.toString('utf8'), body);
    assert.equal(request.headers['stripe-signature'], header);
    assert.equal(request.headers['x-custom'], 'kept');
    assert.equal(request.method, 'POST');
    const event = stripe.webhooks.constructEvent(request.body, request.headers['stripe-signature'] as string, 'whsec_listen_stripe');
    assert.equal(event.id, 'evt_listen_1');
    assert.match(stdout, /POST invoice\.paid\s+msg_\S+\s+→ 200/);
  });

  it("forwards a Standard Webhooks sender's own webhook-* headers under their names, with none of Herald's, so the sender's library verifies them", async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const source = (await h.api('POST', '/ingest/api/v1/source', { name: 'Std', type: 'standard-webhooks', config: { secret } })).body;
    await h.api('POST', `/ingest/api/v1/source/${source.id}/listen`, { name: 'std' });
    const body = '{"type":"user.created",  "data":{"id":"u_1"}}';
    const id = 'msg_sender_1';
    const timestamp = new Date();
    const signature = new StandardWebhook(secret).sign(id, timestamp, body);
    const headers = { 'content-type': 'application/json', 'user-agent': 'Sender/1.0', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
    // Sent with undici's request, which adds no header of its own, unlike fetch.
    const received = await undiciRequest(source.ingestUrl, { method: 'POST', headers, body });
    assert.equal(received.statusCode, 200, await received.body.text());
    const { request } = await forwardedFrom(source.id, 'std');
    assert.deepEqual(new StandardWebhook(secret).verify(request.body.toString('utf8'), request.headers as Record<string, string>), { type: 'user.created', data: { id: 'u_1' } });
    assert.deepEqual([request.headers['webhook-id'], request.headers['webhook-signature'], request.headers['user-agent']], [id, signature, 'Sender/1.0']);
    assert.equal(request.headers['x-herald-source'], source.id);
    // Nothing a fetch would add: the request as the sender made it.
    for (const name of ['accept-language', 'sec-fetch-mode', 'x-original-webhook-id']) assert.equal(request.headers[name], undefined, name);
  });

  it('drops the oldest events beyond the bounds and says so', async () => {
    await newApp('bounded');
    const receiver = await startReceiver();
    try {
      await h.api('POST', '/api/v1/app/bounded/listen', { name: 'b' });
      for (let seq = 0; seq < 8; seq++) await send('bounded', 'order.created', seq);
      const listening = listen(['--app', 'bounded', '--session', 'b', '--forward-to', receiver.url]);
      await waitFor('the kept events', () => receiver.requests.length >= 5);
      await waitFor('the session to be drained', async () => (await h.api('GET', '/api/v1/app/bounded/listen/b')).body.pending === 0);
      await stop(listening);
      // HERALD_LISTEN_MAX_EVENTS is 5: the three oldest went.
      assert.deepEqual(receiver.requests.map((r) => seqOf(r.body)), [3, 4, 5, 6, 7]);
      assert.equal((await h.api('GET', '/api/v1/app/bounded/listen/b')).body.dropped, 3);
      assert.match(listening.stderr(), /3 event\(s\) (of this session )?were dropped|3 event\(s\) dropped/);
    } finally {
      await receiver.close();
    }
  });

  it('loses nothing of a burst bigger than the bounds while a listener is connected and taking it slowly', async () => {
    await newApp('burst');
    // Slow enough that the burst piles up on the server well past HERALD_LISTEN_MAX_EVENTS (5).
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 100 }));
    try {
      const listening = listen(['--app', 'burst', '--session', 'slow', '--forward-to', receiver.url]);
      await waitFor('the session open', () => listening.stderr().includes('listening: session slow'));
      await Promise.all(Array.from({ length: 12 }, (_, seq) => send('burst', 'order.created', seq)));
      await waitFor('the burst', () => receiver.requests.length >= 12, 10_000);
      await waitFor('the session to be drained', async () => (await h.api('GET', '/api/v1/app/burst/listen/slow')).body.pending === 0);
      await stop(listening);
      assert.deepEqual(receiver.requests.map((r) => seqOf(r.body)).sort((a, b) => a - b), Array.from({ length: 12 }, (_, seq) => seq));
      assert.equal((await h.api('GET', '/api/v1/app/burst/listen/slow')).body.dropped, 0);
    } finally {
      await receiver.close();
    }
  });

  it('hands a session to the listener that opened it last, and tells the earlier one, which stops instead of competing for its events', async () => {
    await newApp('twice');
    const first = await startReceiver();
    const second = await startReceiver();
    try {
      const a = listen(['--app', 'twice', '--session', 'shared', '--forward-to', first.url]);
      await waitFor('the first listener', () => a.stderr().includes('listening: session shared'));
      const b = listen(['--app', 'twice', '--session', 'shared', '--forward-to', second.url]);
      await waitFor('the second listener', () => b.stderr().includes('listening: session shared'));
      assert.equal(await a.exited, 1);
      assert.match(a.stderr(), /another listener opened session shared: it gets the events now; stopping/);
      for (let seq = 0; seq < 3; seq++) await send('twice', 'order.created', seq);
      await waitFor('the events at the second', () => second.requests.length >= 3);
      await stop(b);
      assert.deepEqual(second.requests.map((r) => seqOf(r.body)), [0, 1, 2]);
      assert.equal(first.requests.length, 0);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('gives back what an earlier listener\'s waiting poll leased after another took the session over, to the one that holds it now', async () => {
    await newApp('raced');
    assert.equal((await h.api('POST', '/api/v1/app/raced/listen', { name: 'race', listener: 'first' })).status, 201);
    const waiting = h.api('POST', '/api/v1/app/raced/listen/race/next?wait=5&listener=first');
    assert.equal((await h.api('POST', '/api/v1/app/raced/listen', { name: 'race', listener: 'second' })).status, 200);
    // Sent within the second before the waiting poll looks again: that poll leases it first.
    await send('raced', 'order.created', 7);
    const earlier = await waiting;
    assert.deepEqual([earlier.status, earlier.body.code], [409, 'taken_over']);
    const later = await h.api('POST', '/api/v1/app/raced/listen/race/next?wait=5&listener=second');
    assert.deepEqual(later.body.data.map((d: { bodyBase64: string }) => JSON.parse(Buffer.from(d.bodyBase64, 'base64').toString()).seq), [7]);
  });

  it("lists an application's sessions, with what each holds, so a forgotten one can be found and deleted", async () => {
    await newApp('many');
    for (const name of ['laptop', 'ci']) assert.equal((await h.api('POST', '/api/v1/app/many/listen', { name })).status, 201);
    await send('many', 'order.created', 0);
    const listed = (await h.api('GET', '/api/v1/app/many/listen')).body;
    assert.deepEqual(listed.data.map((session: { name: string; pending: number }) => [session.name, session.pending]), [['laptop', 1], ['ci', 1]]);
    assert.equal(listed.data[0].secret, undefined, 'no secret in a listing');
    assert.equal((await h.api('DELETE', `/api/v1/app/many/listen/${listed.data[1].id}`)).status, 204);
    assert.deepEqual((await h.api('GET', '/api/v1/app/many/listen')).body.data.map((session: { name: string }) => session.name), ['laptop']);
  });

  it("lets an application's token open a session of its own application only", async () => {
    await newApp('mine');
    await newApp('theirs');
    const access = await h.api('POST', '/api/v1/auth/app-portal-access/theirs', {});
    const token = access.body.token as string;
    const refused = await fetch(`${h.url}/api/v1/app/mine/listen`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"name":"x"}',
    });
    assert.equal(refused.status, 403);
    const listening = listen(['--app', 'mine', '--forward-to', 'http://127.0.0.1:9/'], token);
    assert.equal(await listening.exited, 1);
    assert.match(listening.stderr(), /403/);
    const own = await fetch(`${h.url}/api/v1/app/theirs/listen`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"name":"x"}',
    });
    assert.equal(own.status, 201);
  });
});
