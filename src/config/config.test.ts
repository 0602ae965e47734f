import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('the config loader', () => {
  it('starts from the defaults', () => {
    const config = loadConfig({}, {});
    assert.equal(config.port, 8071);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, './.herald');
    assert.equal(config.databaseUrl, null);
    assert.equal(config.allowPrivateNetworks, false);
    assert.deepEqual(config.retryScheduleMs, [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    assert.equal(config.requestTimeoutMs, 15_000);
    assert.equal(config.role, 'all');
  });

  it('takes the environment over the defaults, and flags over the environment', () => {
    const env = { HERALD_PORT: '9000', HERALD_ALLOW_PRIVATE_NETWORKS: 'true', HERALD_RETRY_SCHEDULE: '200ms,400ms' };
    assert.equal(loadConfig({}, env).port, 9000);
    assert.equal(loadConfig({}, env).allowPrivateNetworks, true);
    assert.deepEqual(loadConfig({}, env).retryScheduleMs, [200, 400]);
    assert.equal(loadConfig({ port: '9100' }, env).port, 9100);
  });

  it('stops at a malformed value, naming the setting and what it expects', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ HERALD_PORT: 'abc' }, /HERALD_PORT.*port number/],
      [{ HERALD_RETRY_SCHEDULE: '5x' }, /HERALD_RETRY_SCHEDULE.*durations/],
      [{ HERALD_ALLOW_PRIVATE_NETWORKS: 'maybe' }, /HERALD_ALLOW_PRIVATE_NETWORKS.*true or false/],
      [{ HERALD_REQUEST_TIMEOUT: '0s' }, /HERALD_REQUEST_TIMEOUT/],
      [{ HERALD_ROLE: 'boss' }, /HERALD_ROLE/],
      [{ HERALD_ADMIN_TOKEN: 'short' }, /HERALD_ADMIN_TOKEN.*16 characters/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig({}, env), (error) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
    }
  });

  it('lets one application hold half the send slots unless told otherwise', () => {
    assert.equal(loadConfig({}, {}).maxInFlightPerApp, 128);
    assert.equal(loadConfig({}, { HERALD_MAX_IN_FLIGHT: '10' }).maxInFlightPerApp, 5);
    assert.equal(loadConfig({}, { HERALD_MAX_IN_FLIGHT: '1' }).maxInFlightPerApp, 1);
    assert.equal(loadConfig({ 'max-in-flight-per-app': '256' }, {}).maxInFlightPerApp, 256);
    assert.throws(() => loadConfig({}, { HERALD_MAX_IN_FLIGHT_PER_APP: '0' }), /HERALD_MAX_IN_FLIGHT_PER_APP.*positive integer/);
  });

  it('keeps 1,000 requests per bin and holds a bin\'s request at most a minute unless told otherwise', () => {
    assert.equal(loadConfig({}, {}).binMaxRequests, 1_000);
    assert.equal(loadConfig({}, {}).binMaxHoldMs, 60_000);
    assert.equal(loadConfig({}, { HERALD_BIN_MAX_REQUESTS: '20' }).binMaxRequests, 20);
    assert.equal(loadConfig({ 'bin-max-hold': '300ms' }, {}).binMaxHoldMs, 300);
    assert.throws(() => loadConfig({}, { HERALD_BIN_MAX_REQUESTS: '0' }), /HERALD_BIN_MAX_REQUESTS.*positive integer/);
    assert.throws(() => loadConfig({}, { HERALD_BIN_MAX_HOLD: 'forever' }), /HERALD_BIN_MAX_HOLD.*duration/);
  });

  it('refuses a lease no longer than the request timeout', () => {
    assert.throws(() => loadConfig({}, { HERALD_LEASE: '10s', HERALD_REQUEST_TIMEOUT: '15s' }), /HERALD_LEASE/);
  });

  it('lets the portal be framed by its own origin unless HERALD_PORTAL_FRAME_ANCESTORS names others, and refuses what is not a CSP source', () => {
    assert.equal(loadConfig({}, {}).portalFrameAncestors, "'self'");
    assert.equal(loadConfig({}, { HERALD_PORTAL_FRAME_ANCESTORS: "  'self'   https://app.example.com https://*.example.org:8443 " }).portalFrameAncestors, "'self' https://app.example.com https://*.example.org:8443");
    assert.equal(loadConfig({ 'portal-frame-ancestors': "'none'" }, {}).portalFrameAncestors, "'none'");
    for (const bad of ['', "'self'; script-src *", 'https://a.example.com,https://b.example.com', "'none' https://a.example.com", "'unsafe-inline'"]) {
      assert.throws(() => loadConfig({}, { HERALD_PORTAL_FRAME_ANCESTORS: bad }), /HERALD_PORTAL_FRAME_ANCESTORS.*CSP sources/, bad);
    }
  });
});
