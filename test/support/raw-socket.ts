import { connect } from 'node:net';

export interface Exchange {
  /** Null when the server closed the connection without a byte of answer. */
  status: number | null;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Milliseconds from writing the request to the connection's close. */
  elapsedMs: number;
}

/**
 * Writes `request` as it is, byte for byte, on a fresh TCP connection to 127.0.0.1:`port`, and
 * reads until the server closes it: for what no HTTP client sends, such as header names in a
 * chosen case and order, repeated headers, bytes beyond ASCII in a header value. The request
 * should say `Connection: close`, so that the answer ends with the connection.
 */
export function exchange(port: number, request: Buffer | string, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const parts: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(parts);
      const elapsedMs = Date.now() - started;
      if (bytes.length === 0) return resolve({ status: null, headers: [], body: bytes, elapsedMs });
      const end = bytes.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
      const headers = lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(end + 4), elapsedMs });
    });
  });
}

/** A request's bytes: the request line, each header as given, and the body (with its Content-Length unless `headers` frame it). */
export function requestBytes(method: string, target: string, headers: Array<[string, string | Buffer]>, body?: Buffer): Buffer {
  const lines: Uint8Array[] = [Buffer.from(`${method} ${target} HTTP/1.1\r\n`)];
  for (const [name, value] of headers) lines.push(Buffer.from(`${name}: `), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\r\n'));
  return Buffer.concat([...lines, Buffer.from('\r\n'), body ?? Buffer.alloc(0)]);
}
