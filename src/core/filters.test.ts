import assert from 'node:assert/strict';
import { it } from 'node:test';
import { endpointReceives } from './filters.ts';

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
