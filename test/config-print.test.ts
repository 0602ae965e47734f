import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCli } from './support/process.ts';

it('herald config print shows each effective setting with its source, flags over environment over file, secrets and passwords masked', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'herald-config-')), 'herald.config.json');
  writeFileSync(file, JSON.stringify({ port: 9001, host: '0.0.0.0', logLevel: 'warn', databaseUrl: 'postgres://herald:s3cr3t-pw@db:5432/herald' }));
  const env = { PATH: process.env.PATH, HERALD_HOST: '127.0.0.2', HERALD_ADMIN_TOKEN: 'admin-token-not-to-be-shown' };
  const result = await runCli(['config', 'print', '--config', file, '--port', '9003'], env);
  assert.equal(result.code, 0, result.stderr);
  const row = (name: string) => result.stdout.split('\n').find((line) => line.startsWith(`${name} `))?.split(/\s{2,}/);
  assert.deepEqual(row('port'), ['port', '9003', 'flag --port']);
  assert.deepEqual(row('host'), ['host', '127.0.0.2', 'env HERALD_HOST']);
  assert.deepEqual(row('logLevel'), ['logLevel', 'warn', `file ${file}`]);
  assert.deepEqual(row('role'), ['role', 'all', 'default']);
  assert.deepEqual(row('HERALD_ADMIN_TOKEN'), ['HERALD_ADMIN_TOKEN', '(set, hidden)', 'env HERALD_ADMIN_TOKEN']);
  assert.equal(result.stdout.includes('admin-token-not-to-be-shown'), false);
  assert.equal(result.stdout.includes('s3cr3t-pw'), false);
  assert.match(row('databaseUrl')![1]!, /^postgres:\/\/herald:\*\*\*@db:5432\/herald$/);
  // A setting another decides shows what it comes to.
  assert.deepEqual(row('maxInFlightPerApp'), ['maxInFlightPerApp', '128 (half of maxInFlight)', 'default']);
  const onSqlite = await runCli(['config', 'print', '--data-dir', '/srv/herald'], env);
  assert.match(onSqlite.stdout, /^databaseUrl +\(none: SQLite at \/srv\/herald\/herald\.db\) +default$/m);

  writeFileSync(file, JSON.stringify({ port: 'eighty' }));
  const refused = await runCli(['serve', '--config', file], env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /"port" is "eighty": expected a port number/);
});

it('herald config print masks a password given in the database URL\'s query, which pg takes as the password', async () => {
  const env = { PATH: process.env.PATH, HERALD_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db?password=leakme&sslpassword=keyleak&sslmode=prefer' };
  const result = await runCli(['config', 'print'], env);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.includes('leakme'), false, result.stdout);
  assert.equal(result.stdout.includes('keyleak'), false, result.stdout);
  assert.match(result.stdout, /^databaseUrl +postgres:\/\/postgres@127\.0\.0\.1:5432\/db\?password=\*\*\*&sslpassword=\*\*\*&sslmode=prefer +env HERALD_DATABASE_URL$/m);
});

it('herald config print masks the password of a collector\'s URL, and an error the password of a database given in libpq\'s keyword form', async () => {
  const env = { PATH: process.env.PATH, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:otelpw@127.0.0.1:4318' };
  const result = await runCli(['config', 'print'], env);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.includes('otelpw'), false, result.stdout);
  assert.match(result.stdout, /^otelEndpoint +http:\/\/user:\*\*\*@127\.0\.0\.1:4318\/ +env OTEL_EXPORTER_OTLP_ENDPOINT$/m);
  const refused = await runCli(['config', 'print'], { PATH: process.env.PATH, HERALD_DATABASE_URL: "host=127.0.0.1 password=pw8 dbname=test sslpassword='a b'" });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /HERALD_DATABASE_URL/);
  assert.equal(refused.stderr.includes('pw8') || refused.stderr.includes('a b'), false, refused.stderr);
});
