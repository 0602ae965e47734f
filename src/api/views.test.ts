import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { BinRequest } from '../core/bins.ts';
import { binRequestOut } from './views.ts';

const request: BinRequest = {
  id: 'breq_v', binId: 'bin_v', seq: 1, method: 'POST', path: '/p', query: 'q', body: Buffer.from([0xff]), size: 1, ip: '127.0.0.1',
  headers: [['Authorization', 'Bearer a'], ['Cookie', ''], ['X-Plain', 'p']], secretHeaders: [0, 1], unopenedHeaders: [1],
  responseStatus: 200, rule: 'configured', createdAt: 0,
};

it('shows a captured request\'s secret headers masked unless revealed, and one it could not open masked even then', () => {
  assert.deepEqual(binRequestOut(request).headers, [
    { name: 'Authorization', value: null, masked: true }, { name: 'Cookie', value: null, masked: true }, { name: 'X-Plain', value: 'p' },
  ]);
  assert.deepEqual(binRequestOut(request, { reveal: true }).headers, [
    { name: 'Authorization', value: 'Bearer a' }, { name: 'Cookie', value: null, masked: true }, { name: 'X-Plain', value: 'p' },
  ]);
});

it('gives a body that is not UTF-8 as base64 only, and no body without content', () => {
  assert.deepEqual([binRequestOut(request).body, binRequestOut(request).bodyBase64], [null, '/w==']);
  assert.deepEqual([binRequestOut(request, { withContent: false }).body, binRequestOut(request, { withContent: false }).bodyBase64], [null, null]);
});
