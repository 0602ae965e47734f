import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addressPolicy } from '../core/address-policy.ts';
import type { Clock } from '../core/clock.ts';
import { systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import { Status, Trigger } from '../core/model.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { attemptDelivery, type AttemptDependencies } from './attempt.ts';
import { createHttpSender } from './http-sender.ts';

const NOW = 1_700_000_000_000;

describe('what follows an attempt', () => {
  const clock: Clock = { now: () => NOW };
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(req.url === '/ok' ? 200 : 500).end();
  });
  const sender = createHttpSender({ timeoutMs: 2_000, addresses: addressPolicy(true) });
  const deps: AttemptDependencies = {
    sender, clock, random: { ...systemRandom, fraction: () => 0.5 }, ids: createIdGenerator(clock, systemRandom),
    retry: { delaysMs: [1_000, 2_000], jitter: 0.2 },
  };
  let origin = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await sender.close();
    server.close();
  });

  const delivery = (over: Partial<ClaimedDelivery>, path = '/failing'): ClaimedDelivery => ({
    id: 1, lease: 1, attemptNumber: 1, trigger: Trigger.scheduled, resumeAt: null,
    message: { id: 'msg_1', appId: 'app_1', eventType: 'a.b', payload: Buffer.from('{}'), inbound: null },
    endpoint: { id: 'ep_1', url: origin + path, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }], disabled: false },
    ...over,
  });

  it('retries a failed scheduled attempt on the schedule', async () => {
    const result = await attemptDelivery(deps, delivery({}));
    assert.deepEqual(result.next, { status: Status.pending, runAt: NOW + 1_000 });
    assert.equal(result.attemptCount, 1);
  });

  it('ends a delivery whose manual attempt fails, when it had no schedule to go back to', async () => {
    const result = await attemptDelivery(deps, delivery({ trigger: Trigger.manual }));
    assert.deepEqual(result.next, { status: Status.fail });
    assert.equal(result.attempt.trigger, Trigger.manual);
    assert.equal(result.attemptCount, 1);
  });

  it('sends a delivery whose manual attempt fails back to its schedule, using none of it', async () => {
    const result = await attemptDelivery(deps, delivery({ trigger: Trigger.manual, attemptNumber: 2, resumeAt: NOW + 5_000 }));
    assert.deepEqual(result.next, { status: Status.pending, runAt: NOW + 5_000 });
    assert.equal(result.attemptCount, 1);
    const overdue = await attemptDelivery(deps, delivery({ trigger: Trigger.manual, attemptNumber: 3, resumeAt: NOW - 5_000 }));
    assert.deepEqual(overdue.next, { status: Status.pending, runAt: NOW }, 'a place already passed is due at once');
    const lastOne = await attemptDelivery(deps, delivery({ trigger: Trigger.manual, attemptNumber: 3, resumeAt: NOW + 5_000 }));
    assert.deepEqual(lastOne.next, { status: Status.pending, runAt: NOW + 5_000 }, 'even when the schedule has only that attempt left');
  });

  it('marks a delivery whose manual attempt succeeds as delivered', async () => {
    const result = await attemptDelivery(deps, delivery({ trigger: Trigger.manual, resumeAt: NOW + 5_000 }, '/ok'));
    assert.deepEqual(result.next, { status: Status.success });
    assert.equal(result.attemptCount, 1);
  });
});
