import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from '../core/address-policy.ts';

export const BLOCKED_ADDRESS = 'HERALD_BLOCKED_ADDRESS';

/** The error a refused connection fails with; `code` lets the attempt record say why. */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = BLOCKED_ADDRESS;
}

/**
 * A `lookup` for net.connect that vets every address a host name resolves to. It runs inside the
 * connection attempt, so the socket goes to the very address that was checked: a name that
 * resolves to 127.0.0.1, or that changes its answer between a check and the connect (DNS
 * rebinding), cannot slip through.
 */
export const guardedLookup = (policy: AddressPolicy): LookupFunction => (hostname, options, callback) => {
  dnsLookup(hostname, { ...(options as object), all: true } as LookupAllOptions, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    for (const { address } of addresses) {
      const reason = policy(address);
      if (reason !== null) {
        return callback(new BlockedAddressError(`${hostname} resolves to ${address}, a ${reason} address; deliveries to it are blocked`), '', 0);
      }
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

/** Checks a URL whose host is an IP literal, which net.connect never passes to `lookup`. */
export function blockedLiteral(url: URL, policy: AddressPolicy): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!/^[\d.]+$/.test(host) && !host.includes(':')) return null;
  const reason = policy(host);
  return reason === null ? null : `${host} is a ${reason} address; deliveries to it are blocked`;
}
