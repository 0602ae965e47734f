import { type HmacScheme, hmacOf, pairs, seconds, utf8, verifyHmac, whsecDecoded } from '../hmac-scheme.ts';
import { fail, type InboundRequest, type Provider } from '../request.ts';
import { contentTypeOf, secretOf, SigningError } from '../sign.ts';

/**
 * The declarative scheme, for providers without a built-in type. The config names the header,
 * the algorithm and encoding, an optional prefix (`sha256=`), the signed content as a template
 * over `{body}`, `{timestamp}`, `{url}` and `{id}`, the headers those come from, the timestamp
 * tolerance, and whether the secret is used as it is or base64-decoded.
 */
export interface HmacConfig {
  secret: string;
  header: string;
  algorithm?: 'sha1' | 'sha256' | 'sha512';
  encoding?: 'hex' | 'base64';
  prefix?: string;
  signedContent?: string;
  timestampHeader?: string;
  idHeader?: string;
  toleranceSeconds?: number;
  secretEncoding?: 'raw' | 'base64';
}

function schemeFor(config: HmacConfig): HmacScheme {
  const header = config.header.toLowerCase();
  const template = config.signedContent ?? '{body}';
  const value = (r: InboundRequest, name: string | undefined) => (name ? r.headers[name.toLowerCase()] ?? '' : '');
  const raw = config.secretEncoding !== 'base64';
  return {
    provider: `the ${config.header} scheme`,
    header: config.header,
    algorithm: config.algorithm ?? 'sha256',
    encoding: config.encoding ?? 'hex',
    signatures(r) {
      const sent = r.headers[header];
      if (sent === undefined) return null;
      // Several signatures may come comma- or space-separated, each with the prefix (or `v1=`-style pairs).
      return sent.split(/[ ,]+/).map((part) => part.trim()).filter(Boolean).map((part) => {
        if (config.prefix && part.startsWith(config.prefix)) return part.slice(config.prefix.length);
        return pairs(part)[0]?.[1] || part;
      });
    },
    content: (r, body) => signedContent(template, { timestamp: value(r, config.timestampHeader), url: r.url, id: value(r, config.idHeader) }, body),
    key: raw ? utf8 : whsecDecoded,
    otherKey: (secret) => (raw ? { key: whsecDecoded(secret), how: 'base64-decoded' } : { key: utf8(secret), how: 'used as it is' }),
    ...(config.timestampHeader ? { timestamp: (r: InboundRequest) => seconds(value(r, config.timestampHeader)) } : {}),
    ...(config.toleranceSeconds ? { tolerance: { past: config.toleranceSeconds, future: config.toleranceSeconds } } : {}),
  };
}

/** The template with `{timestamp}`, `{url}` and `{id}` filled in and the body's bytes at `{body}`. */
function signedContent(template: string, values: { timestamp: string; url: string; id: string }, body: Buffer): Buffer {
  const [before, after] = template.split('{body}') as [string, string | undefined];
  const fill = (text: string) => text.replaceAll('{timestamp}', values.timestamp).replaceAll('{url}', values.url).replaceAll('{id}', values.id);
  return after === undefined ? Buffer.from(fill(before)) : Buffer.concat([Buffer.from(fill(before)), body, Buffer.from(fill(after))]);
}

// A source's config object is kept (with the source) between requests, and so is its scheme.
const schemes = new WeakMap<Record<string, unknown>, HmacScheme>();

export const hmac: Provider = {
  verify(request, config) {
    if (typeof config.header !== 'string' || config.header === '') return fail('The hmac source has no header configured.');
    let scheme = schemes.get(config);
    if (!scheme) {
      scheme = schemeFor(config as unknown as HmacConfig);
      schemes.set(config, scheme);
    }
    return verifyHmac(scheme, request, config);
  },
  eventId: (request, config) => (typeof config.idHeader === 'string' ? request.headers[config.idHeader.toLowerCase()] : undefined),
  sign({ body, url, timestamp, id }, given) {
    const config = given as unknown as HmacConfig;
    if (typeof config.header !== 'string' || config.header === '') throw new SigningError('An hmac scheme names the header its signature goes in: none was given.');
    const template = config.signedContent ?? '{body}';
    if (template.includes('{url}') && url === null) throw new SigningError('The scheme signs the URL ({url}): give the URL.');
    if (template.includes('{timestamp}') && !config.timestampHeader) throw new SigningError('The scheme signs a timestamp ({timestamp}): name the header it goes in.');
    if (template.includes('{id}') && !config.idHeader) throw new SigningError('The scheme signs an id ({id}): name the header it goes in.');
    const secret = secretOf(given, 'The hmac scheme');
    const key = config.secretEncoding === 'base64' ? whsecDecoded(secret) : utf8(secret);
    const content = signedContent(template, { timestamp: String(timestamp), url: url ?? '', id }, body);
    const signature = hmacOf(config.algorithm ?? 'sha256', key, content, config.encoding ?? 'hex');
    return {
      headers: {
        'Content-Type': contentTypeOf(body),
        ...(config.timestampHeader ? { [config.timestampHeader]: String(timestamp) } : {}),
        ...(config.idHeader ? { [config.idHeader]: id } : {}),
        [config.header]: `${config.prefix ?? ''}${signature}`,
      },
    };
  },
};
