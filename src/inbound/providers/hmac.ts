import { type HmacScheme, pairs, seconds, utf8, verifyHmac, whsecDecoded } from '../hmac-scheme.ts';
import { fail, type InboundRequest, type Provider } from '../request.ts';

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
    content(r, body) {
      const [before, after] = template.split('{body}') as [string, string | undefined];
      const fill = (text: string) => text.replaceAll('{timestamp}', value(r, config.timestampHeader)).replaceAll('{url}', r.url).replaceAll('{id}', value(r, config.idHeader));
      return after === undefined ? Buffer.from(fill(before)) : Buffer.concat([Buffer.from(fill(before)), body, Buffer.from(fill(after))]);
    },
    key: raw ? utf8 : whsecDecoded,
    otherKey: (secret) => (raw ? { key: whsecDecoded(secret), how: 'base64-decoded' } : { key: utf8(secret), how: 'used as it is' }),
    ...(config.timestampHeader ? { timestamp: (r: InboundRequest) => seconds(value(r, config.timestampHeader)) } : {}),
    ...(config.toleranceSeconds ? { tolerance: { past: config.toleranceSeconds, future: config.toleranceSeconds } } : {}),
  };
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
    return verifyHmac(scheme, request, config.secret);
  },
  eventId: (request, config) => (typeof config.idHeader === 'string' ? request.headers[config.idHeader.toLowerCase()] : undefined),
};
