import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedReason, SPECIAL_PURPOSE_RANGES } from './address-policy.ts';

/**
 * Every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries (iana-ipv4-special-registry,
 * iana-ipv6-special-registry), written down here apart from the code's own table, with an address
 * inside each and what the guard must say of it: a reason, or null when it may be reached.
 */
const IPV4_REGISTRY: Array<[block: string, name: string, sample: string, expected: string | null]> = [
  ['0.0.0.0/8', '"This network"', '0.1.2.3', 'this-network'],
  ['0.0.0.0/32', '"This host on this network"', '0.0.0.0', 'unspecified'],
  ['10.0.0.0/8', 'Private-Use', '10.1.2.3', 'private'],
  ['100.64.0.0/10', 'Shared Address Space', '100.127.255.254', 'cgnat'],
  ['127.0.0.0/8', 'Loopback', '127.255.255.254', 'loopback'],
  ['169.254.0.0/16', 'Link Local', '169.254.169.254', 'link-local'],
  ['172.16.0.0/12', 'Private-Use', '172.31.255.255', 'private'],
  ['192.0.0.0/24', 'IETF Protocol Assignments', '192.0.0.200', 'reserved'],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', '192.0.0.1', 'reserved'],
  ['192.0.0.8/32', 'IPv4 dummy address', '192.0.0.8', 'reserved'],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', '192.0.0.9', 'anycast'],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', '192.0.0.10', 'anycast'],
  ['192.0.0.170/32', 'NAT64/DNS64 Discovery', '192.0.0.170', 'reserved'],
  ['192.0.0.171/32', 'NAT64/DNS64 Discovery', '192.0.0.171', 'reserved'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', '192.0.2.1', 'documentation'],
  ['192.31.196.0/24', 'AS112-v4', '192.31.196.1', 'anycast'],
  ['192.52.193.0/24', 'AMT', '192.52.193.1', 'anycast'],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', '192.88.99.1', 'anycast'],
  ['192.88.99.2/32', '6a44-relay anycast address', '192.88.99.2', 'anycast'],
  ['192.168.0.0/16', 'Private-Use', '192.168.1.1', 'private'],
  ['192.175.48.0/24', 'Direct Delegation AS112 Service', '192.175.48.6', 'anycast'],
  ['198.18.0.0/15', 'Benchmarking', '198.19.255.1', 'benchmarking'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', '198.51.100.1', 'documentation'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', '203.0.113.1', 'documentation'],
  ['240.0.0.0/4', 'Reserved', '240.0.0.1', 'reserved'],
  ['255.255.255.255/32', 'Limited Broadcast', '255.255.255.255', 'broadcast'],
];

const IPV6_REGISTRY: Array<[block: string, name: string, sample: string, expected: string | null]> = [
  ['::1/128', 'Loopback Address', '::1', 'loopback'],
  ['::/128', 'Unspecified Address', '::', 'unspecified'],
  ['::ffff:0:0/96', 'IPv4-mapped Address', '::ffff:8.8.8.8', null],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat.', '64:ff9b::808:808', null],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat. (local use)', '64:ff9b:1::808:808', 'local-use NAT64'],
  ['100::/64', 'Discard-Only Address Block', '100::1', 'discard'],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', '100:0:0:1::1', 'dummy'],
  ['2001::/23', 'IETF Protocol Assignments', '2001:5::1', 'reserved'],
  // Teredo: server 8.8.8.8 (0808:0808), client 1.1.1.1 obfuscated (fefe:fefe).
  ['2001::/32', 'TEREDO', '2001:0:808:808:0:0:fefe:fefe', null],
  ['2001:1::1/128', 'Port Control Protocol Anycast', '2001:1::1', 'anycast'],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', '2001:1::2', 'anycast'],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', '2001:1::3', 'anycast'],
  ['2001:2::/48', 'Benchmarking', '2001:2::1', 'benchmarking'],
  ['2001:3::/32', 'AMT', '2001:3::1', 'anycast'],
  ['2001:4:112::/48', 'AS112-v6', '2001:4:112::1', 'anycast'],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', '2001:10::1', 'reserved'],
  ['2001:20::/28', 'ORCHIDv2', '2001:20::1', 'identifier'],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', '2001:30::1', 'identifier'],
  ['2001:db8::/32', 'Documentation', '2001:db8::1', 'documentation'],
  // 6to4 of 8.8.8.8.
  ['2002::/16', '6to4', '2002:808:808::1', null],
  ['2620:4f:8000::/48', 'Direct Delegation AS112 Service', '2620:4f:8000::1', 'anycast'],
  ['3fff::/20', 'Documentation', '3fff:fff::1', 'documentation'],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs', '5f00::1', 'segment-routing'],
  ['fc00::/7', 'Unique-Local', 'fd12:3456::1', 'unique-local'],
  ['fe80::/10', 'Link-Local Unicast', 'fe80::1', 'link-local'],
];

