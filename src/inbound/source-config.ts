import { invalid } from '../api/errors.ts';
import { SOURCE_TYPES } from './providers/index.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Config fields that are secrets: sealed at rest and never shown again. */
export const SECRET_FIELDS = ['secret'];

/** Headers in which a provider sends its secret as it is (GitLab's token), by source type. */
const TOKEN_HEADERS: Record<string, string[]> = { gitlab: ['x-gitlab-token'] };

/**
 * The headers of a received request whose values carry the source's secret, to be sealed at rest
 * and kept from the API: the provider's token header (whatever it holds, since a wrong token may
 * be an earlier secret), and any header holding the configured secret itself (an `hmac` sender
 * that sends it where the signature belongs), or containing it (`Bearer <secret>`) when it is long
 * enough not to turn up by chance.
 */
export function secretHeadersOf(type: string, config: Record<string, unknown>, headers: Record<string, string>): string[] {
  const secret = typeof config.secret === 'string' ? config.secret : null;
  const tokenHeaders = TOKEN_HEADERS[type] ?? [];
  return Object.keys(headers).filter((name) => {
    if (tokenHeaders.includes(name)) return true;
    const value = headers[name]!;
    return secret !== null && (value === secret || (secret.length >= 8 && value.includes(secret)));
  });
}

/**
 * Checks a source's type and config and returns the config to store. Each type needs what its
 * verification uses: a signing secret for the HMAC providers, a public key for Discord, the whole
 * scheme for `hmac`, nothing for `generic-webhook`. Any type may list the HTTP methods it takes.
 */
export function checkSourceConfig(type: string, config: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!SOURCE_TYPES.includes(type)) throw invalid(['body', 'type'], `must be one of ${SOURCE_TYPES.join(', ')}`);
  const given = config ?? {};
  const checked: Record<string, unknown> = {};
  const string = (field: string, required: boolean, pattern?: RegExp, hint = 'a string') => {
    const value = given[field];
    if (value === undefined || value === null) {
      if (required) throw invalid(['body', 'config', field], 'field required');
      return;
    }
    if (typeof value !== 'string' || value === '' || (pattern && !pattern.test(value))) throw invalid(['body', 'config', field], `must be ${hint}`);
    checked[field] = value;
  };
  const oneOf = (field: string, values: string[]) => {
    const value = given[field];
    if (value === undefined) return;
    if (!values.includes(value as string)) throw invalid(['body', 'config', field], `must be one of ${values.join(', ')}`);
    checked[field] = value;
  };

  if (given.methods !== undefined) {
    const methods = given.methods;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string' && METHODS.includes(m.toUpperCase()))) {
      throw invalid(['body', 'config', 'methods'], `must be a list of ${METHODS.join(', ')}`);
    }
    checked.methods = methods.map((m: string) => m.toUpperCase());
  }
  switch (type) {
    case 'generic-webhook':
      break;
    case 'discord':
      string('publicKey', true, /^[0-9a-fA-F]{64}$/, 'the application\'s public key, 64 hex characters');
      break;
    case 'hmac':
      string('secret', true);
      string('header', true, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'a header name');
      oneOf('algorithm', ['sha1', 'sha256', 'sha512']);
      oneOf('encoding', ['hex', 'base64']);
      oneOf('secretEncoding', ['raw', 'base64']);
      string('prefix', false);
      string('signedContent', false);
      string('timestampHeader', false);
      string('idHeader', false);
      if (given.toleranceSeconds !== undefined) {
        if (!Number.isInteger(given.toleranceSeconds) || (given.toleranceSeconds as number) < 1) throw invalid(['body', 'config', 'toleranceSeconds'], 'must be a positive whole number of seconds');
        checked.toleranceSeconds = given.toleranceSeconds;
      }
      break;
    default:
      string('secret', true, undefined, 'the provider\'s signing secret');
  }
  return checked;
}

/** The config as the API shows it: everything but the secrets. */
export function publicConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([field]) => !SECRET_FIELDS.includes(field)));
}
