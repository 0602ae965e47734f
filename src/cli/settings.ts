import { type Config, ConfigError, loadConfigWithSources, readConfigFile, SETTINGS, type SettingSource } from '../config/config.ts';
import type { Io, Option, Values } from './command.ts';

/**
 * The settings as `serve` and `token` take them: every setting with a flag, described as
 * `herald help serve` shows it, with the environment variable that sets it too. Secrets have no
 * flag (they would show in `ps`), so only their variables are listed, in the description.
 */
export const SETTING_OPTIONS: Record<string, Option> = {
  ...Object.fromEntries(SETTINGS.filter((s) => s.flag).map((s) => [s.flag!, {
    type: 'string',
    value: s.env,
    describe: `${s.describe}${s.default ? ` (default ${s.default})` : ''}`,
  } satisfies Option])),
  config: { type: 'string', value: 'path', describe: 'a JSON file of settings, keys as these flags in camelCase (default: herald.config.json here, if there is one)' },
};
export const SECRET_SETTINGS = SETTINGS.filter((s) => !s.flag).map((s, _, all) => `  ${s.env.padEnd(Math.max(...all.map((t) => t.env.length)) + 2)}${s.describe}`).join('\n');

/** The config from the parsed flags, the environment and the settings file, or null after printing what is wrong. */
export function configFrom(values: Values, io: Io): Config | null {
  return configWithSources(values, io)?.config ?? null;
}

/** The same, with where each setting came from (`herald config print`). */
export function configWithSources(values: Values, io: Io): { config: Config; sources: Record<keyof Config, SettingSource> } | null {
  const flags = Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  try {
    return loadConfigWithSources(flags, io.env, readConfigFile(flags.config, process.cwd()));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`herald: ${error.message}\n`);
    return null;
  }
}
