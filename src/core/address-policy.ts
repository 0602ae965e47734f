import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a delivery may connect to. A webhook URL is typed by a stranger, so by
 * default nothing that is not globally routable is reachable: loopback, private and CGNAT ranges,
 * link-local (cloud metadata lives at 169.254.169.254), unique-local, multicast, reserved and
 * unspecified addresses, including IPv4 addresses hidden inside IPv6 forms (mapped, NAT64, 6to4).
 */
const BLOCKED_V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const BLOCKED_V6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const v4Rules = BLOCKED_V4.map(([network, prefix, reason]) => ({ list: subnet(network, prefix, 'ipv4'), reason }));
const v6Rules = BLOCKED_V6.map(([network, prefix, reason]) => ({ list: subnet(network, prefix, 'ipv6'), reason }));

/** Returns why `address` may not be contacted, or null when it is globally routable. */
export function blockedReason(address: string): string | null {
  if (isIPv4(address)) return v4Rules.find((rule) => rule.list.check(address, 'ipv4'))?.reason ?? null;
  if (!isIPv6(address)) return 'not an IP address';
  const bytes = parseIPv6(address);
  const embedded = embeddedIPv4(bytes);
  if (embedded !== null) {
    const reason = blockedReason(embedded);
    return reason === null ? null : `${reason} (IPv4 inside IPv6)`;
  }
  return v6Rules.find((rule) => rule.list.check(address, 'ipv6'))?.reason ?? null;
}

/** The IPv4 address carried by IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) forms. */
function embeddedIPv4(bytes: Uint8Array): string | null {
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((byte) => byte === 0);
  const v4 = (at: number) => Array.from(bytes.subarray(at, at + 4)).join('.');
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (zeros(0, 12) && !zeros(12, 14)) return v4(12); // deprecated IPv4-compatible ::a.b.c.d
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return v4(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return null;
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

function subnet(network: string, prefix: number, type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return list;
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
