import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { banner } from './server.ts';

describe('the start-up line', () => {
  it('says to open the dashboard at localhost when Herald listens on every address, as in a container', () => {
    const line = banner('http://0.0.0.0:8071', loadConfig({}, {}));
    assert.equal(line.dashboard, 'http://localhost:8071/dashboard/');
    assert.equal(line.apiDocs, 'http://localhost:8071/docs');
    assert.equal(banner('http://[::]:8071', loadConfig({}, {})).dashboard, 'http://localhost:8071/dashboard/');
  });

  it('says to open the dashboard at the public URL when one is set, and at the address listened on otherwise', () => {
    assert.equal(banner('http://0.0.0.0:8071', loadConfig({}, { HERALD_PUBLIC_URL: 'https://hooks.example.test' })).dashboard, 'https://hooks.example.test/dashboard/');
    assert.equal(banner('http://127.0.0.1:9000', loadConfig({}, {})).dashboard, 'http://127.0.0.1:9000/dashboard/');
  });

  it('names no dashboard for a worker, which serves none', () => {
    assert.equal(banner(null, loadConfig({}, { HERALD_ROLE: 'worker' })).dashboard, undefined);
  });
});
