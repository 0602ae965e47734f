import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FlowSignal, FlowSignalKind } from '../core/flow-control.ts';
import { Status, Trigger } from '../core/model.ts';
import type { DeliveryResult, FlowOutcome } from '../store/store.ts';
import { FlowWatch } from './flow-watch.ts';
import { ids, storeWithEndpoint } from './test-store.ts';

/** A watch over a real SQLite store's flow control, with one endpoint, whose records can be awaited. */
async function fixture(circuitFailures: number) {
  const { store, app, endpoint, close } = await storeWithEndpoint();
  const outcomes: FlowOutcome[] = [];
  let recorded: () => void = () => {};
  const watch = new FlowWatch({
    flow: store.flow,
    policy: { circuitFailures, circuitWindowMs: 60_000, disableAfterMs: 86_400_000 },
    refreshMs: 60_000,
    onOutcome: (outcome) => {
      outcomes.push(outcome);
      recorded();
    },
    onError: (error) => assert.fail(error as Error),
  });
  /** A result whose request got the answer `kind` stands for. */
  const result = (kind: FlowSignalKind): DeliveryResult => {
    const at = Date.now();
    const signal: FlowSignal = { endpointId: endpoint.id, appId: app.id, kind, sentAt: at, at, retryAfterMs: null };
    return {
      id: 0, lease: 0, disableEndpoint: false, next: { status: Status.fail }, attemptCount: 1, signal,
      attempt: {
        id: ids('attempt'), messageId: ids('message'), endpointId: endpoint.id, appId: app.id, url: endpoint.url, status: Status.fail,
        responseStatusCode: 500, response: '', responseDurationMs: 1, trigger: Trigger.scheduled, failureReason: null, attemptNumber: 1, createdAt: at,
      },
    };
  };
  return {
    watch, outcomes, result, endpointId: endpoint.id,
    /** Learns committed results and resolves once the record that counts them has been made. */
    learn(results: DeliveryResult[]) {
      const done = new Promise<void>((resolve) => (recorded = resolve));
      watch.learn(results);
      return done;
    },
    async close() {
      await watch.stop();
      await close();
    },
  };
}

it('holds a tripped endpoint until a record has counted every failure seen, not only the first ones written', async () => {
  const f = await fixture(3);
  try {
    const failures = [f.result('failure'), f.result('failure'), f.result('failure')];
    for (const result of failures) f.watch.observe(result);
    assert.equal(f.watch.tripped(f.endpointId), true, 'three failures in a row trip the circuit here at once');
    // The first two are committed and recorded while the third is still being written: the store
    // has not opened the circuit, and the lane must not send meanwhile.
    await f.learn(failures.slice(0, 2));
    assert.deepEqual(f.outcomes.at(-1)!.opened, []);
    assert.equal(f.watch.tripped(f.endpointId), true);
    await f.learn(failures.slice(2));
    assert.deepEqual(f.outcomes.at(-1)!.opened, [f.endpointId]);
    assert.equal(f.watch.tripped(f.endpointId), false, 'the store now holds the endpoint: its open circuit gates claims');
  } finally {
    await f.close();
  }
});

it('lets go of a trip whose last failures will never be recorded because their write failed for good', async () => {
  const f = await fixture(2);
  try {
    const failures = [f.result('timeout'), f.result('failure')];
    for (const result of failures) f.watch.observe(result);
    await f.learn(failures.slice(0, 1));
    assert.equal(f.watch.tripped(f.endpointId), true);
    f.watch.dropped(failures.slice(1));
    assert.equal(f.watch.tripped(f.endpointId), false);
  } finally {
    await f.close();
  }
});
