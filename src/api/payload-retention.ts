import { invalid } from './errors.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Svix keeps a payload 90 days unless the message says otherwise. */
export const DEFAULT_PAYLOAD_RETENTION_DAYS = 90;

/**
 * How long a message's payload is kept, from Svix's `payloadRetentionPeriod` (days) or
 * `payloadRetentionHours`, which exclude each other.
 */
export function payloadRetentionMs(body: { payloadRetentionPeriod?: number | null; payloadRetentionHours?: number | null }): number {
  const { payloadRetentionPeriod: days, payloadRetentionHours: hours } = body;
  if (days != null && hours != null) {
    throw invalid(['body', 'payloadRetentionHours'], 'payloadRetentionPeriod and payloadRetentionHours exclude each other; send one of them');
  }
  return hours != null ? hours * HOUR_MS : (days ?? DEFAULT_PAYLOAD_RETENTION_DAYS) * DAY_MS;
}
