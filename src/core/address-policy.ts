import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * What the guard does with an address inside a block: refuse it (saying why, in a word that reads
 * as "a <reason> address"), let it through, or judge it by the IPv4 address it carries.
 */
type Decision = { block: string } | 'allow' | 'embedded';

export interface SpecialPurposeRange {
  block: string;
  name: string;
  rfc: string;
  decision: Decision;
}

const ANYCAST = { block: 'anycast' };

/**
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries, entry by entry, and what the guard
 * decides for each; the most specific block that holds an address decides. A webhook URL is
 * typed by a stranger, so only globally routable unicast addresses are reachable by default:
 * - Anything the registries mark as not globally reachable is refused.
 * - Anycast service addresses are refused although the registries call some of them globally
 *   reachable: they are answered by whichever operator is nearest, which may be Herald's own
 *   network (its NAT gateway answers PCP anycast), and no webhook receiver lives there.
 * - Identifiers that are not locators (ORCHIDv2, drone DETs) are refused for the same reason.
 * - Forms that carry an IPv4 address (IPv4-mapped, -compatible and -translated, well-known NAT64,
 *   6to4, Teredo) are judged by that address, so `::ffff:127.0.0.1` is loopback.
 * - Below the registries: IPv4 multicast, IPv6 site-local and multicast, and all IPv6 outside
 *   2000::/3 (the only space IANA allocates global unicast from) are refused.
 */
