import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ClaimedDelivery } from '../store/store.ts';
import { Lanes } from './lanes.ts';

const delivery = (id: number, endpointId = 'ep_1', appId = 'app_1'): ClaimedDelivery => ({
  id, lease: 1, attemptNumber: 1, trigger: 0, resumeAt: null,
  message: { id: `msg_${id}`, appId, eventType: 'a.b', payload: new Uint8Array(), inbound: null },
  endpoint: { id: endpointId, url: 'http://127.0.0.1:1/', headers: {}, secrets: [], disabled: false },
});

/**
 * Lanes whose sends finish only when the test says so (`finish[i](answered)`, answered unless
 * told otherwise); `started` holds what they began to send, in order.
 */
function lanes(perEndpoint: number, total: number, perApp = total) {
  const finish: Array<(answered?: boolean) => void> = [];
  const started: ClaimedDelivery[] = [];
  let low = 0;
  let empty = 0;
  const subject = new Lanes({
    perEndpoint, total, perApp,
    send: (d) => (started.push(d), new Promise<boolean>((resolve) => finish.push((answered = true) => resolve(answered)))),
    onLow: () => low++,
    onEmpty: () => empty++,
  });
  return { subject, finish, started, low: () => low, empty: () => empty };
}

it('reserves room for handed-over deliveries only while a lane is under half its share', () => {
  const { subject } = lanes(2, 8); // an endpoint may hold 4; reservations stop at 2
  assert.equal(subject.reserve('app_1', 'ep_1'), true);
  assert.equal(subject.reserve('app_1', 'ep_1'), true);
  assert.equal(subject.reserve('app_1', 'ep_1'), false);
  assert.equal(subject.reserve('app_1', 'ep_2'), true, 'each endpoint has its own share');
  assert.equal(subject.held, 3);
  assert.equal(subject.slots().get('ep_1'), 2, 'a claim may still fill the reserved lane to its share');
});

it('sends a filled reservation, and forgets a given-up one', async () => {
  const { subject, finish } = lanes(2, 8);
  subject.reserve('app_1', 'ep_1');
  subject.reserve('app_1', 'ep_1');
  subject.fill('app_1', 'ep_1', delivery(1));
  subject.fill('app_1', 'ep_1', null);
  assert.equal(finish.length, 1, 'the filled one is sent at once');
  assert.equal(subject.held, 1);
  finish[0]!();
  await subject.settled();
  assert.equal(subject.held, 0);
  assert.deepEqual([...subject.slots().keys()], [], 'an empty lane is dropped');
});

it('asks for a claim when a lane that was over half its share comes back to half', async () => {
  const { subject, finish, low } = lanes(1, 8); // hold 2, half 1
  subject.add([delivery(1), delivery(2)]);
  finish.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(low(), 1);
});

it('says when a lane that never passed half empties, apart from running low', async () => {
  const { subject, finish, low, empty } = lanes(2, 8);
  subject.reserve('app_1', 'ep_1');
  subject.fill('app_1', 'ep_1', delivery(1));
  finish.shift()!();
  await subject.settled();
  assert.equal(low(), 0);
  assert.equal(empty(), 1);
});

/** Lets settled sends' callbacks run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

it('shares free slots among endpoints in turn instead of filling the first lane to its limit', () => {
  const { subject, started } = lanes(4, 5); // four slots, and one kept for endpoints sending nothing yet
  subject.add([1, 2, 3, 4].map((id) => delivery(id, 'ep_a')).concat([5, 6, 7, 8].map((id) => delivery(id, 'ep_b'))));
  assert.deepEqual(started.map((d) => d.endpoint.id).sort(), ['ep_a', 'ep_a', 'ep_b', 'ep_b']);
});

/** Answers (or not) everything in flight, then says how much is in flight after. */
async function round(finish: Array<(answered?: boolean) => void>, answered = true): Promise<number> {
  for (const done of finish.splice(0)) done(answered);
  await turn();
  return finish.length;
}

it('sends to an endpoint two at a time at first, then one more at once for each answer, up to its share', async () => {
  const { subject, started, finish } = lanes(8, 64);
  subject.add(Array.from({ length: 40 }, (_, i) => delivery(i)));
  assert.equal(started.length, 2);
  const inFlight = [2];
  for (let i = 0; i < 3; i++) inFlight.push(await round(finish));
  assert.deepEqual(inFlight, [2, 4, 8, 8], 'doubling each round trip, to the endpoint\'s share');
});

it('halves what an endpoint may send at once for each send that ends without an answer (a timeout, a refused connection), down to two', async () => {
  const { subject, finish } = lanes(8, 64);
  subject.add(Array.from({ length: 60 }, (_, i) => delivery(i)));
  await round(finish);
  assert.equal(await round(finish), 8);
  finish.shift()!(false);
  await turn();
  assert.equal(finish.length, 7, 'one ended unanswered: the window is four, so none starts while seven are in flight');
  assert.equal(await round(finish, false), 2);
  assert.equal(await round(finish, false), 2, 'never fewer than two');
});

