import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTransformationSandbox, type TransformationSandbox } from './transformation-sandbox.ts';
import { requestOf, transform, type WebhookIn, webhookJson } from './transformation.ts';

const webhook = (over: Partial<WebhookIn> = {}): WebhookIn => ({
  method: 'POST', url: 'http://127.0.0.1:9/hook', headers: { 'X-A': '1' }, eventType: 'order.created', contentType: 'application/json',
  payload: Buffer.from('{"id":"o-1","n":[1,2]}'), ...over,
});
const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');

describe('what a transformation sees and makes', () => {
  it('hands the handler the webhook with its JSON payload parsed, and a payload that is not JSON as a string', () => {
    assert.deepEqual(JSON.parse(webhookJson(webhook())), {
      method: 'POST', url: 'http://127.0.0.1:9/hook', headers: { 'X-A': '1' }, eventType: 'order.created', contentType: 'application/json', payload: { id: 'o-1', n: [1, 2] },
    });
    assert.equal(JSON.parse(webhookJson(webhook({ payload: Buffer.from('{not json') }))).payload, '{not json');
    assert.equal(JSON.parse(webhookJson(webhook({ contentType: 'text/plain', payload: Buffer.from('{"a":1}') }))).payload, '{"a":1}');
  });

  it('turns the returned webhook into the request, by method and content type', () => {
    const base = { method: 'POST', url: 'http://127.0.0.1:9/hook', headers: {}, payload: { a: 1 } };
    const json = requestOf(JSON.stringify(base));
    assert.ok(json.kind === 'send');
    assert.deepEqual([json.method, json.contentType, text(json.body)], ['POST', 'application/json', '{"a":1}']);
    const form = requestOf(JSON.stringify({ ...base, method: 'put', contentType: 'application/x-www-form-urlencoded' }));
    assert.ok(form.kind === 'send');
    assert.deepEqual([form.method, text(form.body)], ['PUT', 'a=1']);
    const get = requestOf(JSON.stringify({ ...base, method: 'GET' }));
    assert.ok(get.kind === 'send');
    assert.deepEqual([get.url, get.contentType, get.body.length], ['http://127.0.0.1:9/hook?a=1', null, 0]);
    const raw = requestOf(JSON.stringify({ ...base, contentType: 'text/csv', payload: 'a,b' }));
    assert.ok(raw.kind === 'send');
    assert.deepEqual([raw.contentType, text(raw.body)], ['text/csv', 'a,b']);
    assert.deepEqual(requestOf(JSON.stringify({ ...base, cancel: true })), { kind: 'cancel' });
  });

  it('refuses what Herald will not send, saying what', () => {
    const base = { method: 'POST', url: 'http://127.0.0.1:9/hook', headers: {}, payload: { a: 1 } };
    const reason = (over: Record<string, unknown>) => {
      const outcome = requestOf(JSON.stringify({ ...base, ...over }));
      return outcome.kind === 'failed' ? outcome.reason : `not refused: ${outcome.kind}`;
    };
    assert.match(reason({ method: 'DELETE' }), /webhook\.method must be one of/);
    assert.match(reason({ url: 'ftp://x/y' }), /http or https/);
    assert.match(reason({ url: 'not a url' }), /not a valid URL/);
    assert.match(reason({ headers: { 'webhook-id': 'x' } }), /webhook-id.*Standard Webhooks/);
    assert.match(reason({ headers: { 'svix-signature': 'x' } }), /svix-signature.*Svix header/);
    assert.match(reason({ headers: { 'content-type': 'text/html' } }), /content-type/);
    assert.match(reason({ headers: { 'X-A': 1 } }), /must be a string/);
    assert.match(reason({ headers: { 'X-A': 'line\nbreak' } }), /printable ASCII/);
    assert.match(reason({ payload: undefined }), /payload is missing/);
    assert.match(reason({ contentType: 'application/x-www-form-urlencoded', payload: [1] }), /must be an object/);
    assert.match(reason({ contentType: 'text/csv' }), /make it a string/);
    assert.match(reason({ cancel: 'yes' }), /cancel must be true or false/);
    assert.match(reason({ method: 'GET', payload: 'a=1' }), /query parameters/);
    assert.equal((requestOf('42') as { reason: string }).reason, 'handler must return the webhook object, not number');
  });
});

describe('the sandbox', () => {
  let sandbox: TransformationSandbox;
  before(async () => {
    sandbox = await createTransformationSandbox();
  });
  after(() => sandbox.dispose());

  it('gives the code no require, process, timers, network or file system', async () => {
    const outcome = await transform(sandbox, 'globals', `function handler(webhook) {
      webhook.payload = [typeof require, typeof process, typeof setTimeout, typeof setInterval, typeof fetch, typeof XMLHttpRequest, typeof std, typeof os, typeof Deno, typeof Bun];
      return webhook;
    }`, webhook());
    assert.ok(outcome.kind === 'send');
    assert.deepEqual(JSON.parse(text(outcome.body)), Array(10).fill('undefined'));
  });

  it('compiles an endpoint\'s code once and keeps it until the code changes', async () => {
    const counter = 'var calls = 0; function handler(webhook) { webhook.payload = { calls: ++calls }; return webhook; }';
    const calls = async (code: string) => {
      const outcome = await transform(sandbox, 'ep_counter', code, webhook());
      return outcome.kind === 'send' ? JSON.parse(text(outcome.body)).calls : outcome;
    };
    assert.deepEqual([await calls(counter), await calls(counter), await calls(counter)], [1, 2, 3]);
    assert.equal(await calls(`${counter} // changed`), 1);
  });

  it('stops a handler at its CPU limit and one that runs out of memory, and the next call still runs', () => {
    const started = performance.now();
    const looped = sandbox.run('ep_loop', 'function handler(w) { for (;;) {} }', '{}');
    assert.deepEqual([looped.ok, !looped.ok && looped.failure], [false, 'timeout']);
    assert.ok(performance.now() - started < 1_000, 'stopped long before a second');
    const bomb = sandbox.run('ep_bomb', 'function handler(w) { var a = []; for (;;) a.push("x".repeat(65536) + a.length); }', '{}');
    assert.deepEqual([bomb.ok, !bomb.ok && bomb.failure], [false, 'memory']);
    const big = sandbox.run('ep_big', 'function handler(w) { return new ArrayBuffer(512 * 1024 * 1024); }', '{}');
    assert.deepEqual([big.ok, !big.ok && big.failure], [false, 'memory']);
    const deep = sandbox.run('ep_deep', 'function handler(w) { function f() { return f() + 1; } return f(); }', '{}');
    assert.equal(deep.ok, false);
    assert.deepEqual(sandbox.run('ep_fine', 'function handler(w) { w.ok = true; return w; }', '{}'), { ok: true, output: '{"ok":true}' });
  });

  it('reports code that cannot compile, or defines no handler', () => {
    assert.match(sandbox.check('function handler(w) { return w') ?? '', /SyntaxError/);
    assert.match(sandbox.check('var x = 1;') ?? '', /function handler\(webhook\)/);
    assert.equal(sandbox.check('function handler(w) { return w; }'), null);
  });
});
