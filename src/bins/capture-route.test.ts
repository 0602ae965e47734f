import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeBinByToken, splitUrl } from './capture-route.ts';

describe('a bin\'s URL', () => {
  it('is routed by its token alone, and every other URL as it is', () => {
    for (const [url, routed] of [
      ['/bin/tok', '/bin/tok'], ['/bin/tok/', '/bin/tok'], ['/bin/tok/a/%zz', '/bin/tok'], ['/bin/tok?x=%00', '/bin/tok'], ['/bin/tok/?', '/bin/tok'],
      ['/bin/', '/bin/'], ['/binx/tok', '/binx/tok'], ['/api/v1/bin/bin_1/request?limit=1', '/api/v1/bin/bin_1/request?limit=1'], ['/in/tok?a', '/in/tok?a'],
    ]) {
      assert.equal(routeBinByToken(url!), routed, url);
    }
  });

  it('keeps what follows the token: the sub-path, and the query after the first ?, told apart from none', () => {
    assert.deepEqual(splitUrl('/bin/tok'), { path: '', query: null });
    assert.deepEqual(splitUrl('/bin/tok/'), { path: '/', query: null });
    assert.deepEqual(splitUrl('/bin/tok?'), { path: '', query: '' });
    assert.deepEqual(splitUrl('/bin/tok/a/%zz//b?c=%00&d?e'), { path: '/a/%zz//b', query: 'c=%00&d?e' });
  });
});
