import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { hmacSecretBytes } from '../core/signing.ts';
import { fail, type InboundRequest, pass, type Verification } from './request.ts';

/**
 * An HMAC signature scheme, described as data, with the verification and the diagnosis shared by
 * every provider that signs this way (most of them). The diagnosis tries what usually went wrong,
 * in order: a missing header, the secret's other encoding, a body re-serialised on its way, a
 * timestamp outside the provider's window, and otherwise a wrong secret or an altered body.
 */
export interface HmacScheme {
  provider: string;
  /** The header the signature comes in, named in diagnoses. */
  header: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  encoding: 'hex' | 'base64';
  /** The signatures the request carries (several during a key rotation), or null when the header is missing. */
  signatures(request: InboundRequest): string[] | null;
  /** The signed content for a given body. */
  content(request: InboundRequest, body: Buffer): Buffer | null;
  /** How the provider turns the configured secret into the HMAC key. */
  key(secret: string): Buffer;
  /** The other way secrets of this shape get used, tried when diagnosing. */
  otherKey?(secret: string): { key: Buffer; how: string } | null;
  /** The request's timestamp in Unix seconds, for schemes that sign one. */
  timestamp?(request: InboundRequest): number | null;
  /** Seconds a timestamp may lie in the past, and in the future (null: no limit that way). */
  tolerance?: { past: number; future: number | null };
}

export function hmacOf(algorithm: HmacScheme['algorithm'], key: Buffer, content: Buffer, encoding: HmacScheme['encoding']): string {
  return createHmac(algorithm, keyObject(key)).update(content).digest(encoding);
}

const keyObjects = new Map<string, KeyObject>();

/** node:crypto imports raw key bytes afresh on every createHmac; a kept KeyObject makes it several times cheaper. */
function keyObject(key: Buffer): KeyObject {
  const id = key.toString('base64');
  let object = keyObjects.get(id);
  if (!object) {
    if (keyObjects.size >= 10_000) keyObjects.clear();
    object = createSecretKey(key);
    keyObjects.set(id, object);
  }
  return object;
}

export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Headers that name the provider that sent a request, to spot a source configured for another one. */
const TELLTALE_HEADERS: Array<[string, string]> = [
  ['stripe-signature', 'Stripe'], ['x-hub-signature-256', 'GitHub'], ['x-shopify-hmac-sha256', 'Shopify'],
  ['x-slack-signature', 'Slack'], ['webhook-signature', 'a Standard Webhooks sender'], ['svix-signature', 'a Svix sender'],
  ['x-twilio-signature', 'Twilio'], ['x-gitlab-token', 'GitLab'], ['x-signature-ed25519', 'Discord'],
  ['paddle-signature', 'Paddle'], ['linear-signature', 'Linear'], ['x-zm-signature', 'Zoom'],
];

export function missingHeader(request: InboundRequest, header: string, provider: string): Verification {
  const other = TELLTALE_HEADERS.find(([name, who]) => who !== provider && request.headers[name] !== undefined);
  return fail(
    `The ${header} header is missing, so the request was not signed the way ${provider} signs.` +
      (other ? ` It carries ${other[0]}: it looks like it comes from ${other[1]}, so check the source's type.` : ''),
  );
}

/**
 * Checks a request against the config of its source: `secret`, and `toleranceSeconds` when given,
 * which replaces the scheme's window both ways (0: no timestamp check), as `herald verify
 * --tolerance` asks; only `hmac` sources store one.
 */
export function verifyHmac(given: HmacScheme, request: InboundRequest, config: Record<string, unknown>): Verification {
  const secret = config.secret;
  const scheme = withTolerance(given, config.toleranceSeconds);
  if (typeof secret !== 'string' || secret === '') return fail(`The source has no ${scheme.provider} signing secret configured.`);
  const signatures = scheme.signatures(request);
  if (!signatures) return missingHeader(request, scheme.header, scheme.provider);
  // There, but holding no signature of the form the scheme reads (Stripe's `t=…,v1=…`).
  if (signatures.length === 0) return fail(`The ${scheme.header} header holds no signature in the form ${scheme.provider} writes it, so the request was not signed the way ${scheme.provider} signs.`);
  const matches = (key: Buffer, body: Buffer) => {
    const content = scheme.content(request, body);
    if (!content) return false;
    const expected = hmacOf(scheme.algorithm, key, content, scheme.encoding);
    return signatures.some((signature) => sameString(signature, expected));
  };

  if (matches(scheme.key(secret), request.body)) return checkTimestamp(scheme, request) ?? pass;

  const other = scheme.otherKey?.(secret);
  if (other && matches(other.key, request.body)) {
    return fail(`The signature matches the secret ${other.how}, but ${scheme.provider} signs with it ${other.how.startsWith('base64') ? 'used as it is' : 'base64-decoded'}: the sender is not using ${scheme.provider}'s scheme, or the secret belongs to another kind of source.`);
  }
  const reserialised = reserialisations(request).find((body) => matches(scheme.key(secret), body));
  if (reserialised) {
    return fail('The body was changed on its way: the signature matches the same JSON formatted differently, so a proxy or a JSON middleware re-serialised it before it reached Herald. Forward the raw bytes.');
  }
  const skew = timestampSkew(scheme, request);
  if (skew !== null && outside(scheme, skew)) return checkTimestamp(scheme, request)!;
  return fail(`The ${scheme.header} signature does not match: the source's secret is not the one ${scheme.provider} signs with, or the body was altered after signing.`);
}

