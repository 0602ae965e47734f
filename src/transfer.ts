import { digest } from './api/auth.ts';
import type { Application, Endpoint, EventType, Source } from './core/model.ts';
import { OPERATIONAL_APP_ID } from './core/operational-events.ts';
import { StoreError } from './store/errors.ts';
import { everyItem } from './store/paging.ts';
import type { Store } from './store/store.ts';

/**
 * Moving Herald's configuration from one store to another (`herald export` and `herald import`),
 * e.g. from SQLite to PostgreSQL: event types, applications, sources, and the endpoints of all of
 * them (operational webhook endpoints included), each with its id, so URLs, portal links and the
 * ids kept by clients still work after the move.
 *
 * The stores are opened with their own encryption keys (see openSealedStore): secrets and custom
 * header values leave the old one opened and are sealed again by the new one, so an export file
 * holds them in clear and is written readable by its owner only. Messages, attempts, tokens, bins
 * and listen sessions stay behind: they are traffic and credentials, not configuration (a backup
 * moves them; see docs/operations.md).
 *
 * The file is JSON lines, a header first, then one record a line in an order an import can follow
 * (what is referred to comes before what refers to it), so neither side holds a big store in memory.
 */
export const EXPORT_FORMAT = 'herald-export';
export const EXPORT_VERSION = 1;

export type ExportRecord =
  | { kind: 'header'; format: typeof EXPORT_FORMAT; version: number; exportedAt: string }
  | { kind: 'eventType'; eventType: EventType }
  | { kind: 'application'; application: Application }
  | { kind: 'source'; source: Source }
  | { kind: 'endpoint'; endpoint: Endpoint };

export type RecordKind = Exclude<ExportRecord['kind'], 'header'>;

/** What an export holds of the store, in import order. */
export async function* exportRecords(store: Store, now: number): AsyncGenerator<ExportRecord> {
  yield { kind: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date(now).toISOString() };
  for await (const eventType of everyItem((page) => store.eventTypes.list(page, true), (t) => t.name)) yield { kind: 'eventType', eventType };
  const owners: string[] = [];
  for await (const application of everyItem((page) => store.apps.list(page), (a) => a.id)) {
    owners.push(application.id);
    yield { kind: 'application', application };
  }
  // The internal application of the operational webhook endpoints, which listings leave out.
  const operational = await store.apps.get(OPERATIONAL_APP_ID);
  if (operational) {
    owners.push(operational.id);
    yield { kind: 'application', application: operational };
  }
  for await (const source of everyItem((page) => store.sources.list(page), (s) => s.id)) {
    owners.push(source.id);
    yield { kind: 'source', source };
  }
  for (const owner of owners) {
    for await (const endpoint of everyItem((page) => store.endpoints.list(owner, page), (e) => e.id)) yield { kind: 'endpoint', endpoint: withoutState(endpoint) };
    for await (const endpoint of everyItem((page) => store.endpoints.listPolling(owner, page), (e) => e.id)) yield { kind: 'endpoint', endpoint: withoutState(endpoint) };
  }
}

/** An endpoint as configured: what a read adds about this store's state (`unavailable`) stays behind. */
function withoutState({ unavailable, ...endpoint }: Endpoint): Endpoint {
  if (unavailable) throw new StoreError('secret_unavailable', `Endpoint ${endpoint.id}: ${unavailable}`);
  return endpoint;
}

export interface ImportOutcome {
  created: Record<RecordKind, number>;
  /** Already in the target with the same id, left as they are (an import can be run again). */
  existing: Record<RecordKind, number>;
  /** Refused by the target (a uid another record holds there), each with why. */
  refused: string[];
}

/** Parses and checks one line of an export file; throws an Error saying what is wrong with it. */
export function parseRecord(line: string, lineNumber: number): ExportRecord {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    throw new Error(`line ${lineNumber} is not JSON`);
  }
  const kind = (record as { kind?: unknown } | null)?.kind;
  if (lineNumber === 1) {
    const header = record as { format?: unknown; version?: unknown };
    if (kind !== 'header' || header.format !== EXPORT_FORMAT) throw new Error(`line 1 is not a Herald export's header; is this a file \`herald export\` wrote?`);
    if (header.version !== EXPORT_VERSION) throw new Error(`the export is version ${String(header.version)}; this Herald reads version ${EXPORT_VERSION}`);
    return record as ExportRecord;
  }
  const field = { eventType: 'eventType', application: 'application', source: 'source', endpoint: 'endpoint' }[String(kind)];
  const body = field ? (record as Record<string, unknown>)[field] : undefined;
  if (!field || typeof body !== 'object' || body === null) throw new Error(`line ${lineNumber} is not a record this Herald knows (kind ${JSON.stringify(kind)})`);
  return record as ExportRecord;
}

/**
 * Writes the records into the store: each one missing is created with its id, each one already
 * there (same id) is left alone, so an interrupted import can be run again. `onRecord` is told of
 * each record handled.
 */
export async function importRecords(store: Store, records: Iterable<ExportRecord> | AsyncIterable<ExportRecord>, onRecord: () => void = () => {}): Promise<ImportOutcome> {
  const zero = (): Record<RecordKind, number> => ({ eventType: 0, application: 0, source: 0, endpoint: 0 });
  const outcome: ImportOutcome = { created: zero(), existing: zero(), refused: [] };
  const put = async (kind: RecordKind, name: string, exists: () => Promise<unknown>, create: () => Promise<unknown>) => {
    if (await exists()) {
      outcome.existing[kind]++;
      return;
    }
    try {
      await create();
      outcome.created[kind]++;
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
      outcome.refused.push(`${kind} ${name}: ${error.message}`);
    }
  };
  for await (const record of records) {
    switch (record.kind) {
      case 'header':
        break;
      case 'eventType': {
        const { eventType } = record;
        await put('eventType', eventType.name, () => store.eventTypes.get(eventType.name), () => store.eventTypes.create(eventType));
        break;
      }
      case 'application': {
        const { application } = record;
        await put('application', application.id, () => store.apps.get(application.id), () => store.apps.create(application));
        break;
      }
      case 'source': {
        const { source } = record;
        await put('source', source.id, () => store.sources.get(source.id), () => store.sources.create(source, digest(source.token)));
        break;
      }
      case 'endpoint': {
        const { transformation, ...endpoint } = record.endpoint;
        await put('endpoint', endpoint.id, () => store.endpoints.get(endpoint.appId, endpoint.id), async () => {
          await store.endpoints.create(endpoint);
          if (transformation) await store.endpoints.setTransformation(endpoint.appId, endpoint.id, transformation);
        });
        break;
      }
    }
    onRecord();
  }
  return outcome;
}
