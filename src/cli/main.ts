import { runCli } from './command.ts';
import { root } from './root.ts';

// `--version` is what people try first.
const argv = process.argv.slice(2);
runCli(root, argv[0] === '--version' ? ['version'] : argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => (process.exitCode = code),
  (error) => {
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
