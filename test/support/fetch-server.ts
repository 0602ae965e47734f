import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FetchServer {
  /** The server's origin, `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a Fetch handler (`Request → Response`: a Next.js route handler, Hono's `app.fetch`) on
 * 127.0.0.1, as those frameworks' Node.js servers do: the request's bytes and headers are handed
 * over untouched, so what the handler verifies is what was sent.
 */
export async function serveFetch(handle: (request: Request) => Response | Promise<Response>): Promise<FetchServer> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let response: Response;
    try {
      response = await handle(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined }));
    } catch (error) {
      response = Response.json({ error: String(error) }, { status: 500 });
    }
    const body = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
