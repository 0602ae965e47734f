import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadConfigWithSources, readConfigFile, withoutPassword } from './config.ts';

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

  it('stops at a database URL it could not open, naming the setting, and shows neither its password nor a secret\'s value', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig({}, env);
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.message;
      }
      assert.fail(`${JSON.stringify(env)} was taken`);
    };
    // An @ typed as a colon, a space in the host, another scheme, sqlite: with no path.
    for (const url of ['postgres://postgres:127.0.0.1:5432/test', 'postgres://admin:pw@db host:5432/x', 'mysql://db/herald', 'sqlite:']) {
      assert.match(refused({ HERALD_DATABASE_URL: url }), /^Invalid HERALD_DATABASE_URL=.*expected postgres:\/\/user:password@host:port\/database, sqlite:<path>/, url);
    }
    assert.equal(refused({ HERALD_DATABASE_URL: 'postgres://admin:hunter2@db host/x' }).includes('hunter2'), false);
    assert.equal(refused({ HERALD_ADMIN_TOKEN: 'tooshort' }).includes('tooshort'), false);
    for (const url of ['postgres://u:p@127.0.0.1:5432/test', 'postgresql:///herald?host=/run/postgresql', 'sqlite:/var/lib/herald/herald.db']) {
      assert.equal(loadConfig({}, { HERALD_DATABASE_URL: url }).databaseUrl, url);
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

  it('refuses a retry delay longer than the API allows, and a timer longer than Node can run, naming the setting', () => {
    assert.throws(() => loadConfig({}, { HERALD_RETRY_SCHEDULE: '1000000000d,5s' }), /HERALD_RETRY_SCHEDULE.*each up to 30d/);
    assert.deepEqual(loadConfig({}, { HERALD_RETRY_SCHEDULE: '30d' }).retryScheduleMs, [30 * 86_400_000]);
    for (const name of ['HERALD_REQUEST_TIMEOUT', 'HERALD_LEASE', 'HERALD_DRAIN_DELAY', 'HERALD_BIN_MAX_HOLD']) {
      assert.throws(() => loadConfig({}, { HERALD_LEASE: '24d', [name]: '25d' }), new RegExp(`${name}.*up to 24d`), name);
    }
    assert.equal(loadConfig({}, { HERALD_REQUEST_TIMEOUT: '20d', HERALD_LEASE: '24d' }).leaseMs, 24 * 86_400_000);
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

describe('the settings file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'herald-config-'));
  const write = (directory: string, values: unknown, name = 'herald.config.json') => {
    writeFileSync(join(directory, name), JSON.stringify(values));
    return join(directory, name);
  };

  it('is herald.config.json in the working directory, or the file --config names, and none is fine', () => {
    const here = dir();
    assert.equal(readConfigFile(undefined, here), null);
    write(here, { port: 9001 });
    assert.equal(loadConfig({}, {}, readConfigFile(undefined, here)).port, 9001);
    const elsewhere = write(dir(), { port: 9002 }, 'other.json');
    assert.equal(loadConfig({}, {}, readConfigFile(elsewhere, here)).port, 9002);
    assert.throws(() => readConfigFile('missing.json', here), (error) => error instanceof ConfigError && /missing\.json: no such file/.test(error.message));
  });

  it('takes the flags\' names in camelCase, numbers, booleans and lists as well as text', () => {
    const file = readConfigFile(write(dir(), { dataDir: '/srv/herald', retrySchedule: ['1s', '2m'], allowPrivateNetworks: true, maxInFlight: 12 }), '/')!;
    const config = loadConfig({}, {}, file);
    assert.equal(config.dataDir, '/srv/herald');
    assert.deepEqual(config.retryScheduleMs, [1_000, 120_000]);
    assert.equal(config.allowPrivateNetworks, true);
    assert.equal(config.maxInFlight, 12);
  });

  it('yields to the environment, which yields to flags, and says where each setting came from', () => {
    const file = readConfigFile(write(dir(), { port: 9001, host: '0.0.0.0', logLevel: 'warn' }), '/')!;
    const { config, sources } = loadConfigWithSources({ port: '9003' }, { HERALD_HOST: '127.0.0.2' }, file);
    assert.deepEqual([config.port, config.host, config.logLevel, config.role], [9003, '127.0.0.2', 'warn', 'all']);
    assert.deepEqual([sources.port.kind, sources.host.kind, sources.logLevel.kind, sources.role.kind], ['flag', 'env', 'file', 'default']);
    assert.equal(sources.logLevel.name, file.path);
  });

  it('refuses, naming the key, an unknown key, a secret, a value of the wrong type and a malformed value', () => {
    const refused = (values: unknown, message: RegExp) => assert.throws(() => loadConfig({}, {}, readConfigFile(write(dir(), values), '/')), (error) => error instanceof ConfigError && message.test(error.message), JSON.stringify(values));
    refused({ prot: 8071 }, /unknown key "prot"/);
    refused({ adminToken: 'x'.repeat(20) }, /"adminToken" is a secret; set HERALD_ADMIN_TOKEN in the environment/);
    refused({ port: { value: 1 } }, /"port" must be a whole number/);
    refused({ host: 5 }, /"host" must be text \(in quotes\)/);
    refused({ retrySchedule: ['5s', 7] }, /"retrySchedule" must be a list of texts/);
    refused({ requestTimeout: 15 }, /"requestTimeout" must be text/);
    refused({ port: 99999 }, /"port" is 99999: expected a port number/);
    refused({ retrySchedule: ['soon'] }, /"retrySchedule" is \["soon"\]: expected comma-separated durations/);
    refused([1], /must hold a JSON object/);
  });
});

describe('a database URL as shown', () => {
  it('masks the password in the user-info', () => {
    assert.equal(withoutPassword('postgres://herald:s3cr3t@db:5432/herald'), 'postgres://herald:***@db:5432/herald');
    assert.equal(withoutPassword('postgres://herald@db:5432/herald'), 'postgres://herald@db:5432/herald');
  });

  it('masks a password given as a query parameter, which pg takes as the password, and libpq\'s sslpassword, leaving the rest as written', () => {
    assert.equal(withoutPassword('postgres://postgres@127.0.0.1:5432/db?password=leakme'), 'postgres://postgres@127.0.0.1:5432/db?password=***');
    assert.equal(
      withoutPassword('postgresql://u:pw@db/herald?sslmode=require&sslpassword=keypass&application_name=a+b&schema=x#frag'),
      'postgresql://u:***@db/herald?sslmode=require&sslpassword=***&application_name=a+b&schema=x#frag',
    );
  });

  it('masks a password parameter however its name is spelled: percent-encoded, in capitals, or repeated', () => {
    const shown = withoutPassword('postgres://db/herald?pass%77ord=one&PASSWORD=two&password=three&password');
    for (const secret of ['one', 'two', 'three']) assert.equal(shown.includes(secret), false, shown);
    assert.equal(shown, 'postgres://db/herald?pass%77ord=***&PASSWORD=***&password=***&password=***');
  });

  it('masks the query\'s password in a URL it cannot parse too', () => {
    const shown = withoutPassword('postgres://u:pw@[bad/herald?password=leakme');
    assert.equal(shown.includes('leakme'), false, shown);
    assert.equal(shown.includes('pw'), false, shown);
  });
});
