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
