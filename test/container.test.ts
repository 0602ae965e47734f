import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Svix, Webhook } from 'svix';
import { parse, stringify } from 'yaml';
import { freePort } from './support/process.ts';
import { waitFor } from './support/wait.ts';

const execFileAsync = promisify(execFile);

// Without a Docker engine, these check what can be checked: that the files agree with the
// repository they describe. The suite at the end runs both where an engine does.
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

/**
 * The image and the compose file, run in a Docker engine. They need one, and images built and
 * pulled beforehand (`docker compose build && docker compose pull postgres`), since a test reaches
 * nothing beyond this machine: set HERALD_TEST_DOCKER=1 to run them. Every port is published on
 * 127.0.0.1 only.
 */
const withDocker = process.env.HERALD_TEST_DOCKER === '1';
describe(withDocker ? 'the image and the compose file, in Docker' : 'the image and the compose file, in Docker (skipped: set HERALD_TEST_DOCKER=1 where a Docker engine runs)', { skip: !withDocker }, () => {
  const IMAGE = 'herald:local';
  const key = randomBytes(32).toString('base64');
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  const run = async (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    (await execFileAsync(command, args, { env: { ...process.env, ...env }, cwd: fileURLToPath(root), maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  const docker = (...args: string[]) => run('docker', args);
  // Compose v2 (`docker compose`) where it is installed, else v1 (`docker-compose`): both read compose.yaml.
  const composeCommand = docker('compose', 'version').then(() => ['docker', 'compose'], () => ['docker-compose']);
  const compose = async (project: string, files: string[], env: NodeJS.ProcessEnv, ...args: string[]) => {
    const [command, ...prefix] = await composeCommand;
    return run(command!, [...prefix, '-p', project, ...files.flatMap((file) => ['-f', file]), ...args], env);
  };
  const ready = (url: string) => waitFor(`${url} to be ready`, async () => (await fetch(`${url}/api/v1/health/ready`).catch(() => null))?.ok, 120_000);
  // On the line after the notice, behind the service's name where compose prefixes it.
  const adminToken = (logs: string) => /Admin token[^\n]*\n[^\n]*?(hrld_\S+)/.exec(logs)?.[1];

  it('runs Herald from the image alone on SQLite, as its unprivileged user, healthy, stopping cleanly on docker stop and keeping its data in the volume', async () => {
    const port = await freePort();
    const name = `herald-test-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => docker('rm', '-f', '-v', name));
    await docker('run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8071`, '-e', `HERALD_ENCRYPTION_KEY=${key}`, IMAGE);
    const url = `http://127.0.0.1:${port}`;
    await ready(url);
    const logs = await docker('logs', name);
    const token = adminToken(logs);
    assert.ok(token, `the first start prints an admin token:\n${logs}`);
    assert.match(logs, /"dashboard":"http:\/\/localhost:8071\/dashboard\/"/, 'the start-up line names a dashboard address a browser can open');
    assert.equal(await docker('exec', name, 'id', '-u'), '1000', 'Herald runs as the node user, not root');
    await waitFor('Docker to call the container healthy', async () => (await docker('inspect', '--format', '{{.State.Health.Status}}', name)) === 'healthy', 120_000);

    const svix = new Svix(token, { serverUrl: url });
    const app = await svix.application.create({ name: 'in a container' });
    const page = await fetch(`${url}/dashboard/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);

    await docker('stop', name);
    assert.equal(await docker('inspect', '--format', '{{.State.ExitCode}}', name), '0', 'SIGTERM drains and exits 0 within the stop timeout');
    assert.match(await docker('logs', name), /SIGTERM: readiness answers 503/);
    await docker('start', name);
    await ready(url);
    assert.equal((await svix.application.get(app.id)).name, 'in a container', 'the SQLite file outlives the container\'s process, in its volume');
    assert.equal((await docker('logs', name)).match(/Admin token/g)?.length, 1, 'no second token at the second start');
  });

  it('composes Herald with PostgreSQL: Herald starts once the database is healthy, delivers a signed message across the compose network, and keeps its data through down and up', async () => {
    const [port, receiverPort] = [await freePort(), await freePort()];
    const project = `heraldtest${randomBytes(4).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'herald-compose-'));
    // A receiver on the compose network, as a consumer's service would be, which Herald may reach
    // only once its private addresses are allowed; it tells the test what it got on another path.
    const receiver = `const got = []; require('node:http').createServer((req, res) => { let body = ''; req.on('data', (c) => (body += c)); req.on('end', () => { if (req.url === '/got') return res.end(JSON.stringify(got)); got.push({ headers: req.headers, body }); res.end('ok'); }); }).listen(8080);`;
    const override = join(dir, 'test.yaml');
    writeFileSync(override, stringify({
      services: {
        herald: { environment: { HERALD_ALLOWED_NETWORKS: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16' } },
        receiver: { image: IMAGE, command: ['node', '-e', receiver], ports: [`127.0.0.1:${receiverPort}:8080`] },
      },
    }));
    const env = { HERALD_ENCRYPTION_KEY: key, HERALD_HOST_PORT: `127.0.0.1:${port}`, HERALD_PUBLIC_URL: `http://127.0.0.1:${port}` };
    const files = ['compose.yaml', override];
    cleanups.push(async () => {
      await compose(project, files, env, 'down', '-v', '--remove-orphans');
      rmSync(dir, { recursive: true, force: true });
    });
    await compose(project, files, env, 'up', '-d', '--no-build');
    const url = `http://127.0.0.1:${port}`;
    await ready(url);
    const token = adminToken(await compose(project, files, env, 'logs', '--no-color', 'herald'));
    assert.ok(token, 'the first start prints an admin token');

    const svix = new Svix(token, { serverUrl: url });
    const app = await svix.application.create({ name: 'composed' });
    const endpoint = await svix.endpoint.create(app.id, { url: 'http://receiver:8080/hook' });
    const secret = (await svix.endpoint.getSecret(app.id, endpoint.id)).key;
    await svix.message.create(app.id, { eventType: 'compose.tried', payload: { over: 'the compose network' } });
    const [delivered] = await waitFor('the delivery at the receiver', async () => {
      const got = await (await fetch(`http://127.0.0.1:${receiverPort}/got`).catch(() => null))?.json().catch(() => null) as Array<{ headers: Record<string, string>; body: string }> | null;
      return got?.length ? got : null;
    }, 60_000);
    // The svix library throws on a signature it cannot verify.
    new Webhook(secret).verify(delivered!.body, delivered!.headers);
    assert.deepEqual(JSON.parse(delivered!.body), { over: 'the compose network' });

    await compose(project, files, env, 'down');
    await compose(project, files, env, 'up', '-d', '--no-build');
    await ready(url);
    assert.equal((await svix.application.get(app.id)).name, 'composed', 'PostgreSQL\'s volume outlives the containers');
    assert.equal((await svix.endpoint.getSecret(app.id, endpoint.id)).key, secret, 'the secret unseals with the same key');
  });
});
