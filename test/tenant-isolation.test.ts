import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MessageStatus } from 'svix';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/** A receiver on 127.0.0.1 that answers nothing until `answerAll` (if ever). */
interface HoldingReceiver {
  url: string;
  held: Array<{ request: IncomingMessage; response: ServerResponse }>;
  answerAll(status: number): void;
  close(): Promise<void>;
}

async function holdingReceiver(): Promise<HoldingReceiver> {
  const held: HoldingReceiver['held'] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => held.push({ request, response }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    answerAll(status) {
      for (const { response } of held.splice(0)) response.writeHead(status).end('ok');
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Creates an application with one endpoint at `url`, sends it a message, and checks that the
 * delivery reached `arrived` within a second, while others hang.
 */
async function deliversWithinASecond(h: TestHerald, name: string, url: string, arrived: () => boolean): Promise<void> {
  const other = await h.svix.application.create({ name });
  await h.svix.endpoint.create(other.id, { url });
  const sentAt = Date.now();
  await h.svix.message.create(other.id, { eventType: 'healthy', payload: {} });
  await waitFor('the healthy application\'s delivery', arrived, 3_000);
  const tookMs = Date.now() - sentAt;
  assert.ok(tookMs < 1_000, `the healthy application waited ${tookMs} ms`);
}

await forEachStore((store) => describe(`one tenant never harms another (${store})`, () => {
  const failures = trackFailures();

  async function withHerald(env: Record<string, string>, test: (h: TestHerald) => Promise<void>): Promise<void> {
    const h = await startTestHerald({ store, env });
    let failed = true;
    try {
      await test(h);
      failed = false;
    } finally {
      await h.close(failed || failures.any());
    }
  }

  /**
   * With at most `maxInFlight` sends (`perEndpoint` per endpoint, a 5 s timeout), applications
   * whose every endpoint hangs are sent `perEndpoint + 1` messages each; once `held` of their
   * requests hang, a new healthy application's delivery must arrive within a second.
   */
  async function healthyBesideHanging(maxInFlight: number, tenants: Array<{ name: string; endpoints: number }>, held: number, perEndpoint = 2): Promise<void> {
    const hanging = await holdingReceiver();
    const healthy = await holdingReceiver();
    try {
      const env = { HERALD_MAX_IN_FLIGHT: String(maxInFlight), HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: String(perEndpoint), HERALD_REQUEST_TIMEOUT: '5s', HERALD_LEASE: '30s' };
      await withHerald(env, async (h) => {
        for (const tenant of tenants) {
          const greedy = await h.svix.application.create({ name: tenant.name });
          for (let i = 0; i < tenant.endpoints; i++) await h.svix.endpoint.create(greedy.id, { url: `${hanging.url}/${greedy.id}/${i}` });
          for (let i = 0; i <= perEndpoint; i++) await h.svix.message.create(greedy.id, { eventType: 'hangs', payload: { i } });
        }
        // They take what they may of the send slots, and hold them until the timeout.
        await waitFor('the hanging endpoints to hold their slots', () => hanging.held.length >= held);
        await new Promise((resolve) => setTimeout(resolve, 300));

        await deliversWithinASecond(h, 'healthy', healthy.url, () => healthy.held.length === 1);
        assert.ok(hanging.held.length >= held && hanging.held.every(({ response }) => !response.writableEnded), 'the hanging endpoints still hang');
        healthy.answerAll(200);
        hanging.answerAll(200);
      });
    } finally {
      await hanging.close();
      await healthy.close();
    }
  }

  it('records an application\'s result although another application, deleted while its delivery was in flight, answered in the same moment', async () => {
    const receiverA = await holdingReceiver();
    const receiverB = await holdingReceiver();
    try {
      await withHerald({ HERALD_REQUEST_TIMEOUT: '20s', HERALD_LEASE: '60s' }, async (h) => {
        const appA = await h.svix.application.create({ name: 'deleted meanwhile' });
        const appB = await h.svix.application.create({ name: 'stays' });
        await h.svix.endpoint.create(appA.id, { url: receiverA.url });
        const endpointB = await h.svix.endpoint.create(appB.id, { url: receiverB.url });
        await h.svix.message.create(appA.id, { eventType: 'both.in.flight', payload: {} });
        const messageB = await h.svix.message.create(appB.id, { eventType: 'both.in.flight', payload: {} });
        await waitFor('both deliveries in flight', () => receiverA.held.length === 1 && receiverB.held.length === 1);
        await h.svix.application.delete(appA.id);
        // Both answer in the same turn, so their results are written in one batch.
        receiverA.answerAll(200);
        receiverB.answerAll(200);
        const [destination] = await waitFor('application B\'s delivery to succeed', async () => {
          const { data } = await h.svix.messageAttempt.listAttemptedDestinations(appB.id, messageB.id);
          return data[0]?.status === MessageStatus.Success ? data : null;
        }, 5_000);
        assert.equal(destination!.id, endpointB.id);
        const attempts = await h.svix.messageAttempt.listByMsg(appB.id, messageB.id);
        assert.deepEqual(attempts.data.map((a) => [a.status, a.responseStatusCode]), [[MessageStatus.Success, 200]]);
        assert.equal((await h.api('GET', `/api/v1/app/${appA.id}`)).status, 404);
      });
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });

  it('delivers to a healthy application within a second while ten endpoints of another hang', () =>
    healthyBesideHanging(4, [{ name: 'ten hanging endpoints', endpoints: 10 }], 2));

  it('delivers to a healthy application within a second while another hangs on the same host and port', async () => {
    // One server for both: the connections to one origin are not a pool the hanging endpoints can drain.
    const shared = await holdingReceiver();
    try {
      const env = { HERALD_MAX_IN_FLIGHT: '8', HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '2', HERALD_REQUEST_TIMEOUT: '5s', HERALD_LEASE: '30s' };
      await withHerald(env, async (h) => {
        const greedy = await h.svix.application.create({ name: 'hanging on a shared host' });
        for (let i = 0; i < 4; i++) await h.svix.endpoint.create(greedy.id, { url: `${shared.url}/hang/${i}` });
        for (let i = 0; i < 3; i++) await h.svix.message.create(greedy.id, { eventType: 'hangs', payload: { i } });
        await waitFor('the hanging endpoints to hold their slots', () => shared.held.length >= 2);
        await new Promise((resolve) => setTimeout(resolve, 300));

        await deliversWithinASecond(h, 'healthy on the same host', `${shared.url}/healthy`, () => shared.held.some(({ request }) => request.url === '/healthy'));
        shared.answerAll(200);
      });
    } finally {
      await shared.close();
    }
  });

  // Each hanging application may take half; between them they took every slot before.
  it('delivers to a healthy application within a second while two others hang, each with its share of endpoints', () =>
    healthyBesideHanging(8, [{ name: 'first hanging', endpoints: 4 }, { name: 'second hanging', endpoints: 4 }], 6));

  // Six one-endpoint applications take the twelve slots outside the reserve of four; two more
  // took two of it each before, leaving none, where each now takes one.
  it('delivers to a healthy application within a second while eight others hang, more than three quarters of the slots can hold', () =>
    healthyBesideHanging(16, Array.from({ length: 8 }, (_, i) => ({ name: `hanging ${i}`, endpoints: 1 })), 14));

  // With four slots each, three hanging endpoints took the twelve outside the reserve, and four
  // more the reserve; an endpoint that has never answered sends two at a time, so seven hold fourteen.
  it('delivers to a healthy application within a second while seven others hang, whose shares would together take every slot', () =>
    healthyBesideHanging(16, Array.from({ length: 7 }, (_, i) => ({ name: `hanging ${i}`, endpoints: 1 })), 13, 4));
}));
