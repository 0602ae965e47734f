import { randomBytes } from 'node:crypto';

/**
 * Time and randomness are passed in rather than read from globals, so ids, jitter and
 * retry timing can be tested without waiting for minutes (design invariant 8).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Random {
  /** Cryptographically strong random bytes (ids, secrets, tokens). */
  bytes(length: number): Uint8Array;
  /** A uniform number in [0, 1) for jitter; need not be cryptographic. */
  fraction(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = {
  bytes: (length) => randomBytes(length),
  fraction: () => Math.random(),
};
