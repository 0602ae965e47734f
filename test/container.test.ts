import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parse } from 'yaml';

// No Docker engine runs where the tests run, so the image is not built here: these check what can
// be checked without one, that the files agree with the repository they describe.
const root = new URL('../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');

it('copies into the image only what exists once the repository is built, and runs Herald as its unprivileged user', () => {
  const copied = [...dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) /gm)].map((m) => m[1]!);
  assert.ok(copied.length >= 5);
  for (const path of copied) assert.ok(existsSync(new URL(path, root)), `${path} exists after npm install (prepare builds dist/ and ui/dist/)`);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^CMD \["node", .*"bin\/herald\.js", "serve"\]$/m);
  const flags = readFileSync(new URL('bin/herald.js', root), 'utf8').split('\n')[0]!.split(/\s+/).slice(3);
  for (const flag of flags) assert.ok(dockerfile.includes(`"${flag}"`), `the image runs node with ${flag}, as bin/herald.js does`);
  assert.match(dockerfile, /HEALTHCHECK .*\n.*\/api\/v1\/health\/ready/);
});

it('composes Herald with PostgreSQL: Herald waits for a healthy database, keeps its data in a volume, and needs the encryption key given', () => {
  const compose = parse(readFileSync(new URL('compose.yaml', root), 'utf8'));
  assert.deepEqual(Object.keys(compose.services).sort(), ['herald', 'postgres']);
  const herald = compose.services.herald;
  assert.equal(herald.depends_on.postgres.condition, 'service_healthy');
  assert.match(herald.environment.HERALD_DATABASE_URL, /^postgres:\/\/herald:herald@postgres:5432\/herald$/);
  assert.match(herald.environment.HERALD_ENCRYPTION_KEY, /^\$\{HERALD_ENCRYPTION_KEY:\?/);
  assert.deepEqual(herald.volumes, ['herald:/var/lib/herald']);
  assert.ok(compose.services.postgres.healthcheck.test.includes('pg_isready'));
});
