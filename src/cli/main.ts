import { type Config, ConfigError, describeSettings, loadConfig } from '../config/config.ts';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import { createAdminToken, openStore, startHerald } from '../herald.ts';
import { VERSION } from '../version.ts';

const HELP = `Herald ${VERSION}: webhooks, sent and received.

Usage:
  herald serve [options]    run the API and the delivery worker
  herald token [options]    create another admin token and print it (stop a SQLite Herald first)
  herald version            print the version
  herald help               show this text

Settings (flag, environment variable, meaning):
${describeSettings()}

Examples:
  herald serve
  HERALD_ALLOW_PRIVATE_NETWORKS=true herald serve --port 9000 --data-dir /var/lib/herald
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'token':
      return token(rest);
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      console.error(`Unknown command ${JSON.stringify(command)}.\n\n${HELP}`);
      return 2;
  }
}

function configFrom(argv: string[]): Config | null {
  try {
    return loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herald: ${error.message}`);
      return null;
    }
    throw error;
  }
}

async function token(argv: string[]): Promise<number> {
  const config = configFrom(argv);
  if (!config) return 2;
  const store = await openStore(config, systemClock);
  try {
    console.log(await createAdminToken(store, createIdGenerator(systemClock, systemRandom), systemClock, systemRandom));
  } finally {
    await store.close();
  }
  return 0;
}

async function serve(argv: string[]): Promise<number> {
  const config = configFrom(argv);
  if (!config) return 2;
  let herald: Awaited<ReturnType<typeof startHerald>>;
  try {
    herald = await startHerald(config);
  } catch (error) {
    // A setting that does not fit the database (another process's encryption key) is found only now.
    if (!(error instanceof ConfigError)) throw error;
    console.error(`herald: ${error.message}`);
    return 2;
  }
  if (herald.adminTokenCreated) {
    console.log(`Admin token (shown this once; Herald keeps only its digest):\n  ${herald.adminToken}`);
  }
  herald.logger.info(
    { url: herald.url, role: config.role },
    herald.url ? `Herald ${VERSION} listening on ${herald.url}` : `Herald ${VERSION} worker started`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      herald.logger.info(`${signal}: finishing deliveries in flight, then stopping`);
      process.once(signal, () => process.exit(130)); // a second signal does not wait
      herald.close().then(resolve, (error) => {
        herald.logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`herald: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
