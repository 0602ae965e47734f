import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard and the portal: one single-page app built by Vite into ui/dist, read into memory
 * once at start (a few hundred kilobytes) and compressed then, so a request costs a map lookup and
 * no disk. Nothing here imports the UI's code: it is files, served like any static site.
 */

interface UiFile {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  type: string;
  etag: string;
  /** Vite names assets by their content's hash: such a file never changes under its name. */
  immutable: boolean;
}

/** The built files by URL path below the mount (`index.html`, `assets/index-1a2b3c.js`). */
export type UiFiles = ReadonlyMap<string, UiFile>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt', '.map']);
// Below this, compression saves less than the headers it costs.
const MIN_COMPRESS_BYTES = 512;

/** Reads a built UI; null when there is none (no index.html), which the routes answer with 503. */
export function loadUiFiles(dir: string): UiFiles | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, UiFile>();
  for (const path of walk(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const body = readFileSync(path);
    const extension = extname(name);
    const compress = COMPRESSIBLE.has(extension) && body.length >= MIN_COMPRESS_BYTES;
    const gzip = compress ? gzipSync(body, { level: 9 }) : null;
    const br = compress ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }) : null;
    files.set(name, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : null,
      br: br && br.length < body.length ? br : null,
      type: TYPES[extension] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: name.startsWith('assets/'),
    });
  }
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

export interface UiOptions {
  files: UiFiles | null;
  /** CSP frame-ancestors for the portal (HERALD_PORTAL_FRAME_ANCESTORS): who may embed it. */
  portalFrameAncestors: string;
}

/**
 * Scripts, styles and API calls from this origin only; images also from data: and https: (a
 * portal's logo is the embedder's URL). The dashboard is never framed (it holds the admin token);
 * the portal is framed by whoever the operator allows.
 */
export function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Herald: dashboard not built</title>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>The dashboard is not built</h1>
<p>This Herald has no built dashboard (<code>ui/dist</code> is missing). In Herald's folder, run
<code>npm run build</code> (<code>npm install</code> runs it too), then restart Herald.</p>
<p>The API works without it: <code>/api/v1/...</code>.</p></body></html>`;

export function uiRoutes(app: FastifyInstance, options: UiOptions): void {
  const mounts = [
    { prefix: '/dashboard', csp: contentSecurityPolicy("'none'"), frameable: false },
    { prefix: '/app-portal', csp: contentSecurityPolicy(options.portalFrameAncestors), frameable: true },
  ];
  // A person who opens Herald's address lands on the dashboard; API clients call /api/v1/... and
  // keep their JSON answers, 401s included.
  app.get('/', { config: { access: 'public' } }, (_request, reply) => reply.redirect('/dashboard/', 302));
  for (const mount of mounts) {
    app.get(mount.prefix, { config: { access: 'public' } }, (request, reply) => {
      const query = request.url.indexOf('?');
      return reply.redirect(`${mount.prefix}/${query >= 0 ? request.url.slice(query) : ''}`, 302);
    });
    app.get(`${mount.prefix}/*`, { config: { access: 'public' } }, (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      if (!options.files) {
        return reply.code(503).headers(documentHeaders(mount.csp, mount.frameable)).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT);
      }
      const file = options.files.get(path);
      if (file) return send(request, reply, file, file.type.startsWith('text/html') ? documentHeaders(mount.csp, mount.frameable) : {});
      // Any other path is a page of the app, which routes it in the browser; a missing asset
      // (a file name, or anything under assets/) is a 404, never HTML in place of a script.
      if (path.startsWith('assets/') || /\.[a-z0-9]{1,8}$/i.test(path)) {
        return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found.');
      }
      return send(request, reply, options.files.get('index.html')!, documentHeaders(mount.csp, mount.frameable));
    });
  }
}

function documentHeaders(csp: string, frameable: boolean): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    // The URL may carry a portal token in its fragment; browsers never send fragments, and this
    // keeps even the path out of other sites' logs.
    'referrer-policy': 'no-referrer',
    ...(frameable ? {} : { 'x-frame-options': 'DENY' }),
  };
}

function send(request: FastifyRequest, reply: FastifyReply, file: UiFile, headers: Record<string, string>) {
  reply.headers(headers);
  reply.header('content-type', file.type);
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  reply.header('etag', file.etag);
  reply.header('vary', 'accept-encoding');
  if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const encoding = chooseEncoding(request.headers['accept-encoding'], file);
  if (encoding) reply.header('content-encoding', encoding);
  return reply.send(encoding === 'br' ? file.br : encoding === 'gzip' ? file.gzip : file.body);
}

/** Brotli when the client takes it and it was worth making, else gzip, else the plain bytes. */
export function chooseEncoding(header: string | undefined, file: { gzip: Buffer | null; br: Buffer | null }): 'br' | 'gzip' | null {
  if (!header) return null;
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    accepted.set(name!, q ? Number(q.slice(2)) || 0 : 1);
  }
  const takes = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (file.br && takes('br')) return 'br';
  if (file.gzip && takes('gzip')) return 'gzip';
  return null;
}
