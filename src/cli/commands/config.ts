import { type Config, fileKey, SETTINGS, shownValue, sqliteFile } from '../../config/config.ts';
import type { Command } from '../command.ts';
import { configWithSources, SETTING_OPTIONS } from '../settings.ts';

const print: Command = {
  name: 'print',
  summary: 'show the effective settings and where each came from (secrets masked)',
  description: 'Reads the settings as `herald serve` would (flags > environment > settings file > defaults) and prints each with its source.',
  options: SETTING_OPTIONS,
  examples: ['herald config print', 'herald config print --config /etc/herald/herald.config.json --port 9000'],
  run({ values }, io) {
    const loaded = configWithSources(values, io);
    if (!loaded) return 2;
    const rows = SETTINGS.map((setting) => {
      const source = loaded.sources[setting.key];
      const secret = !setting.flag;
      const shown = secret ? (source.raw === '' ? '(not set)' : '(set, hidden)') : source.raw === '' ? unset(setting.key, loaded.config) : shownValue(setting.key, source.raw);
      const from = source.kind === 'file' ? `file ${source.name}` : source.kind === 'env' ? `env ${source.name}` : source.kind === 'flag' ? `flag ${source.name}` : 'default';
      return [secret ? setting.env : fileKey(setting.flag!), shown, from] as const;
    });
    const width = (i: number) => Math.max(...rows.map((row) => row[i]!.length));
    for (const [name, value, from] of rows) io.stdout.write(`${name.padEnd(width(0))}  ${value.padEnd(width(1))}  ${from}\n`);
    return 0;
  },
};

/** What an empty setting comes to, where another setting decides it. */
function unset(key: keyof Config, config: Config): string {
  if (key === 'databaseUrl') return `(none: SQLite at ${sqliteFile(config)})`;
  if (key === 'maxInFlightPerApp') return `${config.maxInFlightPerApp} (half of maxInFlight)`;
  return '(none)';
}

export const config: Command = {
  name: 'config',
  summary: 'inspect Herald\'s settings',
  commands: [print],
};
