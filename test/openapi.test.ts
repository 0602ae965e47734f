import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Svix } from 'svix';
import { documentedUrl } from '../src/api/openapi.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { startReceiver } from './support/receiver.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
type Operation = { operationId?: string; parameters?: Array<{ in: string; name: string; required?: boolean; schema: object }>; requestBody?: { content: Record<string, { schema: object }> }; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

const DOCUMENTED = /^\/(api\/|ingest\/|in\/|bin\/|metrics$)/;

/** The operation of `doc` a request's method and path fall on, with the template it matched. */
function operationFor(doc: Document, method: string, path: string): { template: string; operation: Operation } | null {
  for (const [template, operations] of Object.entries(doc.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\\{[^}]+\\\}|\{[^}]+\}/g, '[^/]+')}$`);
    const operation = operations[method.toLowerCase()];
    if (operation && pattern.test(path)) return { template, operation };
  }
  return null;
}

describe('the OpenAPI document', () => {
  let h: TestHerald;
  let doc: Document;
  before(async () => {
    h = await startTestHerald();
    const response = await fetch(`${h.url}/api/v1/openapi.json`);
    assert.equal(response.status, 200, 'served without a token');
    doc = (await response.json()) as Document;
  });
  after(() => h.close());

  it('holds every route the server registered, by its method and path', () => {
    assert.equal(doc.openapi, '3.1.0');
    const routes = h.herald.routes.filter((route) => DOCUMENTED.test(route.url));
    assert.ok(routes.length > 100, `${routes.length} routes`);
    const missing = routes.filter(({ method, url }) => !doc.paths[documentedUrl(url).replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()]);
    assert.deepEqual(missing, []);
  });

  it('names each path parameter for what it holds, as Svix does: a source\'s routes take a sourceId', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      const named = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(operations)) {
        const parameters = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
        assert.deepEqual(parameters, named, `${method} ${path}`);
      }
    }
    const sourceEndpoints = Object.keys(doc.paths).filter((path) => path.startsWith('/ingest/api/v1/source/{'));
    assert.ok(sourceEndpoints.includes('/ingest/api/v1/source/{sourceId}/endpoint'), 'a source\'s endpoints');
    assert.deepEqual(sourceEndpoints.filter((path) => path.includes('{appId}')), []);
  });

  it('gives every operation a success and its errors in Svix\'s shapes, with references that resolve', () => {
    const refs = new Set<string>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const codes = Object.keys(operation.responses);
        assert.ok(codes.some((code) => /^2|default/.test(code)), `${method} ${path} has no success`);
        assert.ok(codes.includes('404') && codes.includes('503'), `${method} ${path} lacks its errors`);
        for (const response of Object.values(operation.responses)) {
          const ref = response.content?.['application/json']?.schema.$ref;
          if (ref) refs.add(ref);
        }
      }
    }
    for (const ref of refs) assert.ok(doc.components.schemas[ref.replace('#/components/schemas/', '')], `${ref} resolves`);
    const create = doc.paths['/api/v1/app/{appId}/msg']!.post!;
    assert.equal(create.operationId, 'v1.message.create');
    assert.ok(create.responses['202'] && create.responses['422'] && create.responses['401']);
    assert.ok(!('401' in doc.paths['/api/v1/health']!.get!.responses), 'a public route has no 401');
  });

  it('describes every request the svix SDK makes: its path, its query parameters and its body validate', async () => {
    // The SDK talks to Herald through a relay that keeps each request it passes on.
    const seen: Array<{ method: string; path: string; query: URLSearchParams; body: string }> = [];
    const relay: Server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString();
      const url = new URL(request.url!, 'http://relay');
      seen.push({ method: request.method!, path: url.pathname, query: url.searchParams, body });
      const answer = await fetch(h.url + request.url, {
        method: request.method,
        headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)) as Array<[string, string]>),
        body: body || undefined,
      });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      response.end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    // The message below is delivered: to a receiver on loopback, never beyond it.
    const receiver = await startReceiver();
    const svix = new Svix(h.token, { serverUrl: `http://127.0.0.1:${(relay.address() as { port: number }).port}` });
    try {
      const app = await svix.application.create({ name: 'OpenAPI', uid: 'openapi-app', metadata: { team: 'a' } });
      await svix.application.list({ limit: 10, order: 'ascending' as never });
      await svix.application.patch(app.id, { name: 'OpenAPI too' });
      await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid', schemas: { 1: { type: 'object' } } });
      await svix.eventType.list({ withContent: true, includeArchived: true });
      const endpoint = await svix.endpoint.create(app.id, { url: `${receiver.url}/hook`, eventTypes: ['invoice.paid'] as never, channels: ['eu'], metadata: {}, throttleRate: 10, description: 'd' });
      await svix.endpoint.upsert(app.id, endpoint.id, { url: `${receiver.url}/hook2`, disabled: false });
      await svix.endpoint.patch(app.id, endpoint.id, { description: 'patched' });
      await svix.endpoint.setHeaders(app.id, endpoint.id, { headers: { 'X-Team': 'a' } });
      await svix.endpoint.patchHeaders(app.id, endpoint.id, { headers: { 'X-Other': 'b' } });
      await svix.endpoint.getStats(app.id, endpoint.id, { since: new Date(Date.now() - 3_600_000) });
      const message = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { id: 1 }, channels: ['eu'], eventId: 'evt-1' }, { idempotencyKey: 'k-1' });
      await svix.message.list(app.id, { limit: 5, eventTypes: ['invoice.paid'], before: new Date() });
      await svix.messageAttempt.listByEndpoint(app.id, endpoint.id, { status: 0 as never, limit: 5 });
      await svix.messageAttempt.listByMsg(app.id, message.id, {});
      await svix.authentication.appPortalAccess(app.id, { featureFlags: [] });
      await svix.endpoint.recover(app.id, endpoint.id, { since: new Date(Date.now() - 60_000) });
    } finally {
      await new Promise((resolve) => relay.close(resolve));
      await receiver.close();
    }

    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const coercing = addFormats(new Ajv({ strict: false, allErrors: true, coerceTypes: 'array' }));
    for (const schema of Object.entries(doc.components.schemas)) ajv.addSchema(schema[1], `#/components/schemas/${schema[0]}`);
    assert.ok(seen.length >= 16);
    for (const request of seen) {
      const what = `${request.method} ${request.path}`;
      const found = operationFor(doc, request.method, request.path);
      assert.ok(found, `${what} is in the document`);
      for (const [name, value] of new Set(request.query.entries())) {
        const parameter = found.operation.parameters?.find((p) => p.in === 'query' && p.name === name);
        assert.ok(parameter, `${what}: query parameter ${name} is declared`);
        const values = { value: request.query.getAll(name).length > 1 ? request.query.getAll(name) : value };
        const validate = coercing.compile({ type: 'object', properties: { value: parameter.schema } });
        assert.ok(validate(values), `${what}: ${name}=${value}: ${JSON.stringify(validate.errors)}`);
      }
      for (const parameter of found.operation.parameters?.filter((p) => p.in === 'query' && p.required) ?? []) {
        assert.ok(request.query.has(parameter.name), `${what}: required ${parameter.name} sent`);
      }
      if (request.body) {
        const schema = found.operation.requestBody?.content['application/json']?.schema;
        assert.ok(schema, `${what} takes a body`);
        const validate = ajv.compile(schema);
        assert.ok(validate(JSON.parse(request.body)), `${what}: ${request.body}: ${JSON.stringify(validate.errors)}`);
      }
    }
  });

  it('serves the reference at /docs from this server only', async () => {
    const page = await fetch(`${h.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(links.length >= 3);
    for (const link of links) {
      assert.ok(link.startsWith('/docs/'), `${link} is served here`);
      const asset = await fetch(`${h.url}${link}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(asset.status, 200, link);
      assert.ok((await asset.arrayBuffer()).byteLength > 0);
    }
    const init = await (await fetch(`${h.url}/docs/init.js`)).text();
    assert.match(init, /url: '\/api\/v1\/openapi\.json'/);
    assert.match(init, /validatorUrl: null/);
    assert.equal((await fetch(`${h.url}/docs/nope.js`)).status, 404);
    const slashed = await fetch(`${h.url}/docs/`, { redirect: 'manual' });
    assert.deepEqual([slashed.status, slashed.headers.get('location')], [302, '/docs']);
  });
});
