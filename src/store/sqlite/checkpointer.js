import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

// Plain JavaScript on purpose: a worker thread that imported TypeScript would load its own copy of
// Node's type stripper, tens of megabytes for twenty lines.

/**
 * Runs in a worker thread, with its own connection: copies the write-ahead log back into the database every
 * `intervalMs`, then tells the main thread, which finishes the few frames committed meanwhile
 * (see SqliteDatabase). A checkpoint reads and fsyncs megabytes; on the main thread it would
 * stall requests each time the log filled up. PASSIVE never waits for the writer.
 */
const { path, intervalMs } = workerData;
const db = new DatabaseSync(path, { timeout: 1_000 });
db.exec('PRAGMA synchronous = NORMAL');
const checkpoint = () => {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    parentPort.postMessage('checkpointed');
  } catch {
    // Busy or briefly locked: the next round catches up.
  }
};
const timer = setInterval(checkpoint, intervalMs);
parentPort.on('message', (message) => {
  // A read too slow for the main thread (a count over the whole queue, for metrics): WAL lets it
  // run beside the writer, on a snapshot, without blocking the event loop. See SqliteDatabase.readAside.
  if (typeof message === 'object' && message !== null) {
    try {
      parentPort.postMessage({ id: message.id, row: db.prepare(message.sql).get(...message.params) });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
