import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { endpointReceives, indexSubscriptions } from './filters.ts';
import { MAX_CHANNELS_PER_ENDPOINT, MAX_ENDPOINTS_PER_APPLICATION, MAX_EVENT_TYPES_PER_ENDPOINT } from './limits.ts';

const endpoint = (over: Partial<Parameters<typeof endpointReceives>[0]> = {}) => ({ eventTypes: null, channels: null, disabled: false, ...over });

it('sends everything to an enabled endpoint without filters', () => {
  assert.equal(endpointReceives(endpoint(), { eventType: 'a.b', channels: ['x'] }), true);
  assert.equal(endpointReceives(endpoint({ eventTypes: [], channels: [] }), { eventType: 'a.b', channels: null }), true);
});

it('sends nothing to a disabled endpoint', () => {
  assert.equal(endpointReceives(endpoint({ disabled: true }), { eventType: 'a.b', channels: null }), false);
});

it('sends only the event types an endpoint lists', () => {
  assert.equal(endpointReceives(endpoint({ eventTypes: ['a.b'] }), { eventType: 'a.b', channels: null }), true);
  assert.equal(endpointReceives(endpoint({ eventTypes: ['a.b'] }), { eventType: 'a.c', channels: null }), false);
});

it('sends to an endpoint with channels only messages that share one', () => {
  assert.equal(endpointReceives(endpoint({ channels: ['eu', 'us'] }), { eventType: 'a.b', channels: ['us'] }), true);
  assert.equal(endpointReceives(endpoint({ channels: ['eu'] }), { eventType: 'a.b', channels: ['us'] }), false);
  assert.equal(endpointReceives(endpoint({ channels: ['eu'] }), { eventType: 'a.b', channels: null }), false);
});

describe('the fan-out index', () => {
  const names = ['a.b', 'a.c', 'd.e', 'f.g'];
  const channels = ['eu', 'us', 'ap'];
  const list = (pool: string[]) => fc.option(fc.uniqueArray(fc.constantFrom(...pool), { maxLength: pool.length }), { nil: null });
  const subscription = fc.record({ eventTypes: list(names), channels: list(channels), disabled: fc.boolean() });
  const routing = fc.record({ eventType: fc.constantFrom(...names, 'x.y'), channels: list(channels) });

  it('matches exactly the endpoints the fan-out rule picks, in their order', () => {
    fc.assert(fc.property(fc.array(subscription, { maxLength: 12 }), routing, (endpoints, message) => {
      assert.deepEqual(indexSubscriptions(endpoints).match(message), endpoints.filter((endpoint) => endpointReceives(endpoint, message)));
    }), { numRuns: 2_000 });
  });

  it('gives an endpoint that lists a type twice one match, not two', () => {
    const endpoint = { eventTypes: ['a.b', 'a.b'], channels: null, disabled: false };
    assert.deepEqual(indexSubscriptions([endpoint]).match({ eventType: 'a.b', channels: null }), [endpoint]);
  });

  /** The largest fan-out the API allows: every endpoint of an application at its maximum of filters. */
  function largestApplication(read: { count: number }) {
    // Each filter list counts the reads made of it, so a test can tell whether matching looks at them.
    const counted = (values: string[]) => new Proxy(values, { get: (target, key, receiver) => (read.count++, Reflect.get(target, key, receiver)) });
    return Array.from({ length: MAX_ENDPOINTS_PER_APPLICATION }, (_, i) => ({
      id: i,
      eventTypes: counted(Array.from({ length: MAX_EVENT_TYPES_PER_ENDPOINT }, (_, j) => `type.${(i + j) % (MAX_EVENT_TYPES_PER_ENDPOINT * 2)}`)),
      channels: counted(Array.from({ length: MAX_CHANNELS_PER_ENDPOINT }, (_, j) => `channel.${j}`)),
      disabled: false,
    }));
  }

  it('reads no endpoint\'s filters to match a message, once built', () => {
    const read = { count: 0 };
    const index = indexSubscriptions(largestApplication(read));
    assert.ok(read.count > 0, 'building read the filters');
    read.count = 0;
    const matched = index.match({ eventType: 'type.0', channels: ['channel.9', 'nope'] });
    assert.ok(matched.length > 0 && matched.length < MAX_ENDPOINTS_PER_APPLICATION);
    index.match({ eventType: 'type.unknown', channels: null });
    assert.equal(read.count, 0, 'matching scanned no filter list');
  });
});

describe('payload filters at fan-out', () => {
  const endpoints = [
    { id: 'big', eventTypes: ['invoice.paid'], channels: null, disabled: false, filter: { 'payload.amount': { $gt: 100 } } },
    { id: 'all', eventTypes: null, channels: null, disabled: false, filter: null },
    { id: 'eu', eventTypes: null, channels: null, disabled: false, filter: { channels: 'eu' } },
  ];
  const counting = (payload: unknown) => {
    const parsed = { count: 0 };
    return { parsed, parsedPayload: () => (parsed.count++, payload) };
  };

  it('leaves out the endpoints whose filter the message does not match, and no others', () => {
    const index = indexSubscriptions(endpoints);
    const ids = (message: Parameters<typeof index.match>[0]) => index.match(message).map((endpoint) => endpoint.id);
    assert.deepEqual(ids({ eventType: 'invoice.paid', channels: null, parsedPayload: () => ({ amount: 150 }) }), ['big', 'all']);
    assert.deepEqual(ids({ eventType: 'invoice.paid', channels: ['eu'], parsedPayload: () => ({ amount: 50 }) }), ['all', 'eu']);
    for (const message of [{ eventType: 'invoice.paid', channels: ['eu'], parsedPayload: () => ({ amount: 500 }) }, { eventType: 'x', channels: null }]) {
      assert.deepEqual(index.match(message), endpoints.filter((endpoint) => endpointReceives(endpoint, message)));
    }
  });

  it('parses the payload once for all the endpoints with a filter, and not at all when no candidate has one', () => {
    const index = indexSubscriptions(endpoints);
    const withFilters = counting({ amount: 150 });
    index.match({ eventType: 'invoice.paid', channels: ['eu'], parsedPayload: withFilters.parsedPayload });
    assert.equal(withFilters.parsed.count, 1);
    const unfiltered = indexSubscriptions([endpoints[1]!]);
    const without = counting({ amount: 150 });
    assert.equal(unfiltered.match({ eventType: 'invoice.paid', channels: null, parsedPayload: without.parsedPayload }).length, 1);
    assert.equal(without.parsed.count, 0);
  });

  it('lets nothing through a stored filter that no longer compiles', () => {
    const broken = { eventTypes: null, channels: null, disabled: false, filter: { nope: 1 } };
    assert.deepEqual(indexSubscriptions([broken]).match({ eventType: 'a', channels: null, parsedPayload: () => ({}) }), []);
  });
});
