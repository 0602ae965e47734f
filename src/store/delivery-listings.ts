import type { MessageFilter, Page, PageRequest, AttemptedMessageRow, DeliveryFilter, DestinationRow } from './store.ts';
import { toPage } from './paging.ts';
import {
  columnsOf,
  DELIVERY_COLUMNS,
  ENDPOINT_COLUMNS,
  MESSAGE_COLUMNS,
  prefixedColumnsOf,
  type Row,
  toDelivery,
  toEndpoint,
  toMessage,
  unprefix,
} from './rows.ts';
import { Conditions, keyset } from './sql.ts';

/** Runs a read query with `?` placeholders; each store supplies its own. */
export type Reader = (sql: string, params: unknown[]) => Promise<Row[]>;
/** The dialect's message filters (JSON functions differ between SQLite and PostgreSQL). */
export type MessageConditions = (conditions: Conditions, filter: MessageFilter) => Conditions;

/** A message's deliveries with their endpoints, by endpoint id: the SQL is the same in both stores. */
export async function deliveriesByMessage(read: Reader, messageId: string, page: PageRequest): Promise<Page<DestinationRow>> {
  const { where, params, tail } = keyset('e.id', page);
  const rows = await read(
    `SELECT ${columnsOf('d', DELIVERY_COLUMNS)}, ${prefixedColumnsOf('e', ENDPOINT_COLUMNS)}
     FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
     WHERE d.message_id = ? AND ${where} ${tail}`,
    [messageId, ...params],
  );
  return toPage(rows, page.limit, (row) => ({ delivery: toDelivery(row), endpoint: toEndpoint(unprefix(row, 'e')) }));
}

/** An endpoint's deliveries with their messages, newest message first by default. */
export async function deliveriesByEndpoint(
  read: Reader,
  messageConditions: MessageConditions,
  endpointId: string,
  filter: DeliveryFilter,
  page: PageRequest,
): Promise<Page<AttemptedMessageRow>> {
  const { where, params, tail } = keyset('m.id', page);
  const conditions = messageConditions(new Conditions().add('d.endpoint_id = ?', endpointId), filter)
    .addIf(filter.status !== null, 'd.status = ?', filter.status)
    .add(where, ...params);
  const rows = await read(
    `SELECT ${columnsOf('d', DELIVERY_COLUMNS)}, ${prefixedColumnsOf('m', MESSAGE_COLUMNS)}
     FROM deliveries d JOIN messages m ON m.id = d.message_id
     WHERE ${conditions} ${tail}`,
    conditions.params,
  );
  return toPage(rows, page.limit, (row) => ({ delivery: toDelivery(row), message: toMessage(unprefix(row, 'm')) }));
}
