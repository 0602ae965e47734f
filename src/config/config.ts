import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { isCidr } from '../core/address-policy.ts';
import { MAX_RETRY_DELAY_MS, MAX_TIMER_MS, parseDuration, parseDurationList } from '../core/durations.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../core/retry-policy.ts';
import { parseOtlpHeaders } from '../core/otlp-headers.ts';
import { SCHEMA_VALIDATIONS, type SchemaValidation } from '../core/payload-schemas.ts';

/** How log lines are written: JSON, pino-pretty's coloured lines, or pretty on a terminal only (src/logging.ts). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Null selects the embedded SQLite database in the data directory. */
  databaseUrl: string | null;
  /** Null means "generate one on first start, show it once and keep its digest". */
  adminToken: string | null;
  /** A token that may read /metrics and nothing else; null: admin tokens only. */
  metricsToken: string | null;
  /** The OpenTelemetry collector traces go to (OTLP over HTTP); null: no tracing at all. */
  otelEndpoint: string | null;
  /** Headers sent with each trace export (a collector's API key, say). */
  otelHeaders: Record<string, string>;
  otelServiceName: string;
  /** The key sealing secrets at rest; null means "generated into the data directory". */
  encryptionKey: Uint8Array | null;
  allowPrivateNetworks: boolean;
  /** CIDR blocks deliveries may reach even though they are private. */
  allowedNetworks: string[];
  endpointHttpsOnly: boolean;
  retryScheduleMs: number[];
  requestTimeoutMs: number;
  maxPayloadBytes: number;
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  /** Deliveries in flight at once to the endpoints of one application (half of maxInFlight unless set). */
  maxInFlightPerApp: number;
  logLevel: string;
  /** JSON lines, or pino-pretty's coloured lines; auto picks pretty on a terminal. */
  logFormat: LogFormat;
  /** How long a claimed delivery stays with its worker before another may take it. */
  leaseMs: number;
  /** Messages and attempts older than this are purged. */
  retentionMs: number;
  /** API requests a second each token may make (bursts of as many); 0 turns the limit off. */
  rateLimit: number;
  /** Where providers and clients reach Herald (e.g. https://hooks.example.com), for ingest URLs. */
  publicUrl: string | null;
  /** Which halves this process runs: the HTTP API, the delivery worker, or both. */
  role: 'api' | 'worker' | 'all';
  databasePoolSize: number;
  /** Requests each request bin keeps; the oldest go first. */
  binMaxRequests: number;
  /** The longest a bin holds a request open: its timeout rule's bound, and the largest delayMs. */
  binMaxHoldMs: number;
  /** Unfinished deliveries each listen session keeps; the oldest are dropped first. */
  listenMaxEvents: number;
  /** How long a listen session keeps a delivery its consumer has not taken. */
  listenMaxAgeMs: number;
  /** CSP frame-ancestors of the portal: the pages that may embed it in an iframe. */
  portalFrameAncestors: string;
  /** Failures in a row (within circuitWindowMs of the first) that open an endpoint's circuit. */
  circuitFailures: number;
  circuitWindowMs: number;
  /** An endpoint failing without a single success for this long is disabled. */
  disableAfterMs: number;
  /** After SIGTERM, how long readiness answers 503 while the API still serves, before it stops listening. */
  drainDelayMs: number;
  /** How published payloads are checked against their event type's schema, unless the event type says otherwise. */
  schemaValidation: SchemaValidation;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface Setting<K extends keyof Config> {
  key: K;
  /** Command-line flag, without the dashes; absent for secrets, which must not show in `ps`. */
  flag?: string;
  env: string;
  /** What the settings file may give besides text: a number, a boolean, or a list of texts. */
  kind?: 'number' | 'boolean' | 'list';
  default: string;
  describe: string;
  /** The parsed value, or INVALID. */
  parse: (text: string) => Config[K] | typeof INVALID;
  expected: string;
}