it('remembers what an endpoint may send at once after its lane empties', async () => {
  const { subject, finish } = lanes(8, 64);
  subject.add(Array.from({ length: 6 }, (_, i) => delivery(i)));
  await round(finish);
  assert.equal(await round(finish), 0, 'all sent: the lane is empty');
  subject.add(Array.from({ length: 10 }, (_, i) => delivery(10 + i)));
  assert.equal(finish.length, 8, 'six answers widened it to its share of eight');
});

it('sends no more at once for one application than its share, however many endpoints it has', () => {
  const { subject, started } = lanes(2, 8, 3);
  subject.add(Array.from({ length: 10 }, (_, i) => delivery(i, `ep_${i}`, 'app_greedy')));
  assert.equal(started.length, 3);
  subject.add([delivery(20, 'ep_other', 'app_other')]);
  assert.deepEqual(started.slice(3).map((d) => d.message.appId), ['app_other'], 'another application still gets a slot');
});

it('gives a claim nothing for an application over half its share, and the rest of it below', () => {
  const { subject } = lanes(2, 16, 3); // an application may hold 6
  subject.add([delivery(1, 'ep_a', 'app_1'), delivery(2, 'ep_b', 'app_1'), delivery(3, 'ep_c', 'app_1')]);
  assert.equal(subject.appSlots().get('app_1'), 3);
  subject.add([delivery(4, 'ep_d', 'app_1')]);
  assert.equal(subject.appSlots().get('app_1'), 0);
  assert.equal(subject.slots().get('ep_d'), 3, 'its endpoints\' own shares are counted apart');
  assert.equal(subject.anyFull, true);
});

it('reserves room for handed-over deliveries only while the application is under half its share', () => {
  const { subject } = lanes(4, 16, 2); // an application may hold 4; reservations stop at 2
  assert.equal(subject.reserve('app_1', 'ep_a'), true);
  assert.equal(subject.reserve('app_1', 'ep_b'), true);
  assert.equal(subject.reserve('app_1', 'ep_c'), false);
  assert.equal(subject.reserve('app_2', 'ep_d'), true, 'each application has its own share');
  assert.deepEqual([...subject.slots().keys()].sort(), ['ep_a', 'ep_b', 'ep_d'], 'a refused reservation leaves no lane behind');
});

it('asks for a claim when an application that was over half its share comes back to half', async () => {
  const { subject, finish, low } = lanes(4, 16, 1); // the application holds 2, half 1; each endpoint 8
  subject.add([delivery(1, 'ep_a'), delivery(2, 'ep_b')]);
  finish.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(low(), 1);
});

it('keeps the last quarter of the slots for endpoints sending nothing yet, one each, so hanging tenants beyond the first three quarters leave room for another', () => {
  const { subject, started } = lanes(2, 16, 4); // twelve slots, then four kept
  const apps = () => started.map((d) => d.message.appId);
  // Three applications whose endpoints never answer take the twelve; two more, one endpoint each, the reserve's first two.
  for (const app of ['a', 'b', 'c']) subject.add(['1', '2'].flatMap((ep, i) => [delivery(10 * i, `ep_${app}${ep}`, `app_${app}`), delivery(10 * i + 1, `ep_${app}${ep}`, `app_${app}`)]));
  assert.equal(started.length, 12);
  subject.add([delivery(40, 'ep_d', 'app_d'), delivery(41, 'ep_d', 'app_d'), delivery(50, 'ep_e', 'app_e'), delivery(51, 'ep_e', 'app_e')]);
  assert.deepEqual(apps().slice(12), ['app_d', 'app_e'], 'one each, not an endpoint\'s share');
  subject.add([delivery(60, 'ep_f', 'app_f'), delivery(61, 'ep_f', 'app_f')]);
  assert.deepEqual(apps().slice(14), ['app_f'], 'the sixth application is sent to at once');
});

it('gives a claim one delivery for an endpoint holding nothing of a small application, and none for one holding some or of a big one, once what lanes hold reaches the reserve', () => {
  const { subject } = lanes(2, 8, 8); // lanes hold 16 in all, the last 4 kept
  assert.equal(subject.defaultSlots, 4, 'an endpoint\'s share while there is room');
  subject.add(Array.from({ length: 6 }, (_, i) => delivery(i, `ep_a${i}`, 'app_a')));
  subject.add(Array.from({ length: 6 }, (_, i) => delivery(10 + i, `ep_b${i}`, 'app_b')));
  assert.deepEqual([subject.slots().get('ep_a0'), subject.slots().get('ep_b5')], [0, 0]);
  assert.equal(subject.defaultSlots, 1);
  assert.equal(subject.reserve('app_a', 'ep_a0'), false, 'a lane holding some');
  assert.deepEqual([subject.appSlots().get('app_a'), subject.appSlots().get('app_b')], [0, 0], 'each holds an endpoint\'s share already');
  assert.equal(subject.reserve('app_a', 'ep_a9'), false, 'a lane holding nothing, of an application holding an endpoint\'s share');
  assert.equal(subject.reserve('app_c', 'ep_c'), true);
});
