import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { chooseEncoding } from './ui-files.ts';

/**
 * The API's reference at /docs: Swagger UI (swagger-ui-dist, one package with no runtime
 * dependencies, kept by the OpenAPI Initiative's members) reading /api/v1/openapi.json, every
 * file served from this process and none from a CDN. Its files are read and gzipped on the first
 * request for them, not at start: most processes never serve them.
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps Swagger UI from sending the document to validator.swagger.io.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
});
`;

/** Swagger UI sets styles inline; its scripts, styles, images and the document come from here only. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', png: 'image/png', html: 'text/html; charset=utf-8' };
const ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png'];

interface DocsFile {
  body: Buffer;
  gzip: Buffer | null;
  br: null;
  type: string;
  etag: string;
}

function file(name: string, body: Buffer): DocsFile {
  const extension = name.split('.').pop()!;
  const gzip = extension === 'png' ? null : gzipSync(body);
  return { body, gzip, br: null, type: TYPES[extension]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export function docsRoutes(app: FastifyInstance): void {
  const files = new Map<string, DocsFile>();
  const load = (name: string): DocsFile | null => {
    let loaded = files.get(name);
    if (loaded) return loaded;
    if (name === 'index.html') loaded = file(name, Buffer.from(PAGE));
    else if (name === 'init.js') loaded = file(name, Buffer.from(INIT));
    else if (ASSETS.includes(name)) loaded = file(name, readFileSync(join(swaggerUiDir(), name)));
    else return null;
    files.set(name, loaded);
    return loaded;
  };
  const serve = (name: string) => async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const found = load(name);
    if (!found) return reply.code(404).type('text/plain; charset=utf-8').send('Not found.');
    reply.header('content-type', found.type).header('etag', found.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff');
    if (name === 'index.html') reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
    const encoding = chooseEncoding(request.headers['accept-encoding'], found);
    if (encoding) reply.header('content-encoding', encoding);
    return reply.send(encoding === 'gzip' ? found.gzip : found.body);
  };
  app.get('/docs', { config: { access: 'public' } }, serve('index.html'));
  // As typed by many: the page itself, at the address its links are written for.
  app.get('/docs/', { config: { access: 'public' } }, (_request, reply) => reply.redirect('/docs'));
  app.get('/docs/:file', { config: { access: 'public' } }, (request, reply) => serve((request.params as { file: string }).file)(request, reply));
}

let dir: string | null = null;
function swaggerUiDir(): string {
  dir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return dir;
}