const INVALID = Symbol('invalid');
const orInvalid = <T>(value: T | null | undefined) => value ?? INVALID;
const integer = (min: number, max: number) => (text: string) => {
  const value = Number(text);
  return /^\d+$/.test(text.trim()) && value >= min && value <= max ? value : INVALID;
};
const text = (value: string) => value;
const boolean = (value: string) => orInvalid(({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[value.trim().toLowerCase()]);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Every setting, in the order `herald help` lists them. Flags win over environment over defaults. */
export const SETTINGS: ReadonlyArray<Setting<keyof Config>> = [
  { key: 'port', kind: 'number', flag: 'port', env: 'HERALD_PORT', default: '8071', describe: 'HTTP port', parse: integer(0, 65535), expected: 'a port number (0-65535)' },
  { key: 'host', flag: 'host', env: 'HERALD_HOST', default: '127.0.0.1', describe: 'address to listen on', parse: text, expected: 'a host name or address' },
  { key: 'dataDir', flag: 'data-dir', env: 'HERALD_DATA_DIR', default: './.herald', describe: 'directory for the SQLite database and generated keys', parse: (value) => (value.trim() === '' ? INVALID : value), expected: 'a directory path' },
  { key: 'databaseUrl', flag: 'database-url', env: 'HERALD_DATABASE_URL', default: '', describe: 'database URL (default: SQLite in the data dir)', parse: databaseUrl, expected: 'postgres://user:password@host:port/database, sqlite:<path>, or nothing for SQLite in the data dir' },
  { key: 'adminToken', env: 'HERALD_ADMIN_TOKEN', default: '', describe: 'admin API token (default: generated into the data dir)', parse: optionalToken, expected: 'a token of at least 16 characters' },
  { key: 'metricsToken', env: 'HERALD_METRICS_TOKEN', default: '', describe: 'a token that may read /metrics and nothing else (default: admin tokens only)', parse: optionalToken, expected: 'a token of at least 16 characters' },
  { key: 'otelEndpoint', flag: 'otel-endpoint', env: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: '', describe: 'OpenTelemetry collector base URL: one trace per message, publish to each attempt (default: off)', parse: (value) => (value === '' ? null : /^https?:\/\/[^\s]+$/.test(value) ? value : INVALID), expected: 'an http(s) URL such as http://127.0.0.1:4318' },
  { key: 'otelHeaders', env: 'OTEL_EXPORTER_OTLP_HEADERS', default: '', describe: 'headers for the collector, k=v,k2=v2', parse: (value) => orInvalid(parseOtlpHeaders(value)), expected: 'comma-separated name=value pairs' },
  { key: 'otelServiceName', flag: 'otel-service-name', env: 'OTEL_SERVICE_NAME', default: 'herald', describe: 'service.name of the traces', parse: (value) => value || INVALID, expected: 'a name' },
  { key: 'encryptionKey', env: 'HERALD_ENCRYPTION_KEY', default: '', describe: 'base64 of 32 bytes sealing secrets at rest (default: generated into the data dir)', parse: (value) => (value === '' ? null : orInvalid(thirtyTwoBytes(value))), expected: 'base64 of 32 random bytes, e.g. from `openssl rand -base64 32`' },
  { key: 'allowPrivateNetworks', kind: 'boolean', flag: 'allow-private-networks', env: 'HERALD_ALLOW_PRIVATE_NETWORKS', default: 'false', describe: 'allow deliveries to loopback and private addresses', parse: boolean, expected: 'true or false' },
  { key: 'allowedNetworks', kind: 'list', flag: 'allowed-networks', env: 'HERALD_ALLOWED_NETWORKS', default: '', describe: 'comma-separated CIDRs deliveries may reach although private', parse: (value) => cidrList(value), expected: 'comma-separated CIDR blocks such as 10.1.0.0/16,fd00::/8' },
  { key: 'endpointHttpsOnly', kind: 'boolean', flag: 'endpoint-https-only', env: 'HERALD_ENDPOINT_HTTPS_ONLY', default: 'false', describe: 'refuse plain-http endpoint URLs', parse: boolean, expected: 'true or false' },
  { key: 'retryScheduleMs', kind: 'list', flag: 'retry-schedule', env: 'HERALD_RETRY_SCHEDULE', default: DEFAULT_RETRY_SCHEDULE, describe: 'delays between attempts', parse: (value) => orInvalid(upTo(MAX_RETRY_DELAY_MS, parseDurationList(value))), expected: 'comma-separated durations such as 5s,5m,2h, each up to 30d' },
  { key: 'requestTimeoutMs', flag: 'request-timeout', env: 'HERALD_REQUEST_TIMEOUT', default: '15s', describe: 'how long a delivery waits for its response', parse: (value) => orInvalid(upTo(MAX_TIMER_MS, positive(parseDuration(value)))), expected: 'a duration such as 15s, up to 24d' },
  { key: 'maxPayloadBytes', kind: 'number', flag: 'max-payload', env: 'HERALD_MAX_PAYLOAD', default: '1048576', describe: 'largest accepted request body, in bytes', parse: integer(1024, 64 * 1024 * 1024), expected: 'a byte count between 1024 and 67108864' },
  { key: 'maxInFlight', kind: 'number', flag: 'max-in-flight', env: 'HERALD_MAX_IN_FLIGHT', default: '256', describe: 'deliveries in flight at once', parse: integer(1, 100_000), expected: 'a positive integer' },
  { key: 'maxInFlightPerEndpoint', kind: 'number', flag: 'max-in-flight-per-endpoint', env: 'HERALD_MAX_IN_FLIGHT_PER_ENDPOINT', default: '32', describe: 'deliveries in flight at once to one endpoint', parse: integer(1, 10_000), expected: 'a positive integer' },
  // Unset (0) becomes half of HERALD_MAX_IN_FLIGHT once that is known, so one tenant never takes every slot.
  { key: 'maxInFlightPerApp', kind: 'number', flag: 'max-in-flight-per-app', env: 'HERALD_MAX_IN_FLIGHT_PER_APP', default: '', describe: 'deliveries in flight at once to one application\'s endpoints (default: half of --max-in-flight)', parse: (value) => (value === '' ? 0 : integer(1, 100_000)(value)), expected: 'a positive integer' },
  { key: 'leaseMs', flag: 'lease', env: 'HERALD_LEASE', default: '45s', describe: 'how long a worker holds a claimed delivery; longer than the request timeout', parse: (value) => orInvalid(upTo(MAX_TIMER_MS, positive(parseDuration(value)))), expected: 'a duration such as 45s, up to 24d' },
  { key: 'retentionMs', flag: 'retention', env: 'HERALD_RETENTION', default: '30d', describe: 'age after which messages and attempts are purged', parse: (value) => orInvalid(positive(parseDuration(value))), expected: 'a duration such as 30d' },
  { key: 'rateLimit', kind: 'number', flag: 'rate-limit', env: 'HERALD_RATE_LIMIT', default: '5000', describe: 'API requests a second per token, 0 for no limit', parse: integer(0, 1_000_000), expected: 'a number of requests a second (0 for no limit)' },
  { key: 'publicUrl', flag: 'public-url', env: 'HERALD_PUBLIC_URL', default: '', describe: 'the address providers reach Herald at, for ingest URLs (default: the request\'s host)', parse: (value) => (value === '' ? null : /^https?:\/\/[^/]+$/.test(value) ? value : INVALID), expected: 'an origin such as https://hooks.example.com, without a path' },
  { key: 'role', flag: 'role', env: 'HERALD_ROLE', default: 'all', describe: 'api, worker or all (on SQLite, one process at a time)', parse: (value) => (['api', 'worker', 'all'].includes(value) ? (value as Config['role']) : INVALID), expected: 'api, worker or all' },
  { key: 'databasePoolSize', kind: 'number', flag: 'database-pool-size', env: 'HERALD_DATABASE_POOL_SIZE', default: '10', describe: 'PostgreSQL connections per process, a third of them for the queue (at least one each)', parse: integer(1, 1_000), expected: 'a positive integer' },
  { key: 'binMaxRequests', kind: 'number', flag: 'bin-max-requests', env: 'HERALD_BIN_MAX_REQUESTS', default: '1000', describe: 'requests each request bin keeps, the oldest going first', parse: integer(1, 1_000_000), expected: 'a positive integer' },
  { key: 'binMaxHoldMs', flag: 'bin-max-hold', env: 'HERALD_BIN_MAX_HOLD', default: '60s', describe: 'longest a request bin holds a request open (its timeout rule, its delayMs)', parse: (value) => orInvalid(upTo(MAX_TIMER_MS, positive(parseDuration(value)))), expected: 'a duration such as 60s, up to 24d' },
  { key: 'listenMaxEvents', kind: 'number', flag: 'listen-max-events', env: 'HERALD_LISTEN_MAX_EVENTS', default: '10000', describe: 'events each `herald listen` session keeps while no listener takes them, the oldest dropped first', parse: integer(1, 10_000_000), expected: 'a positive integer' },
  { key: 'listenMaxAgeMs', flag: 'listen-max-age', env: 'HERALD_LISTEN_MAX_AGE', default: '7d', describe: 'how long a `herald listen` session keeps an event no listener took', parse: (value) => orInvalid(positive(parseDuration(value))), expected: 'a duration such as 7d' },
  { key: 'portalFrameAncestors', flag: 'portal-frame-ancestors', env: 'HERALD_PORTAL_FRAME_ANCESTORS', default: "'self'", describe: 'who may embed the portal in an iframe (CSP frame-ancestors)', parse: (value) => frameAncestors(value), expected: "space-separated CSP sources such as 'self' https://app.example.com, or 'none'" },
  { key: 'circuitFailures', kind: 'number', flag: 'circuit-failures', env: 'HERALD_CIRCUIT_FAILURES', default: '10', describe: 'failures in a row that open an endpoint\'s circuit (its deliveries wait; one probe goes out at growing intervals)', parse: integer(1, 1_000_000), expected: 'a positive integer' },
  { key: 'circuitWindowMs', flag: 'circuit-window', env: 'HERALD_CIRCUIT_WINDOW', default: '10m', describe: 'how close together those failures must come', parse: (value) => orInvalid(positive(parseDuration(value))), expected: 'a duration such as 10m' },
  { key: 'disableAfterMs', flag: 'disable-after', env: 'HERALD_DISABLE_AFTER', default: '5d', describe: 'how long an endpoint may fail without a single success before it is disabled', parse: (value) => orInvalid(positive(parseDuration(value))), expected: 'a duration such as 5d' },
  { key: 'drainDelayMs', flag: 'drain-delay', env: 'HERALD_DRAIN_DELAY', default: '5s', describe: 'after SIGTERM, how long /api/v1/health/ready answers 503 while the API still serves, so load balancers stop sending first (Ctrl-C does not wait)', parse: (value) => orInvalid(upTo(MAX_TIMER_MS, parseDuration(value))), expected: 'a duration such as 5s, or 0, up to 24d' },
  { key: 'schemaValidation', flag: 'schema-validation', env: 'HERALD_SCHEMA_VALIDATION', default: 'warn', describe: "check published payloads against their event type's schema: off, warn (accept, record what is wrong) or enforce (refuse with 422)", parse: (value) => (SCHEMA_VALIDATIONS.includes(value as SchemaValidation) ? (value as SchemaValidation) : INVALID), expected: 'off, warn or enforce' },
  { key: 'logLevel', flag: 'log-level', env: 'HERALD_LOG_LEVEL', default: 'info', describe: LOG_LEVELS.join(', '), parse: (value) => (LOG_LEVELS.includes(value) ? value : INVALID), expected: `one of ${LOG_LEVELS.join(', ')}` },
  { key: 'logFormat', flag: 'log-format', env: 'HERALD_LOG_FORMAT', default: 'auto', describe: 'json (one object a line), pretty (coloured lines), or auto: pretty on a terminal, JSON otherwise', parse: (value) => (LOG_FORMATS.includes(value as LogFormat) ? (value as LogFormat) : INVALID), expected: 'auto, json or pretty' },
];

/**
 * A database URL Herald can open, checked here so that a typo stops Herald with a message naming
 * the setting rather than with the driver's bare "Invalid URL" at start.
 */
function databaseUrl(value: string): string | null | typeof INVALID {
  if (value === '') return null;
  if (value.startsWith('sqlite:')) return value.length > 'sqlite:'.length ? value : INVALID;
  if (!isPostgresUrl(value)) return INVALID;
  return URL.canParse(value) ? value : INVALID;
}

/** A token an operator sets: none, or one long enough not to be guessed. */
function optionalToken(value: string): string | null | typeof INVALID {
  return value === '' ? null : value.length >= 16 ? value : INVALID;
}

function cidrList(value: string): string[] | typeof INVALID {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  return items.every(isCidr) ? items : INVALID;
}

// A CSP source expression: 'self', 'none', a scheme (https:), or a host with optional scheme,
// wildcard subdomain, port and path. Nothing that could end the directive (`;`, `,`) gets through.
const CSP_SOURCE = /^(?:'self'|'none'|\*|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:\/[^\s;,'"]*)?)$/i;

function frameAncestors(value: string): string | typeof INVALID {
  const sources = value.trim().split(/\s+/).filter(Boolean);
  if (sources.length === 0 || !sources.every((source) => CSP_SOURCE.test(source))) return INVALID;
  if (sources.includes("'none'") && sources.length > 1) return INVALID;
  return sources.join(' ');
}

function thirtyTwoBytes(value: string): Uint8Array | null {
  const key = Buffer.from(value, 'base64');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value.trim()) && key.length === 32 ? key : null;
}

function positive(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}

/** A duration, or each of a list, no longer than `maxMs`; null otherwise. */
function upTo<T extends number | number[]>(maxMs: number, value: T | null): T | null {
  if (value === null) return null;
  return (Array.isArray(value) ? value : [value]).every((ms) => ms <= maxMs) ? value : null;
}

/** The settings a command line may give, by flag name (`port`, `data-dir`, …), as `herald serve` declares them. */
export type SettingFlags = Readonly<Record<string, string | undefined>>;

/** A settings file as read: where it is, and its values by key (`port`, `dataDir`, …). */
export interface ConfigFile {
  path: string;
  values: Readonly<Record<string, unknown>>;
}

/** Where a setting's value came from, for `herald config print`. */
export interface SettingSource {
  kind: 'flag' | 'env' | 'file' | 'default';
  /** `--port`, `HERALD_PORT`, the file's path, or `default`. */
  name: string;
  /** The text the value was read from. */
  raw: string;
}

export const CONFIG_FILE_NAME = 'herald.config.json';

/** A setting's key in the file: its flag in camelCase (`data-dir` → `dataDir`). */
export const fileKey = (flag: string) => flag.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

const FILE_KIND_SCHEMAS = {
  text: { type: 'string' },
  number: { type: ['integer', 'string'] },
  boolean: { type: ['boolean', 'string'] },
  list: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
} as const;
const FILE_KIND_TEXT = { text: 'text (in quotes)', number: 'a whole number', boolean: 'true or false', list: 'a list of texts, or one text with commas' } as const;

/**
 * The file's schema: an object whose keys are the flags' names in camelCase, each text, or where
 * the setting is one a number, a boolean, or a list of texts (durations are text: "15s"). Secrets
 * have no flag and so no key: they stay in the environment, out of files that get committed next
 * to a compose file.
 */
const FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(SETTINGS.filter((s) => s.flag).map((s) => [fileKey(s.flag!), FILE_KIND_SCHEMAS[s.kind ?? 'text']])),
} as const;
let validateFile: ValidateFunction | null = null;

/**
 * Reads the settings file: `path` when given (it must exist), else `herald.config.json` in `cwd`
 * if there is one. Checks it against the schema, and throws a ConfigError naming the file and the
 * key that is wrong.
 */
export function readConfigFile(path: string | undefined, cwd: string): ConfigFile | null {
  const file = path ? resolve(cwd, path) : join(cwd, CONFIG_FILE_NAME);
  if (!path && !existsSync(file)) return null;
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`Cannot read the settings file ${file}: ${reason}.`);
  }
  validateFile ??= new Ajv({ allErrors: true, strict: false }).compile(FILE_SCHEMA);
  if (!validateFile(values)) {
    const secrets = new Map(SETTINGS.filter((s) => !s.flag).map((s) => [s.key as string, s.env]));
    const [first] = validateFile.errors!;
    const unknown = first!.keyword === 'additionalProperties' ? (first!.params as { additionalProperty: string }).additionalProperty : null;
    if (unknown !== null) {
      const secret = secrets.get(unknown);
      throw new ConfigError(secret
        ? `${file}: "${unknown}" is a secret; set ${secret} in the environment instead of a file.`
        : `${file}: unknown key "${unknown}"; the keys are the flags in camelCase (${SETTINGS.filter((s) => s.flag).map((s) => fileKey(s.flag!)).join(', ')}).`);
    }
    const key = first!.instancePath.split('/')[1];
    const setting = SETTINGS.find((s) => s.flag && fileKey(s.flag) === key);
    throw new ConfigError(setting ? `${file}: "${key}" must be ${FILE_KIND_TEXT[setting.kind ?? 'text']}.` : `${file}: must hold a JSON object of settings.`);
  }
  return { path: file, values: values as Record<string, unknown> };
}

