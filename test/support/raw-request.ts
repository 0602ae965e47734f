import { request as httpRequest } from 'node:http';

export interface RawAnswer {
  status: number;
  /** The body parsed as JSON, or its text when it is not JSON, or null when empty. */
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One request through node:http, for what fetch will not send: exactly these headers (no
 * content-type unless given), bytes that are not UTF-8. The server may answer (413) and close
 * before the whole body is written; the answer is what counts.
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let body: unknown = text || null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {}
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      // The answer may still be on its way; if none comes, the write's error is the outcome.
      else setTimeout(() => reject(error), 5_000).unref();
    });
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}