export const SPECIAL_PURPOSE_RANGES: readonly SpecialPurposeRange[] = [
  // iana-ipv4-special-registry
  { block: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791 §3.2', decision: { block: 'this-network' } },
  { block: '0.0.0.0/32', name: '"This host on this network"', rfc: 'RFC 1122 §3.2.1.3', decision: { block: 'unspecified' } },
  { block: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918', decision: { block: 'private' } },
  { block: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598', decision: { block: 'cgnat' } },
  { block: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122 §3.2.1.3', decision: { block: 'loopback' } },
  { block: '169.254.0.0/16', name: 'Link Local (cloud metadata lives here)', rfc: 'RFC 3927', decision: { block: 'link-local' } },
  { block: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918', decision: { block: 'private' } },
  { block: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890 §2.1', decision: { block: 'reserved' } },
  { block: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335', decision: { block: 'reserved' } },
  { block: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600', decision: { block: 'reserved' } },
  { block: '192.0.0.9/32', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', decision: ANYCAST },
  { block: '192.0.0.10/32', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155', decision: ANYCAST },
  { block: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050 §2.2', decision: { block: 'reserved' } },
  { block: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050 §2.2', decision: { block: 'reserved' } },
  { block: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737', decision: { block: 'documentation' } },
  { block: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535', decision: ANYCAST },
  { block: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450', decision: ANYCAST },
  { block: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526', decision: ANYCAST },
  { block: '192.88.99.2/32', name: '6a44-relay anycast address', rfc: 'RFC 6751', decision: ANYCAST },
  { block: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918', decision: { block: 'private' } },
  { block: '192.175.48.0/24', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', decision: ANYCAST },
  { block: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544', decision: { block: 'benchmarking' } },
  { block: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737', decision: { block: 'documentation' } },
  { block: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737', decision: { block: 'documentation' } },
  { block: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112 §4', decision: { block: 'reserved' } },
  { block: '255.255.255.255/32', name: 'Limited Broadcast', rfc: 'RFC 8190, RFC 919 §7', decision: { block: 'broadcast' } },
  // Beyond the IPv4 registry.
  { block: '224.0.0.0/4', name: 'Multicast', rfc: 'RFC 5771', decision: { block: 'multicast' } },

  // iana-ipv6-special-registry
  { block: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291', decision: { block: 'loopback' } },
  { block: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291', decision: { block: 'unspecified' } },
  { block: '::ffff:0:0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291', decision: 'embedded' },
  { block: '64:ff9b::/96', name: 'IPv4-IPv6 Translat. (well-known NAT64 prefix)', rfc: 'RFC 6052', decision: 'embedded' },
  // Where a local-use prefix puts the IPv4 address depends on its length, which only its network knows.
  { block: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat. (local use)', rfc: 'RFC 8215', decision: { block: 'local-use NAT64' } },
  { block: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666', decision: { block: 'discard' } },
  { block: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780', decision: { block: 'dummy' } },
  { block: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928', decision: { block: 'reserved' } },
  { block: '2001::/32', name: 'TEREDO', rfc: 'RFC 4380, RFC 8190', decision: 'embedded' },
  { block: '2001:1::1/128', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', decision: ANYCAST },
  { block: '2001:1::2/128', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155', decision: ANYCAST },
  { block: '2001:1::3/128', name: 'DNS-SD Service Registration Protocol Anycast', rfc: 'RFC 9665', decision: ANYCAST },
  { block: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180', decision: { block: 'benchmarking' } },
  { block: '2001:3::/32', name: 'AMT', rfc: 'RFC 7450', decision: ANYCAST },
  { block: '2001:4:112::/48', name: 'AS112-v6', rfc: 'RFC 7535', decision: ANYCAST },
  { block: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843', decision: { block: 'reserved' } },
  { block: '2001:20::/28', name: 'ORCHIDv2', rfc: 'RFC 7343', decision: { block: 'identifier' } },
  { block: '2001:30::/28', name: 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', rfc: 'RFC 9374', decision: { block: 'identifier' } },
  { block: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849', decision: { block: 'documentation' } },
  { block: '2002::/16', name: '6to4', rfc: 'RFC 3056', decision: 'embedded' },
  { block: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', decision: ANYCAST },
  { block: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637', decision: { block: 'documentation' } },
  { block: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602', decision: { block: 'segment-routing' } },
  { block: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193, RFC 8190', decision: { block: 'unique-local' } },
  { block: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291', decision: { block: 'link-local' } },
  // Beyond the IPv6 registry.
  { block: '::/96', name: 'IPv4-compatible Address (deprecated)', rfc: 'RFC 4291 §2.5.5.1', decision: 'embedded' },
  { block: '::ffff:0:0:0/96', name: 'IPv4-translated Address', rfc: 'RFC 2765 §2.1', decision: 'embedded' },
  { block: 'fec0::/10', name: 'Site-Local (deprecated)', rfc: 'RFC 3879', decision: { block: 'site-local' } },
  { block: 'ff00::/8', name: 'Multicast', rfc: 'RFC 4291', decision: { block: 'multicast' } },
  { block: '2000::/3', name: 'Global Unicast', rfc: 'RFC 4291 (IANA IPv6 Address Space)', decision: 'allow' },
  { block: '::/0', name: 'Reserved by IETF (all IPv6 outside 2000::/3 not listed above)', rfc: 'RFC 4291 (IANA IPv6 Address Space)', decision: { block: 'reserved' } },
];

interface Rule {
  network: Uint8Array;
  prefix: number;
  decision: Decision;
}

/** Each family's rules, most specific first, so the first that holds an address decides. */
const rules = (v6: boolean): Rule[] => SPECIAL_PURPOSE_RANGES
  .filter((range) => range.block.includes(':') === v6)
  .map((range) => {
    const [network, prefix] = range.block.split('/') as [string, string];
    return { network: v6 ? parseIPv6(network) : parseIPv4(network), prefix: Number(prefix), decision: range.decision };
  })
  .sort((a, b) => b.prefix - a.prefix);
const V4_RULES = rules(false);
const V6_RULES = rules(true);

function within(bytes: Uint8Array, rule: Rule): boolean {
  const whole = rule.prefix >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== rule.network[i]) return false;
  const rest = rule.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (rule.network[whole]! & mask);
}

/** Returns why `address` may not be contacted, or null when it is globally routable. */
export function blockedReason(address: string): string | null {
  if (isIPv4(address)) {
    const decision = V4_RULES.find((rule) => within(parseIPv4(address), rule))?.decision ?? 'allow';
    return typeof decision === 'object' ? decision.block : null;
  }
  if (!isIPv6(address)) return 'not an IP address';
  const bytes = parseIPv6(address);
  const decision = V6_RULES.find((rule) => within(bytes, rule))!.decision;
  if (decision === 'allow') return null;
  if (decision !== 'embedded') return decision.block;
  for (const embedded of embeddedIPv4(bytes)) {
    const reason = blockedReason(embedded);
    if (reason !== null) return `${reason} (IPv4 inside IPv6)`;
  }
  return null;
}

/**
 * The IPv4 addresses an IPv6 address of an `embedded` block carries: the last four bytes of the
 * mapped, compatible, translated and NAT64 forms; bytes 2-5 of 6to4; and for Teredo both its
 * server (bytes 4-7) and its client (the last four bytes, inverted), since either is reached.
 */
function embeddedIPv4(bytes: Uint8Array): string[] {
  const v4 = (at: number, invert = 0) => Array.from(bytes.subarray(at, at + 4), (byte) => byte ^ invert).join('.');
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return [v4(2)];
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0 && bytes[3] === 0) return [v4(4), v4(12, 0xff)];
  return [v4(12)];
}

function parseIPv4(address: string): Uint8Array {
  return Uint8Array.from(address.split('.'), Number);
}

function parseIPv6(address: string): Uint8Array {
  let text = address.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const toGroups = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const [head = '', tail = ''] = text.split('::');
  const groups = text.includes('::')
    ? [...toGroups(head), ...new Array<number>(8 - toGroups(head).length - toGroups(tail).length).fill(0), ...toGroups(tail)]
    : toGroups(head);
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Decides whether a delivery may connect to an address: null when it may, or why not. */
export type AddressPolicy = (address: string) => string | null;

/**
 * The policy an operator configured: everything allowed (private networks allowed), or Herald's
 * block list with exceptions for the `allowedNetworks` CIDRs (say, an internal service's subnet).
 */
export function addressPolicy(allowPrivateNetworks: boolean, allowedNetworks: readonly string[] = []): AddressPolicy {
  if (allowPrivateNetworks) return () => null;
  const allowed = new BlockList();
  for (const cidr of allowedNetworks) {
    const [network, prefix] = cidr.split('/') as [string, string];
    allowed.addSubnet(network, Number(prefix), isIPv6(network) ? 'ipv6' : 'ipv4');
  }
  return (address) => {
    const bare = address.split('%')[0]!;
    if (allowedNetworks.length && allowed.check(bare, isIPv6(bare) ? 'ipv6' : 'ipv4')) return null;
    return blockedReason(address);
  };
}

/** Whether `text` is a CIDR block node:net understands, such as 10.0.0.0/8 or fd00::/8. */
export function isCidr(text: string): boolean {
  const [network, prefix, extra] = text.split('/');
  if (!network || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const v6 = isIPv6(network);
  if (!v6 && !isIPv4(network)) return false;
  return Number(prefix) <= (v6 ? 128 : 32);
}
