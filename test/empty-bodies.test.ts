import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * What curl sends with a shared header list: `content-type: application/json` and no body at all.
 * Every route that takes no body (or whose body has no required field, where empty means `{}`)
 * answers it as it answers the SDK (reads included); a route that needs a body says so with a 422
 * at `body`.
 * Requests go through node:http, which sends exactly the headers given and no body.
 */

interface Answer {
  status: number;
  body: any;
}

type Framing = 'content-length: 0' | 'chunked' | 'no length';

function send(url: string, method: string, headers: Record<string, string>, framing: Framing = 'content-length: 0'): Promise<Answer> {
  const framed = framing === 'content-length: 0' ? { 'content-length': '0' } : framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : {};
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers: { ...headers, ...framed } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

interface Route {
  method: string;
  path: string;
  status: number;
  /** Checks that the request did what the same request with a body would have done. */
  check?: (answer: Answer) => Promise<void>;
}

await forEachStore((store) => describe(`requests without a body (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));
  let counter = 0;

  const ok = async (method: string, path: string, body?: unknown) => {
    const answer = await h.api(method, path, body);
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const gone = (path: string) => async () => assert.equal((await h.api('GET', path)).status, 404, `${path} is gone`);

  /** A fresh application with an endpoint, a message delivered nowhere, an event type and a source with an endpoint and a received request. */
  async function fixtures() {
    const n = ++counter;
    // Endpoints may filter only on event types that exist.
    for (const name of ['never.sent', 'seen.event']) await h.api('POST', '/api/v1/event-type', { name, description: name });
    const app = (await ok('POST', '/api/v1/app', { name: `App ${n}`, uid: `empty-${n}` })).id as string;
    const endpoint = (await ok('POST', `/api/v1/app/${app}/endpoint`, { url: 'http://127.0.0.1:9/', eventTypes: ['never.sent'] })).id as string;
    const message = (await ok('POST', `/api/v1/app/${app}/msg`, { eventType: 'some.event', payload: {} })).id as string;
    const eventType = `empty.type-${n}`;
    await ok('POST', '/api/v1/event-type', { name: eventType, description: 'd' });
    const source = await ok('POST', '/ingest/api/v1/source', { name: `Source ${n}`, type: 'generic-webhook' });
    const sourceEndpoint = (await ok('POST', `/ingest/api/v1/source/${source.id}/endpoint`, { url: 'http://127.0.0.1:9/' })).id as string;
    const received = await fetch(source.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":1}' });
    assert.equal(received.status, 200);
    const sourceMessage = received.headers.get('herald-message-id')!;
    // One message delivered to the receiver, for an attempt to look at.
    const seen = (await ok('POST', `/api/v1/app/${app}/endpoint`, { url: receiver.url, eventTypes: ['seen.event'] })).id as string;
    const seenMessage = (await ok('POST', `/api/v1/app/${app}/msg`, { eventType: 'seen.event', payload: {} })).id as string;
    const attempt = await waitFor('the attempt', async () => (await h.api('GET', `/api/v1/app/${app}/attempt/msg/${seenMessage}`)).body.data[0]?.id as string | undefined);
    return { app, endpoint, message, eventType, source: source.id as string, ingestUrl: source.ingestUrl as string, sourceEndpoint, sourceMessage, seen, seenMessage, attempt };
  }

  /** Every route that takes no body, or one without required fields, with what its normal answer is. */
  async function bodilessRoutes(): Promise<Route[]> {
    const f = await fixtures();
    const a = `/api/v1/app/${f.app}`;
    const s = `/ingest/api/v1/source/${f.source}`;
    const secretOf = async (path: string) => (await h.api('GET', `${path}/secret`)).body.key;
    const appSecret = await secretOf(`${a}/endpoint/${f.endpoint}`);
    const sourceSecret = await secretOf(`${s}/endpoint/${f.sourceEndpoint}`);
    const expungedType = `${f.eventType}-x`;
    await ok('POST', '/api/v1/event-type', { name: expungedType, description: 'd' });
    const reads = [
      '/api/v1/app', a, `${a}/endpoint`, `${a}/endpoint/${f.seen}`, `${a}/endpoint/${f.seen}/secret`, `${a}/endpoint/${f.seen}/headers`,
      `${a}/endpoint/${f.seen}/stats`, `${a}/endpoint/${f.seen}/msg`, `${a}/msg`, `${a}/msg/${f.seenMessage}`, `${a}/msg/${f.seenMessage}/endpoint`,
      `${a}/msg/${f.seenMessage}/attempt/${f.attempt}`, `${a}/attempt/msg/${f.seenMessage}`, `${a}/attempt/endpoint/${f.seen}`,
      '/api/v1/event-type', `/api/v1/event-type/${f.eventType}`, '/ingest/api/v1/source', s, `${s}/endpoint`, `${s}/endpoint/${f.sourceEndpoint}`,
      `${s}/msg`, `${s}/msg/${f.sourceMessage}`,
    ].map((path): Route => ({ method: 'GET', path, status: 200 }));
    // Routes that delete come last, so the others still find what they act on.
    return [
      ...reads,
      { method: 'GET', path: '/api/v1/health', status: 204 },
      { method: 'POST', path: `${a}/msg/${f.message}/endpoint/${f.endpoint}/resend`, status: 202, check: async (answer) => assert.deepEqual(answer.body, {}) },
      { method: 'POST', path: `${s}/msg/${f.sourceMessage}/endpoint/${f.sourceEndpoint}/resend`, status: 202 },
      {
        method: 'POST', path: `${a}/endpoint/${f.endpoint}/secret/rotate`, status: 204,
        check: async () => assert.notEqual(await secretOf(`${a}/endpoint/${f.endpoint}`), appSecret, 'the secret was rotated'),
      },
      {
        method: 'POST', path: `${s}/endpoint/${f.sourceEndpoint}/secret/rotate`, status: 204,
        check: async () => assert.notEqual(await secretOf(`${s}/endpoint/${f.sourceEndpoint}`), sourceSecret, 'the secret was rotated'),
      },
      {
        method: 'POST', path: `${s}/token/rotate`, status: 200,
        check: async (answer) => assert.ok(answer.body.ingestUrl.includes('/in/') && answer.body.ingestUrl !== f.ingestUrl, 'a new ingest URL'),
      },
      { method: 'POST', path: `/api/v1/auth/app-portal-access/${f.app}`, status: 200, check: async (answer) => assert.match(answer.body.token, /^appsk_/) },
      { method: 'POST', path: `/api/v1/auth/app/${f.app}/expire-all`, status: 204 },
      { method: 'PATCH', path: a, status: 200, check: async (answer) => assert.equal(answer.body.name, `App ${counter}`) },
      { method: 'PATCH', path: `${a}/endpoint/${f.endpoint}`, status: 200, check: async (answer) => assert.deepEqual(answer.body.eventTypes, ['never.sent']) },
      { method: 'PATCH', path: `${s}/endpoint/${f.sourceEndpoint}`, status: 200, check: async (answer) => assert.equal(answer.body.id, f.sourceEndpoint) },
      { method: 'PATCH', path: `/api/v1/event-type/${f.eventType}`, status: 200, check: async (answer) => assert.equal(answer.body.description, 'd') },
      {
        method: 'DELETE', path: `/api/v1/event-type/${f.eventType}`, status: 204,
        check: async () => assert.equal((await h.api('GET', `/api/v1/event-type/${f.eventType}`)).body.archived, true),
      },
      { method: 'DELETE', path: `/api/v1/event-type/${expungedType}?expunge=true`, status: 204, check: gone(`/api/v1/event-type/${expungedType}`) },
      { method: 'DELETE', path: `${a}/endpoint/${f.endpoint}`, status: 204, check: gone(`${a}/endpoint/${f.endpoint}`) },
      { method: 'DELETE', path: a, status: 204, check: gone(a) },
      { method: 'DELETE', path: `${s}/endpoint/${f.sourceEndpoint}`, status: 204, check: gone(`${s}/endpoint/${f.sourceEndpoint}`) },
      { method: 'DELETE', path: s, status: 204, check: gone(s) },
    ];
  }

  const framings: Framing[] = ['content-length: 0', 'chunked'];
  for (const framing of framings) {
    it(`answers every bodiless route normally when it says content-type: application/json and sends nothing (${framing})`, async () => {
      for (const route of await bodilessRoutes()) {
        const answer = await send(h.url + route.path, route.method, { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, framing);
        assert.equal(answer.status, route.status, `${route.method} ${route.path}: ${JSON.stringify(answer.body)}`);
        await route.check?.(answer);
      }
    });
  }

  // Also what Fastify cannot parse as a media type at all: a bare word, a list.
  for (const contentType of ['application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'json', 'text', 'application/json, text/plain', null]) {
    it(`answers every bodiless route normally when the empty body says ${contentType === null ? 'no content-type' : `content-type: ${contentType}`}`, async () => {
      for (const route of await bodilessRoutes()) {
        const headers = { authorization: `Bearer ${h.token}`, ...(contentType ? { 'content-type': contentType } : {}) };
        const answer = await send(h.url + route.path, route.method, headers, 'no length');
        assert.equal(answer.status, route.status, `${route.method} ${route.path}: ${JSON.stringify(answer.body)}`);
        await route.check?.(answer);
      }
    });
  }

  it('answers a route that needs a body with 422 at body when the JSON body is empty', async () => {
    const f = await fixtures();
    const a = `/api/v1/app/${f.app}`;
    const s = `/ingest/api/v1/source/${f.source}`;
    const needBodies: Array<[string, string]> = [
      ['POST', '/api/v1/app'],
      ['PUT', a],
      ['PUT', '/api/v1/app/not-there-yet'],
      ['POST', `${a}/endpoint`],
      ['PUT', `${a}/endpoint/${f.endpoint}`],
      ['PUT', `${a}/endpoint/${f.endpoint}/headers`],
      ['PATCH', `${a}/endpoint/${f.endpoint}/headers`],
      ['POST', `${a}/endpoint/${f.endpoint}/recover`],
      ['POST', `${a}/endpoint/${f.endpoint}/send-example`],
      ['POST', `${a}/msg`],
      ['POST', '/api/v1/event-type'],
      ['PUT', `/api/v1/event-type/${f.eventType}`],
      ['POST', '/ingest/api/v1/source'],
      ['PUT', s],
      ['POST', `${s}/endpoint`],
    ];
    for (const [method, path] of needBodies) {
      const answer = await send(h.url + path, method, { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' });
      assert.equal(answer.status, 422, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, 'validation');
      assert.deepEqual(answer.body.detail.map((item: { loc: string[] }) => item.loc), [['body']], `${method} ${path}`);
    }
    assert.equal((await h.api('GET', '/api/v1/app/not-there-yet')).status, 404, 'nothing was created');
  });

  it('still refuses a non-empty body whose content-type Herald does not parse with 415', async () => {
    const f = await fixtures();
    const answer = await fetch(`${h.url}/api/v1/app/${f.app}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    assert.equal(answer.status, 415);
    assert.equal((await h.api('GET', `/api/v1/app/${f.app}`)).status, 200, 'the application is still there');
  });
}));
