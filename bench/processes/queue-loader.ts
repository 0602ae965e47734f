import { loadQueue, RawDatabase } from '../fixtures.ts';

/** Writes a prefilled queue (see `prefill` in bench/lib.ts) and says so. */
const [schema, path, appId, endpointIds, messages, payloadBytes] = process.argv.slice(2) as [string, string, string, string, string, string];
const db = await RawDatabase.open(schema || null, path);
try {
  await loadQueue(db, appId, endpointIds.split(','), Number(messages), Number(payloadBytes));
} finally {
  await db.close();
}
process.send!({ done: true });