/**
 * The one config loader: flags > environment > settings file > defaults. The flags come already
 * read by the command line's parser (src/cli/command.ts), which refuses unknown ones, and the
 * file by readConfigFile; a malformed value throws a ConfigError that names the setting, where it
 * was given, and what it expects.
 */
export function loadConfig(flags: SettingFlags, env: NodeJS.ProcessEnv, file: ConfigFile | null = null): Config {
  return loadConfigWithSources(flags, env, file).config;
}

export function loadConfigWithSources(flags: SettingFlags, env: NodeJS.ProcessEnv, file: ConfigFile | null = null): { config: Config; sources: Record<keyof Config, SettingSource> } {
  const config: Partial<Record<keyof Config, unknown>> = {};
  const sources: Partial<Record<keyof Config, SettingSource>> = {};
  for (const setting of SETTINGS) {
    const fromFlag = setting.flag ? flags[setting.flag] : undefined;
    const fromFile = setting.flag && file ? file.values[fileKey(setting.flag)] : undefined;
    const source: SettingSource = typeof fromFlag === 'string'
      ? { kind: 'flag', name: `--${setting.flag}`, raw: fromFlag }
      : env[setting.env] !== undefined
        ? { kind: 'env', name: setting.env, raw: env[setting.env]! }
        : fromFile !== undefined
          ? { kind: 'file', name: file!.path, raw: Array.isArray(fromFile) ? fromFile.join(',') : String(fromFile) }
          : { kind: 'default', name: 'default', raw: setting.default };
    const value = setting.parse(source.raw);
    if (value === INVALID) {
      // The message is printed and may be logged: a secret is not shown at all, a database URL without its password.
      const shown = (raw: unknown) => (!setting.flag ? '(not shown)' : JSON.stringify(typeof raw === 'string' ? shownValue(setting.key, raw) : raw));
      if (source.kind === 'file') throw new ConfigError(`${source.name}: "${fileKey(setting.flag!)}" is ${shown(file!.values[fileKey(setting.flag!)])}: expected ${setting.expected}.`);
      throw new ConfigError(`Invalid ${source.kind === 'default' ? 'the default' : source.name}=${shown(source.raw)}: expected ${setting.expected}.`);
    }
    config[setting.key] = value;
    sources[setting.key] = source;
  }
  const result = config as Config;
  if (result.maxInFlightPerApp === 0) result.maxInFlightPerApp = Math.max(1, Math.floor(result.maxInFlight / 2));
  if (result.leaseMs <= result.requestTimeoutMs) {
    throw new ConfigError(`HERALD_LEASE (${result.leaseMs} ms) must be longer than HERALD_REQUEST_TIMEOUT (${result.requestTimeoutMs} ms), or a slow request would lose its lease while still running.`);
  }
  return { config: result, sources: sources as Record<keyof Config, SettingSource> };
}

