import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedReason } from './address-policy.ts';

describe('the address policy', () => {
  const blocked: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'], ['10.1.2.3', 'private'], ['100.64.0.1', 'cgnat'], ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'], ['169.254.169.254', 'link-local'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
    ['192.0.0.8', 'reserved'], ['192.0.2.1', 'documentation'], ['192.88.99.1', 'reserved'], ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'], ['198.51.100.1', 'documentation'], ['203.0.113.1', 'documentation'],
    ['224.0.0.1', 'multicast'], ['240.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'], ['::1', 'loopback'], ['100::1', 'discard'], ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'], ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'], ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'], ['fec0::1', 'site-local'], ['ff02::1', 'multicast'],
  ];
  for (const [address, reason] of blocked) {
    it(`blocks ${address} as ${reason}`, () => assert.equal(blockedReason(address), reason));
  }

  const hidden: Array<[string, string]> = [
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'], ['::ffff:7f00:1', 'IPv4-mapped loopback in hex'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'], ['64:ff9b::a9fe:a9fe', 'NAT64 metadata'],
    ['64:ff9b::10.0.0.1', 'NAT64 private'], ['2002:a9fe:a9fe::1', '6to4 metadata'], ['2002:7f00:1::', '6to4 loopback'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
  ];
  for (const [address, what] of hidden) {
    it(`blocks ${what} (${address})`, () => assert.match(blockedReason(address) ?? '', /IPv4 inside IPv6/));
  }

  for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '2a00:1450:4001::1', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
    it(`lets ${address} through`, () => assert.equal(blockedReason(address), null));
  }

  it('refuses what is not an address at all', () => assert.equal(blockedReason('localhost'), 'not an IP address'));
});
