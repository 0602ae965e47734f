import { type Config, ConfigError, describeSettings, loadConfig } from '../config/config.ts';
import { startHerald } from '../herald.ts';
import { VERSION } from '../version.ts';

const HELP = `Herald ${VERSION}: webhooks, sent and received.

Usage:
  herald serve [options]    run the API and the delivery worker
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

async function serve(argv: string[]): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herald: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const herald = await startHerald(config);
  if (herald.adminTokenCreated) {
    console.log(`Admin token (shown once; also stored in ${config.dataDir}/admin-token):\n  ${herald.adminToken}`);
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
