import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Status } from './model.ts';
import { pacedBudget, pacedRunAts, type ReplayCandidate, type ReplayParams, replays } from './replay.ts';

const params: ReplayParams = { since: 0, until: 1, eventTypes: null, channel: null, statuses: null, dryRun: false, pace: null };
const everything = { eventTypes: null, channels: null, disabled: false };
const candidate = (over: Partial<ReplayCandidate> = {}): ReplayCandidate =>
  ({ messageId: 'msg_1', eventType: 'a.b', channels: null, payloadErased: false, deliveryStatus: null, ...over });

describe('which messages a background task re-queues', () => {
  it('recovers only failed deliveries', () => {
    assert.equal(replays('endpoint.recover', params, everything, candidate({ deliveryStatus: Status.fail })), true);
    for (const status of [Status.success, Status.pending, Status.sending, null]) {
      assert.equal(replays('endpoint.recover', params, everything, candidate({ deliveryStatus: status })), false);
    }
  });

  it('replays missing messages only where the endpoint had no delivery and its filters take the message, even while disabled', () => {
    const filtered = { eventTypes: ['a.b'], channels: ['eu'], disabled: true };
    assert.equal(replays('endpoint.replay', params, filtered, candidate({ channels: ['eu'] })), true);
    assert.equal(replays('endpoint.replay', params, filtered, candidate({ channels: ['us'] })), false);
    assert.equal(replays('endpoint.replay', params, filtered, candidate({ eventType: 'c.d', channels: ['eu'] })), false);
    assert.equal(replays('endpoint.replay', params, everything, candidate({ deliveryStatus: Status.fail })), false);
  });

  it('bulk-replays finished deliveries that pass the status, event-type and channel filters', () => {
    const narrow = { ...params, statuses: [Status.success], eventTypes: ['a.b'], channel: 'eu' };
    assert.equal(replays('endpoint.bulk-replay', narrow, everything, candidate({ deliveryStatus: Status.success, channels: ['eu'] })), true);
    assert.equal(replays('endpoint.bulk-replay', narrow, everything, candidate({ deliveryStatus: Status.fail, channels: ['eu'] })), false);
    assert.equal(replays('endpoint.bulk-replay', narrow, everything, candidate({ deliveryStatus: Status.success, channels: ['us'] })), false);
    assert.equal(replays('endpoint.bulk-replay', narrow, everything, candidate({ deliveryStatus: Status.success, eventType: 'x.y', channels: ['eu'] })), false);
    assert.equal(replays('endpoint.bulk-replay', params, everything, candidate({ deliveryStatus: Status.pending })), false, 'one under way is left alone');
    assert.equal(replays('endpoint.bulk-replay', params, everything, candidate({ deliveryStatus: null })), false);
  });

  it('never re-queues a message whose payload was erased', () => {
    const erased = candidate({ payloadErased: true, deliveryStatus: Status.fail });
    for (const kind of ['endpoint.recover', 'endpoint.bulk-replay'] as const) assert.equal(replays(kind, params, everything, erased), false);
    assert.equal(replays('endpoint.replay', params, everything, { ...erased, deliveryStatus: null }), false);
  });

  it('spreads paced deliveries a second apart per pace, and sends all at once without one', () => {
    assert.deepEqual(pacedRunAts(4, 1_000, 2), [1_000, 1_500, 2_000, 2_500]);
    assert.deepEqual(pacedRunAts(3, 1_000, null), [1_000, 1_000, 1_000]);
  });

  it('lets a paced step queue the deliveries due before its horizon, and always one', () => {
    // Two a second from 1,000: due at 1,000 and 1,500 before 2,000; 2,000 is not.
    assert.equal(pacedBudget(1_000, 2_000, 2), 2);
    assert.equal(pacedBudget(1_100, 2_000, 2), 2);
    assert.equal(pacedBudget(1_600, 2_000, 2), 1);
    assert.equal(pacedBudget(1_000, 2_000, 2.5), 3);
    assert.equal(pacedBudget(5_000, 2_000, 2), 1, 'a step never queues nothing');
    for (const [from, until, pace] of [[0, 900, 3], [250, 1_250, 7], [0, 1_000, 0.5]] as const) {
      const budget = pacedBudget(from, until, pace);
      const runAts = pacedRunAts(budget + 1, from, pace);
      assert.ok(runAts.slice(0, budget).every((at) => at < until) || budget === 1, `${from}, ${until}, ${pace}`);
      assert.ok(runAts[budget]! >= until, `${from}, ${until}, ${pace}: the next is due past the horizon`);
    }
  });
});
