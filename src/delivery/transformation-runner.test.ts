import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformationRunner } from './transformation-runner.ts';

const LOOP = 'function handler(webhook) { for (;;) {} }';
const ECHO = 'function handler(webhook) { webhook.seen = true; return webhook; }';

describe('the transformation runner (the sandbox in a worker thread)', () => {
  it('runs code in the worker, and compiles and checks it there', async () => {
    const runner = createTransformationRunner();
    try {
      assert.deepEqual(await runner.run('ep_a', ECHO, '{"a":1}'), { ok: true, output: '{"a":1,"seen":true}' });
      assert.match(await runner.check('function handler(') ?? '', /SyntaxError/);
      assert.equal(await runner.check(ECHO), null);
    } finally {
      await runner.close();
    }
  });

  it('keeps the event loop free while a handler spends its whole CPU limit', async () => {
    const runner = createTransformationRunner({ cpuMs: 400 });
    try {
      await runner.run('ep_warm', ECHO, '{}'); // the worker and its engine are up
      const started = performance.now();
      const looping = runner.run('ep_loop', LOOP, '{}');
      // Timers on this thread fire on time while the worker is busy: ten 10 ms ticks in a row.
      let ticks = 0;
      while (ticks < 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        ticks++;
      }
      const tickedBy = performance.now() - started;
      const outcome = await looping;
      const loopedFor = performance.now() - started;
      assert.deepEqual([outcome.ok, !outcome.ok && outcome.failure], [false, 'timeout']);
      assert.ok(loopedFor >= 400, `the handler ran its limit (${loopedFor.toFixed(0)} ms)`);
      assert.ok(tickedBy < loopedFor, `the ticks (${tickedBy.toFixed(0)} ms) came before the loop was stopped (${loopedFor.toFixed(0)} ms)`);
    } finally {
      await runner.close();
    }
  });

  it("runs an endpoint whose handler ran out of CPU time apart from then on, so others' calls no longer wait behind it", async () => {
    const runner = createTransformationRunner({ cpuMs: 300 });
    try {
      await runner.run('ep_warm', ECHO, '{}');
      const first = await runner.run('ep_loop', LOOP, '{}');
      assert.deepEqual([first.ok, !first.ok && first.failure], [false, 'timeout']);
      // Sent first, the looping call would hold the one worker its whole limit; in quarantine it
      // holds only its own, and the other endpoint's call is answered before it.
      const finished: string[] = [];
      await Promise.all([
        runner.run('ep_loop', LOOP, '{}').then(() => finished.push('looping')),
        runner.run('ep_other', ECHO, '{}').then(() => finished.push('other')),
      ]);
      assert.deepEqual(finished, ['other', 'looping']);
    } finally {
      await runner.close();
    }
  });

  it('replaces a worker that stops answering, failing the calls that waited, and serves the next call', async () => {
    // An engine limit far past the watchdog stands for an engine that no longer interrupts.
    const runner = createTransformationRunner({ cpuMs: 60_000 }, 300);
    try {
      await runner.run('ep_warm', ECHO, '{}');
      const [stuck, behind] = await Promise.all([runner.run('ep_loop', LOOP, '{}'), runner.run('ep_b', ECHO, '{}')]);
      for (const outcome of [stuck, behind]) {
        assert.deepEqual([outcome.ok, !outcome.ok && outcome.failure], [false, 'timeout']);
        assert.match(!outcome.ok ? outcome.detail : '', /did not answer within 300 ms/);
      }
      assert.deepEqual(await runner.run('ep_b', ECHO, '{}'), { ok: true, output: '{"seen":true}' });
    } finally {
      await runner.close();
    }
  });
});
