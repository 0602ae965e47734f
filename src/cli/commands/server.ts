import { resolve } from 'node:path';
import { type Config, ConfigError, sqliteFile, withoutPassword } from '../../config/config.ts';
import { systemClock, systemRandom } from '../../core/clock.ts';
import { createIdGenerator } from '../../core/ids.ts';
import { VERSION } from '../../version.ts';
import type { Command } from '../command.ts';
import { configFrom, SECRET_SETTINGS, SETTING_OPTIONS } from '../settings.ts';

// The server (Fastify, the database drivers) loads only for the commands that run it: the offline
// commands (sign, verify, trigger) answer in a tenth of the time.
const server = () => import('../../herald.ts');

export const serve: Command = {
  name: 'serve',
  summary: 'run the API, the dashboard and the delivery worker',
  description: `Every setting is a flag, an environment variable or a key of herald.config.json (the flag in camelCase); flags win, then the environment, then the file. \`herald config print\` shows what is in effect. Secrets are environment only:\n${SECRET_SETTINGS}`,
  options: SETTING_OPTIONS,
  examples: ['herald serve', 'HERALD_ALLOW_PRIVATE_NETWORKS=true herald serve --port 9000 --data-dir /var/lib/herald'],
  async run({ values }, io) {
    const config = configFrom(values, io);
    if (!config) return 2;
    const { startHerald } = await server();
    let herald: Awaited<ReturnType<typeof startHerald>>;
    try {
      herald = await startHerald(config);
    } catch (error) {
      // A setting that does not fit the database (another process's encryption key), or an
      // address this machine will not listen on, is found only now.
      const listening = (error as NodeJS.ErrnoException).syscall;
      if (listening === 'listen' || listening === 'getaddrinfo') {
        io.stderr.write(`herald: cannot listen on ${config.host}:${config.port} (--host, HERALD_HOST; --port, HERALD_PORT): ${(error as Error).message}\n`);
        return 2;
      }
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`herald: ${error.message}\n`);
      return 2;
    }
    if (herald.adminTokenCreated) {
      io.stdout.write(`Admin token (shown this once; Herald keeps only its digest):\n  ${herald.adminToken}\n`);
    }
    herald.logger.info(banner(herald.url, config), herald.url ? `Herald ${VERSION} listening on ${herald.url}` : `Herald ${VERSION} worker started`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        herald.logger.info(signal === 'SIGTERM' && config.drainDelayMs > 0
          ? `${signal}: readiness answers 503 for ${config.drainDelayMs} ms, then finishing deliveries in flight and stopping`
          : `${signal}: finishing deliveries in flight, then stopping`);
        process.once(signal, () => process.exit(130)); // a second signal does not wait
        // An orchestrator's SIGTERM gets the drain delay (readiness fails first); a person's Ctrl-C does not wait.
        herald.close({ drainMs: signal === 'SIGTERM' ? config.drainDelayMs : 0 }).then(resolve, (error) => {
          herald.logger.error({ err: error }, 'shutdown failed');
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  },
};

export const token: Command = {
  name: 'token',
  summary: 'create another admin token and print it (stop a SQLite Herald first)',
  options: SETTING_OPTIONS,
  async run({ values }, io) {
    const config = configFrom(values, io);
    if (!config) return 2;
    const { createAdminToken, openStore } = await server();
    const store = await openStore(config, systemClock);
    try {
      io.stdout.write(`${await createAdminToken(store, createIdGenerator(systemClock, systemRandom), systemClock, systemRandom)}\n`);
    } finally {
      await store.close();
    }
    return 0;
  },
};

/**
 * What an operator needs first, on the start-up line: where the dashboard and the API's reference
 * are, which database and data directory this process uses, and how to get a token. A database
 * URL's password is never shown.
 */
export function banner(url: string | null, config: Config): Record<string, unknown> {
  const file = sqliteFile(config);
  const database = file !== null ? `SQLite ${resolve(file)}` : `PostgreSQL ${withoutPassword(config.databaseUrl!)}`;
  const opened = url ? openedAt(url, config) : null;
  return {
    role: config.role,
    ...(opened ? { dashboard: `${opened}/dashboard/`, apiDocs: `${opened}/docs` } : {}),
    database,
    dataDir: resolve(config.dataDir),
    // Not `token`: a field named so is redacted from every line (src/logging.ts).
    getToken: config.adminToken
      ? 'HERALD_ADMIN_TOKEN (from the environment)'
      : 'printed once at the first start; `herald token` makes another (stop a SQLite Herald first)',
  };
}

/**
 * Where a person opens Herald: its public URL when one is set (behind a proxy, or a container's
 * published port); otherwise the address it listens on, except that a wildcard such as 0.0.0.0
 * (every container binds it) is no address a browser can open, so localhost stands for it.
 */
function openedAt(url: string, config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]') parsed.hostname = 'localhost';
  return parsed.origin;
}
