import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binValue, histogramBytes, histogramFromBytes, LATENCY_BINS, LATENCY_BOUNDS, LATENCY_ERROR, latencyBin, percentile } from './attempt-stats.ts';

describe('latency histogram', () => {
  it('puts 0 ms in bin 0, every whole millisecond up to an hour in a bin whose middle is within the error bound, and beyond in the last bin', () => {
    assert.equal(latencyBin(0), 0);
    assert.equal(binValue(0), 0);
    for (let ms = 1; ms <= 3_400_000; ms += ms < 1000 ? 1 : 997) {
      const bin = latencyBin(ms);
      assert.ok(LATENCY_BOUNDS[bin - 1]! <= ms && (bin === LATENCY_BINS - 1 || ms < LATENCY_BOUNDS[bin]!), `${ms} ms in bin ${bin}`);
      assert.ok(Math.abs(binValue(bin) - ms) <= LATENCY_ERROR * ms + 1e-9, `${ms} ms read back as ${binValue(bin)}`);
    }
    assert.equal(latencyBin(1e9), LATENCY_BINS - 1);
  });

  it('reads percentiles by nearest rank', () => {
    const bins = new Array<number>(LATENCY_BINS).fill(0);
    for (const ms of [10, 20, 30, 40, 1000]) bins[latencyBin(ms)]!++;
    assert.equal(percentile(bins, 0.5), binValue(latencyBin(30)));
    assert.equal(percentile(bins, 0.99), binValue(latencyBin(1000)));
    assert.equal(percentile(new Array<number>(LATENCY_BINS).fill(0), 0.5), null);
  });

  it('keeps its counts through the byte form SQLite stores', () => {
    const bins = Array.from({ length: LATENCY_BINS }, (_, i) => i * 1_000_003);
    assert.deepEqual(histogramFromBytes(histogramBytes(bins)), bins);
  });
});
