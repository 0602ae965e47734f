import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { REFUSED_HEADERS, REFUSED_PREFIXES, refusedHeaderName, refusedHeaderValue } from './custom-headers.ts';

/** The refused names that undici itself will not send, each with a value a user might try. */
const UNDICI_REFUSES: Record<string, string> = {
  'transfer-encoding': 'chunked',
  'keep-alive': 'timeout=5',
  upgrade: 'websocket',
  expect: '100-continue',
  // Any value but the body's true length.
  'content-length': '1',
};

describe('custom headers', () => {
  let server: Server;
  let origin: string;
  const seen: IncomingHttpHeaders[] = [];
  const agent = new Agent();
  before(async () => {
    server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume().on('end', () => response.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends a delivery-like request (a JSON body with its length) with one extra header, as Herald's sender does. */
  const send = async (name: string, value: string) => {
    const response = await agent.request({ origin, path: '/', method: 'POST', headers: { 'content-type': 'application/json', [name]: value }, body: Buffer.from('{"a":1}') });
    await response.body.text();
    return response.statusCode;
  };

  it('sends an ordinary custom header, so the failures below are the headers\' doing', async () => {
    assert.equal(await send('x-tenant', 'acme'), 200);
    assert.equal(seen.at(-1)!['x-tenant'], 'acme');
  });

  for (const [name, value] of Object.entries(UNDICI_REFUSES)) {
    it(`is refused as ${name}, with which undici fails every request`, async () => {
      assert.ok(REFUSED_HEADERS.has(name));
      assert.ok(refusedHeaderName(name));
      assert.ok(refusedHeaderName(name.toUpperCase()), 'in any case');
      await assert.rejects(send(name, value), `undici sent ${name}: ${value}`);
    });
  }

  it('is refused as host, which undici sends on, so the receiver sees another site named than its URL', async () => {
    assert.ok(refusedHeaderName('Host'));
    assert.equal(await send('host', 'other.example'), 200);
    assert.equal(seen.at(-1)!.host, 'other.example');
  });

  it('says for every other refused name why, after the RFC or Herald\'s own use of it', () => {
    for (const [name, why] of REFUSED_HEADERS) {
      if (name in UNDICI_REFUSES || name === 'host') continue;
      assert.match(why, /RFC 9110 §|set by Herald|refused by undici/, name);
    }
    for (const [prefix, why] of REFUSED_PREFIXES) assert.match(why, /RFC 9110 §|Herald sets/, prefix);
  });

  it('refuses every name under webhook-, svix- and proxy- in any case, and leaves other names alone', () => {
    for (const name of ['webhook-id', 'Webhook-Custom', 'WEBHOOK-SIGNATURE', 'svix-signature', 'Svix-Anything', 'proxy-authorization', 'Proxy-Connection', 'TE', 'Trailer', 'Connection']) {
      assert.ok(refusedHeaderName(name), name);
    }
    for (const name of ['x-webhook-id', 'authorization', 'x-svix', 'x-api-key', 'cookie', 'webhook', 'accept']) {
      assert.equal(refusedHeaderName(name), null, name);
    }
  });

  it('refuses the names and values undici would fail on', async () => {
    for (const name of ['x a', 'x:a', 'x\u00e9', '', 'x\r\ny']) {
      assert.ok(refusedHeaderName(name), JSON.stringify(name));
      if (name !== '') await assert.rejects(send(name, 'v'), `undici sent the name ${JSON.stringify(name)}`);
    }
    for (const value of ['one\r\ntwo', 'one\ntwo', 'nul\u0000', 'bell\u0007']) {
      assert.ok(refusedHeaderValue(value), JSON.stringify(value));
      await assert.rejects(send('x-a', value), `undici sent the value ${JSON.stringify(value)}`);
    }
    assert.equal(refusedHeaderValue('Bearer abc.DEF-123 \t~'), null);
  });
});
