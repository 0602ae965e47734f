import type { AddressPolicy } from '../core/address-policy.ts';
import type { EndpointSecret } from '../core/model.ts';
import { compileFilter } from '../core/payload-filter.ts';
import { normaliseSecret } from '../core/signing.ts';
import { refusedHeaderName, refusedHeaderValue } from '../delivery/custom-headers.ts';
import type { Store } from '../store/store.ts';
import { HttpError, invalid, type ValidationItem } from './errors.ts';

/** Checks an endpoint URL: absolute http(s) (https only if so configured), not a literal blocked address. */
export function checkEndpointUrl(url: string, addresses: AddressPolicy, httpsOnly: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(['body', 'url'], 'must be an absolute URL such as https://example.com/webhook');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(['body', 'url'], 'must use http or https');
  if (httpsOnly && parsed.protocol !== 'https:') throw invalid(['body', 'url'], 'must use https on this server');
  if (parsed.username || parsed.password) throw invalid(['body', 'url'], 'must not contain credentials; use endpoint headers');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (/^[\d.]+$|:/.test(host)) {
    const reason = addresses(host);
    if (reason) throw invalid(['body', 'url'], `points at a ${reason} address, which deliveries may not reach`);
  }
  return url;
}

/**
 * Custom headers, wherever they are set: names and values the HTTP client sends as they are, and
 * none that Herald sets itself or that speak about the connection (delivery/custom-headers.ts).
 */
export function checkHeaders(headers: Record<string, string | null>, loc: string[]): void {
  for (const [name, value] of Object.entries(headers)) {
    const refused = refusedHeaderName(name) ?? (value === null ? null : refusedHeaderValue(value));
    if (refused) throw invalid([...loc, name], refused);
  }
}

/** A payload filter compiles (regexes included), or is a 422 at the part that does not. */
export function checkPayloadFilter<F extends Record<string, unknown> | null | undefined>(filter: F, loc: string[] = ['body', 'filter']): F {
  if (filter === null || filter === undefined) return filter;
  const compiled = compileFilter(filter);
  if ('problem' in compiled) throw invalid([...loc, ...compiled.problem.loc], compiled.problem.msg);
  return filter;
}

export function checkSecret(secret: string, loc: string[]): string {
  return normaliseSecret(secret) ?? (() => { throw invalid(loc, 'must be whsec_ and base64 of 24 to 64 bytes, or a whsk_ ed25519 key (seed then public key)'); })();
}

/** Header names whose values the API never echoes back. */
export const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

/** What `GET …/headers` shows: values, except those of sensitive headers, which are only named. */
export function headersOut(headers: Record<string, string>) {
  const entries = Object.entries(headers);
  return {
    headers: Object.fromEntries(entries.filter(([name]) => !SENSITIVE_HEADERS.has(name.toLowerCase()))),
    sensitive: entries.map(([name]) => name).filter((name) => SENSITIVE_HEADERS.has(name.toLowerCase())),
  };
}

/** A rotation: the new secret first; the old one keeps signing for the grace period, so receivers can roll over. */
export function rotatedSecrets(secrets: readonly EndpointSecret[], key: string, graceMs: number, now: number): EndpointSecret[] {
  const [current, ...older] = secrets;
  return [
    { key, expiresAt: null },
    ...(current && graceMs > 0 ? [{ key: current.key, expiresAt: now + graceMs }] : []),
    ...older.filter((secret) => secret.expiresAt !== null && secret.expiresAt > now),
  ];
}

/** An endpoint's event-type filter as a request set it, under the name it used. */
export interface Filter {
  field: 'eventTypes' | 'filterTypes';
  names: string[] | null;
}

/**
 * An endpoint may filter only on event types that exist and are not archived, so a typo is a 422
 * rather than an endpoint that silently never receives. Names the endpoint already had stay
 * allowed: a type archived after an endpoint chose it stays in that filter, and still delivers.
 * One query for the whole list, however long; every bad name is reported at its place in it.
 */
export async function checkEventTypes(store: Store, filter: Filter, kept: readonly string[] | null = null): Promise<void> {
  const had = new Set(kept);
  const added = filter.names?.filter((name) => !had.has(name)) ?? [];
  if (added.length === 0) return;
  const found = new Map((await store.eventTypes.getMany(added)).map((eventType) => [eventType.name, eventType]));
  const problems: ValidationItem[] = [];
  filter.names!.forEach((name, index) => {
    if (had.has(name)) return;
    const eventType = found.get(name);
    const msg = !eventType
      ? `names no event type: create ${name} first (POST /api/v1/event-type)`
      : eventType.archived ? `names an archived event type: restore ${name} first (PATCH it with archived: false), or leave it out` : null;
    if (msg) problems.push({ loc: ['body', filter.field, String(index)], msg, type: 'value_error' });
  });
  if (problems.length > 0) throw new HttpError(422, 'validation', problems);
}