/** Whether a database URL names PostgreSQL. */
export function isPostgresUrl(url: string | null): url is string {
  return url !== null && (url.startsWith('postgres://') || url.startsWith('postgresql://'));
}

/**
 * The SQLite file the settings name: the data directory's herald.db when no database URL is set,
 * or a `sqlite:` URL's path; null for a PostgreSQL URL, the only other kind the settings admit.
 * Serving, backing up, doctoring and the start-up line all find the database here.
 */
export function sqliteFile(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string | null {
  const url = config.databaseUrl;
  if (url === null) return join(config.dataDir, 'herald.db');
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : null;
}

/**
 * libpq's connection parameters that hold a secret. pg takes any query parameter as a connection
 * setting, `?password=` over the user-info's, so a password can stand in the query as well.
 */
const SECRET_PARAMETERS = new Set(['password', 'sslpassword']);

/**
 * A database URL as it may be shown (logs, `herald config print`, `herald doctor`): its passwords
 * masked, in the user-info and in the query.
 */
export function withoutPassword(databaseUrl: string): string {
  let shown: string;
  try {
    const parsed = new URL(databaseUrl);
    if (parsed.password) parsed.password = '***';
    shown = parsed.toString();
  } catch {
    // Unparsable: whatever stood before an @ may hold the password, and so may libpq's
    // `keyword=value` form (`host=db password=…`), which pg does not take but a user may try.
    shown = databaseUrl.split('@').at(-1)!.replace(/\b(password|sslpassword)(\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)/gi, '$1$2***');
  }
  return withoutSecretParameters(shown);
}

/** The settings whose value is a URL that may carry a password (a collector's too). */
const URL_SETTINGS: ReadonlySet<keyof Config> = new Set(['databaseUrl', 'otelEndpoint', 'publicUrl']);

/** A setting's value as it may be shown (an error, `herald config print`): a URL without its password. */
export function shownValue(key: keyof Config, raw: string): string {
  return URL_SETTINGS.has(key) ? withoutPassword(raw) : raw;
}

/**
 * Masks the values of the query's secret parameters, leaving the rest as written (re-serialising
 * the query would change its encoding). A name is compared as pg reads it: decoded, so
 * `pass%77ord` is caught too; and in any case, which costs nothing and misses no spelling.
 */
function withoutSecretParameters(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const end = url.indexOf('#', start) === -1 ? url.length : url.indexOf('#', start);
  const pairs = url.slice(start + 1, end).split('&').map((pair) => {
    const name = pair.split('=', 1)[0]!;
    const decoded = [...new URLSearchParams(name).keys()][0] ?? '';
    return SECRET_PARAMETERS.has(decoded.toLowerCase()) ? `${name}=***` : pair;
  });
  return `${url.slice(0, start + 1)}${pairs.join('&')}${url.slice(end)}`;
}
