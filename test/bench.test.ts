import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

// A benchmark is not a test: this only checks that `npm run bench` works end to end, at sizes
// too small for its figures to mean anything. It takes about two minutes alone, and several
// times that beside the rest of the suite on two cores, hence the long timeout.
it('runs every benchmark scenario at smoke sizes and reports every figure', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  try {
    const out = join(dir, 'results.json');
    const { stdout } = await promisify(execFile)(process.execPath, ['bench/run.ts', '--smoke', '--out', out], { env: { ...process.env, PROF: '' } });
    const results = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(results.quick, true);
    for (const baseline of ['ingest', 'delivery', 'latency', 'inbound']) assert.ok(results.baselines[baseline], `the ${baseline} baseline`);
    for (const figure of ['ingest', 'ingestWhileDelivering', 'delivery', 'latency', 'inbound', 'fanOut', 'isolation', 'backlog', 'throttled']) assert.ok(results.sqlite[figure], `sqlite ${figure}`);
    // The dashboard's figure needs Chromium, which CI installs (HERALD_TEST_CHROMIUM=1).
    if (process.env.HERALD_TEST_CHROMIUM === '1') assert.ok(results.sqlite.dashboard, 'sqlite dashboard');
    assert.ok(results.targets.length >= 10);
    assert.match(stdout, /\| target \| value \| met \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