function withTolerance(scheme: HmacScheme, seconds: unknown): HmacScheme {
  if (typeof seconds !== 'number' || !scheme.timestamp || seconds === scheme.tolerance?.past) return scheme;
  if (seconds <= 0) return { ...scheme, tolerance: undefined };
  return { ...scheme, tolerance: { past: seconds, future: scheme.tolerance?.future === null ? null : seconds } };
}

/** The same JSON as the body, written the other ways JSON usually gets written. */
function reserialisations({ body, json: parsed }: InboundRequest): Buffer[] {
  if (parsed === null) return [];
  return [JSON.stringify(parsed), JSON.stringify(parsed, null, 2), `${JSON.stringify(parsed, null, 2)}\n`, `${JSON.stringify(parsed)}\n`]
    .map((text) => Buffer.from(text))
    .filter((candidate) => !candidate.equals(body));
}

function timestampSkew(scheme: HmacScheme, request: InboundRequest): number | null {
  const timestamp = scheme.timestamp?.(request);
  return timestamp === null || timestamp === undefined ? null : request.nowSeconds - timestamp;
}

function outside(scheme: HmacScheme, skew: number): boolean {
  if (!scheme.tolerance) return false;
  return skew > scheme.tolerance.past || (scheme.tolerance.future !== null && -skew > scheme.tolerance.future);
}

export function checkTimestamp(scheme: Pick<HmacScheme, 'provider' | 'timestamp' | 'tolerance'>, request: InboundRequest): Verification | null {
  const timestamp = scheme.timestamp?.(request);
  if (timestamp === undefined || !scheme.tolerance) return null;
  if (timestamp === null) return fail(`The request carries no readable timestamp, which ${scheme.provider} signs.`);
  const skew = request.nowSeconds - timestamp;
  if (skew > scheme.tolerance.past) {
    return fail(`The timestamp is ${skew} seconds old; ${scheme.provider} allows ${scheme.tolerance.past}. The request was replayed, held up on its way, or a clock is wrong.`);
  }
  if (scheme.tolerance.future !== null && -skew > scheme.tolerance.future) {
    return fail(`The timestamp is ${-skew} seconds in the future; ${scheme.provider} allows ${scheme.tolerance.future}. A clock is wrong.`);
  }
  return null;
}

/**
 * Slack's scheme, which Zoom copied: `v0=<hex>` in `header`, of `v0:${timestamp}:${body}`, with
 * the timestamp in `timestampHeader` and five minutes allowed either way.
 */
export function v0Scheme(provider: string, header: string, timestampHeader: string): HmacScheme {
  const signatureName = header.toLowerCase();
  const timestampName = timestampHeader.toLowerCase();
  return {
    provider,
    header,
    algorithm: 'sha256',
    encoding: 'hex',
    signatures: (r) => {
      const sent = r.headers[signatureName];
      return sent?.startsWith('v0=') ? [sent.slice(3)] : null;
    },
    content: (r, body) => Buffer.concat([Buffer.from(`v0:${r.headers[timestampName] ?? ''}:`), body]),
    key: utf8,
    timestamp: (r) => seconds(r.headers[timestampName]),
    tolerance: { past: 300, future: 300 },
  };
}

/** The two headers of a `v0` scheme (Slack's, Zoom's) for `body` signed at `timestamp`, the timestamp first. */
export function signV0(header: string, timestampHeader: string, secret: string, timestamp: number, body: Buffer): Record<string, string> {
  const signature = hmacOf('sha256', utf8(secret), Buffer.concat([Buffer.from(`v0:${timestamp}:`), body]), 'hex');
  return { [timestampHeader]: String(timestamp), [header]: `v0=${signature}` };
}

/** Splits `a=1,b=2` (or `;`-separated) into pairs, keeping repeated keys. */
export function pairs(header: string | undefined, separator = ','): Array<[string, string]> {
  if (!header) return [];
  return header.split(separator).map((part) => {
    const at = part.indexOf('=');
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as [string, string];
  });
}

/** Every value of `key` in a `k=v,k=v` header (`;`-separated with `separator`), in order. */
export function valuesOf(header: string | undefined, key: string, separator = ','): string[] {
  return pairs(header, separator).filter(([k]) => k === key).map(([, value]) => value);
}

export const utf8 = (secret: string) => Buffer.from(secret, 'utf8');
export const whsecDecoded = hmacSecretBytes;
export const seconds = (value: string | undefined) => (value && /^\d+$/.test(value.trim()) ? Number(value.trim()) : null);