/** Blocks outside the two registries that the guard also decides on. */
const BEYOND_THE_REGISTRIES: Array<[block: string, name: string, sample: string, expected: string | null]> = [
  ['224.0.0.0/4', 'Multicast (RFC 5771)', '224.0.0.1', 'multicast'],
  ['::/96', 'IPv4-compatible, deprecated (RFC 4291)', '::8.8.8.8', null],
  ['::ffff:0:0:0/96', 'IPv4-translated (RFC 2765)', '::ffff:0:808:808', null],
  ['fec0::/10', 'Site-local, deprecated (RFC 3879)', 'fec0::1', 'site-local'],
  ['ff00::/8', 'Multicast (RFC 4291)', 'ff02::1', 'multicast'],
  ['::/0', 'Outside global unicast (IANA IPv6 Address Space)', '4000::1', 'reserved'],
  ['2000::/3', 'Global Unicast', '2606:4700::1111', null],
];

describe('the address policy', () => {
  for (const [block, name, sample, expected] of [...IPV4_REGISTRY, ...IPV6_REGISTRY, ...BEYOND_THE_REGISTRIES]) {
    it(`decides ${block} (${name}) by its table entry: ${sample} is ${expected ?? 'allowed'}`, () => {
      assert.equal(blockedReason(sample), expected);
    });
  }

  it('has a table entry for every block of both registries, and no entry the test does not know', () => {
    const known = [...IPV4_REGISTRY, ...IPV6_REGISTRY, ...BEYOND_THE_REGISTRIES].map(([block]) => block).sort();
    assert.deepEqual(SPECIAL_PURPOSE_RANGES.map((range) => range.block).sort(), known);
  });

  // The forms that carry an IPv4 address are judged by that address.
  const hidden: Array<[string, string]> = [
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'], ['::ffff:7f00:1', 'IPv4-mapped loopback in hex'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'], ['64:ff9b::a9fe:a9fe', 'NAT64 metadata'],
    ['64:ff9b::10.0.0.1', 'NAT64 private'], ['2002:a9fe:a9fe::1', '6to4 metadata'], ['2002:7f00:1::', '6to4 loopback'],
    ['::127.0.0.1', 'IPv4-compatible loopback'], ['::ffff:0:127.0.0.1', 'IPv4-translated loopback'],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated metadata'], ['::ffff:0:10.1.2.3', 'IPv4-translated private'],
    ['2001:0:7f00:1:0:0:fefe:fefe', 'Teredo with a loopback server'],
    ['2001:0:808:808:0:0:80ff:fffe', 'Teredo with a loopback client (127.0.0.1 obfuscated)'],
    ['2001:0:808:808:0:0:5601:5678', 'Teredo with a link-local client (169.254.169.135 obfuscated)'],
  ];
  for (const [address, what] of hidden) {
    it(`blocks ${what} (${address})`, () => assert.match(blockedReason(address) ?? '', /IPv4 inside IPv6/));
  }

  for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '2a00:1450:4001::1', '::ffff:8.8.8.8', '64:ff9b::808:808', 'fe80::1%eth0']) {
    it(`decides ${address} as expected`, () => assert.equal(blockedReason(address), address.startsWith('fe80') ? 'link-local' : null));
  }

  it('refuses what is not an address at all', () => assert.equal(blockedReason('localhost'), 'not an IP address'));
});
