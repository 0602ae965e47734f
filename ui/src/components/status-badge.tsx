import { ATTEMPT_STATUS } from '../api/types.ts';

/** A delivery's or an attempt's status (Svix's `MessageStatus`), coloured by what it means. */
export function StatusBadge({ status }: { status: number }) {
  const tone = status === 0 ? 'badge-ok' : status === 2 ? 'badge-bad' : status === 4 ? '' : 'badge-warn';
  return <span class={`badge ${tone}`}>{ATTEMPT_STATUS[status] ?? status}</span>;
}
