import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadUiFiles, uiRoutes } from '../src/api/ui-files.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';

/** A built UI made in code: an index page, a hashed script big enough to compress, a small style. */
function fixtureDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><html><head><script type="module" src="/dashboard/assets/index-Ab12Cd34.js"></script></head><body><div id="app"></div>${'<!-- padding -->'.repeat(60)}</body></html>`);
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word${i % 37}`))};\n`);
  writeFileSync(join(dir, 'assets', 'tiny-Zz99.css'), 'body{margin:0}');
  return dir;
}

async function serve(options: Parameters<typeof uiRoutes>[1]): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  uiRoutes(app, options);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

describe('the dashboard files', () => {
  let dir: string;
  let server: { app: FastifyInstance; url: string };
  before(async () => {
    dir = fixtureDist();
    server = await serve({ files: loadUiFiles(dir), portalFrameAncestors: "'self' https://app.example.com" });
  });
  after(async () => {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every page of the app with index.html, revalidated each time, so a deep link opens', async () => {
    for (const path of ['/dashboard/', '/dashboard/apps/app_1/endpoints/ep_1', '/app-portal/app_1', '/app-portal/app_1/messages']) {
      const response = await fetch(server.url + path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8', path);
      assert.equal(response.headers.get('cache-control'), 'no-cache', path);
      assert.match(await response.text(), /<div id="app">/, path);
    }
  });

  it('answers a missing asset with 404, never with the page in place of a script', async () => {
    for (const path of ['/dashboard/assets/index-Gone0000.js', '/dashboard/favicon.ico', '/app-portal/assets/x.css']) {
      const response = await fetch(server.url + path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /<html/, path);
    }
  });

  it('lets browsers keep hashed assets for a year without asking again, under both mounts', async () => {
    for (const path of ['/dashboard/assets/index-Ab12Cd34.js', '/app-portal/assets/index-Ab12Cd34.js']) {
      const response = await fetch(server.url + path);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.match(await response.text(), /export const words/);
    }
  });

  it('sends brotli or gzip as the client accepts them, each decompressing to the file, and plain bytes otherwise', async () => {
    const path = '/dashboard/assets/index-Ab12Cd34.js';
    const plain = Buffer.from(await (await fetch(server.url + path, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    // undici's fetch would decode the body itself; a raw request shows the bytes on the wire.
    const raw = async (acceptEncoding: string) => {
      const { request } = await import('node:http');
      return new Promise<{ encoding: string | undefined; vary: string | undefined; body: Buffer }>((resolve, reject) => {
        request(server.url + path, { headers: { 'accept-encoding': acceptEncoding } }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ encoding: response.headers['content-encoding'], vary: response.headers.vary, body: Buffer.concat(chunks) }));
        }).on('error', reject).end();
      });
    };
    const br = await raw('gzip, deflate, br');
    assert.equal(br.encoding, 'br');
    assert.equal(br.vary, 'accept-encoding');
    assert.ok(br.body.length < plain.length);
    assert.deepEqual(brotliDecompressSync(br.body), plain);
    const gzip = await raw('gzip');
    assert.equal(gzip.encoding, 'gzip');
    assert.deepEqual(gunzipSync(gzip.body), plain);
    const refused = await raw('br;q=0, gzip;q=0');
    assert.equal(refused.encoding, undefined);
    assert.deepEqual(refused.body, plain);
    // A file too small to gain from compression goes as it is.
    const tiny = await fetch(server.url + '/dashboard/assets/tiny-Zz99.css', { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(tiny.headers.get('content-encoding'), null);
    assert.equal(await tiny.text(), 'body{margin:0}');
  });

  it('answers 304 to a browser that already has this index.html', async () => {
    const first = await fetch(server.url + '/dashboard/');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(server.url + '/dashboard/apps', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('sends a strict CSP with the page: scripts, styles and API calls from this origin only, never framed on the dashboard', async () => {
    const response = await fetch(server.url + '/dashboard/');
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data: https:", "object-src 'none'", "frame-ancestors 'none'"]) {
      assert.ok(csp.split('; ').includes(directive), `${directive} in ${csp}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  });

  it('lets the portal be framed by the pages HERALD_PORTAL_FRAME_ANCESTORS names, and by no others', async () => {
    const response = await fetch(server.url + '/app-portal/app_1');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.ok(csp.split('; ').includes("frame-ancestors 'self' https://app.example.com"), csp);
    assert.equal(response.headers.get('x-frame-options'), null);
  });

  it('redirects /dashboard and /app-portal/ without their slash, keeping the query', async () => {
    const response = await fetch(server.url + '/dashboard?x=1', { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/dashboard/?x=1');
  });
});

describe('a Herald whose dashboard is not built', () => {
  it('answers its pages with 503 and says to run npm run build', async () => {
    const server = await serve({ files: null, portalFrameAncestors: "'self'" });
    try {
      for (const path of ['/dashboard/', '/app-portal/app_1']) {
        const response = await fetch(server.url + path);
        assert.equal(response.status, 503, path);
        assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
        assert.match(await response.text(), /npm run build/);
      }
    } finally {
      await server.app.close();
    }
  });
});

describe('the dashboard in Herald', () => {
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald({ env: { HERALD_PORTAL_FRAME_ANCESTORS: 'https://shop.example.com', HERALD_PUBLIC_URL: 'https://hooks.example.com' } });
  });
  after(async () => h.close());

  it('sends a browser at / to the dashboard, while the API still answers 401 without a token', async () => {
    const root = await fetch(h.url + '/', { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard/');
    const api = await fetch(h.url + '/api/v1/app');
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { code: string }).code, 'authentication_failed');
  });

  it('serves the dashboard and the portal without a token, the portal framed only where the setting says', async () => {
    const dashboard = await fetch(h.url + '/dashboard/');
    // 200 once `npm run build` has run (npm install runs it), 503 before: never 401.
    assert.ok([200, 503].includes(dashboard.status), String(dashboard.status));
    assert.match(dashboard.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const portal = await fetch(h.url + '/app-portal/app_x');
    assert.match(portal.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/shop\.example\.com(;|$)/);
  });

  it('gives portal links at HERALD_PUBLIC_URL, the token in the fragment, which browsers never send', async () => {
    const app = await h.api('POST', '/api/v1/app', { name: 'Acme' });
    const access = await h.api('POST', `/api/v1/auth/app-portal-access/${app.body.id}`, {});
    assert.equal(access.status, 200);
    assert.equal(access.body.url, `https://hooks.example.com/app-portal/${app.body.id}#token=${access.body.token}`);
  });
});
