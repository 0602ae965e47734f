import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** How long each answer from the target is held before it is passed on: a slow round trip. */
  delayMs: number;
  /** Chunks the clients have sent the target so far (each query is at least one). */
  readonly sent: number;
  /** Cuts every connection and refuses new ones, as a database that went away. */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP relay to `target` on 127.0.0.1 that a test can cut and restore, or slow down: an outage,
 * or a database far away, for one test only.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let sent = 0;
  let delayMs = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.on('data', (chunk) => {
          sent++;
          upstream.write(chunk);
        });
        // Answers keep their order: each waits for the one before it, then for the delay.
        let passed = Promise.resolve();
        upstream.on('data', (chunk) => {
          const delay = delayMs;
          passed = passed.then(() => (delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : undefined)).then(() => {
            if (!client.destroyed) client.write(chunk);
          });
        });
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as { port: number }).port;
        server = next;
        resolve();
      });
    });

  const stop = async () => {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise((resolve) => current.close(resolve));
  };

  await listen();
  return {
    get port() { return port; },
    get delayMs() { return delayMs; },
    set delayMs(ms: number) { delayMs = ms; },
    get sent() { return sent; },
    stop,
    start: listen,
    close: stop,
  };
}
