import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatDuration, parseDuration, parseDurationList } from './durations.ts';

it('reads durations with units, and bare numbers as seconds', () => {
  assert.deepEqual(['200ms', '5s', '5', '1.5s', '30m', '2h', '7d'].map(parseDuration), [200, 5_000, 5_000, 1_500, 1_800_000, 7_200_000, 604_800_000]);
});

it('refuses what is not a duration', () => {
  assert.deepEqual(['', '5x', '-1s', 's', '1 s'].map(parseDuration), [null, null, null, null, null]);
});

it('reads a schedule, or nothing when one item is wrong', () => {
  assert.deepEqual(parseDurationList('5s,5m, 2h'), [5_000, 300_000, 7_200_000]);
  assert.equal(parseDurationList('5s,later'), null);
});

it('writes durations in the largest whole unit', () => {
  assert.deepEqual([200, 5_000, 300_000, 7_200_000, 86_400_000, 1_500].map(formatDuration), ['200ms', '5s', '5m', '2h', '1d', '1500ms']);
});
