import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * Every list route pages as Svix's do: a default order (applications, event types and sources
 * oldest or first by name; endpoints, messages, attempts and destinations newest first), `order`
 * to reverse it, `iterator` forward and `prevIterator` back, each item once and in order, `done`
 * when the walk in either direction reaches its end; and an iterator that cannot be one of the
 * listed kind is a 422 at query.iterator.
 */

const LIMIT = 3;
const COUNT = 7;

interface Page {
  data: Array<{ id?: string; name?: string }>;
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

await forEachStore((store) => describe(`list order and paging (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => ({ h, receiver } = started));

  const keyOf = (item: { id?: string; name?: string }) => (item.id ?? item.name)!;
  const get = async (path: string, query: Record<string, string | number | null>): Promise<Page> => {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)] as [string, string]));
    const answer = await h.api('GET', `${path}${path.includes('?') ? '&' : '?'}${params}`);
    assert.equal(answer.status, 200, `GET ${path}?${params}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };

  /**
   * Walks `path` forward in `order` (null: the default) to its end, checking every item once and in
   * `expected`'s order, then back from the last page with prevIterator, checking each page is the
   * one seen before, and that going back from the first reaches an empty, done page.
   */
  async function pagesBothWays(path: string, order: 'ascending' | 'descending' | null, expected: string[]) {
    const pages: Page[] = [];
    let iterator: string | null = null;
    for (;;) {
      const page = await get(path, { limit: LIMIT, order, iterator });
      pages.push(page);
      if (page.done) break;
      assert.ok(pages.length <= COUNT, 'the walk forward ends');
      iterator = page.iterator;
    }
    const seen = pages.flatMap((page) => page.data.map(keyOf));
    assert.deepEqual(seen, expected, `forward through ${path} (${order ?? 'default order'})`);
    assert.equal(pages.length, Math.ceil(expected.length / LIMIT), 'no empty page at the end');

    for (let i = pages.length - 1; i > 0; i--) {
      const back = await get(path, { limit: LIMIT, order, iterator: pages[i]!.prevIterator });
      assert.deepEqual(back.data.map(keyOf), pages[i - 1]!.data.map(keyOf), `back from page ${i} of ${path} (${order ?? 'default order'})`);
      assert.equal(back.done, i === 1, `done going back from page ${i} says whether the first page is reached`);
      assert.equal(back.prevIterator, pages[i - 1]!.prevIterator);
      assert.equal(back.iterator, pages[i - 1]!.iterator, 'and its iterator goes forward again from there');
    }
    const beforeFirst = await get(path, { limit: LIMIT, order, iterator: pages[0]!.prevIterator });
    assert.deepEqual(beforeFirst.data, [], 'nothing before the first page');
    assert.equal(beforeFirst.done, true);
  }

  /** Checks the default order, then both explicit orders, of a list of `expected` (in default order). */
  async function checkList(path: string, expected: string[], defaultOrder: 'ascending' | 'descending') {
    assert.equal(new Set(expected).size, expected.length);
    const reversed = [...expected].reverse();
    await pagesBothWays(path, null, expected);
    await pagesBothWays(path, defaultOrder, expected);
    await pagesBothWays(path, defaultOrder === 'ascending' ? 'descending' : 'ascending', reversed);
  }

  async function malformedIterators(path: string, iterators: string[]) {
    for (const iterator of iterators) {
      for (const sent of [iterator, `-${iterator}`]) {
        const answer = await h.api('GET', `${path}${path.includes('?') ? '&' : '?'}iterator=${encodeURIComponent(sent)}`);
        assert.equal(answer.status, 422, `GET ${path} with iterator ${sent}: ${JSON.stringify(answer.body)}`);
        assert.deepEqual(answer.body.detail.map((item: { loc: string[] }) => item.loc), [['query', 'iterator']]);
      }
    }
  }

  let app: string;
  let endpoints: string[];
  let messages: string[];
  let fanned: string;
  before(async () => {
    app = (await h.svix.application.create({ name: 'Lists', uid: 'lists' })).id;
    endpoints = [];
    for (let i = 0; i < COUNT; i++) endpoints.push((await h.svix.endpoint.create(app, { url: `${receiver.url}/ep${i}`, channels: [`ch${i}`, 'all'] })).id);
    // Seven messages for the first endpoint only, one for all seven.
    messages = [];
    for (let i = 0; i < COUNT; i++) messages.push((await h.svix.message.create(app, { eventType: 'list.one', payload: { i }, channels: ['ch0'] })).id);
    fanned = (await h.svix.message.create(app, { eventType: 'list.all', payload: {}, channels: ['all'] })).id;
    await waitFor('every delivery', () => receiver.requests.length === 2 * COUNT);
  });

  it('lists applications oldest first by default, newest first with order=descending, and pages both ways', async () => {
    for (let i = 0; i < COUNT - 1; i++) await h.svix.application.create({ name: `Extra ${i}` });
    const all = (await get('/api/v1/app', { limit: 250 })).data.map(keyOf);
    assert.ok(all.length >= COUNT);
    assert.deepEqual(all, [...all].sort(), 'ids sort by creation, oldest first');
    await checkList('/api/v1/app', all, 'ascending');
  });

  it('lists endpoints newest first by default, oldest first with order=ascending, and pages both ways', async () => {
    await checkList(`/api/v1/app/${app}/endpoint`, [...endpoints].reverse(), 'descending');
  });

  it('lists event types by name, and pages both ways', async () => {
    for (let i = COUNT - 1; i >= 0; i--) await h.svix.eventType.create({ name: `list.type${i}`, description: 'd' });
    const names = (await get('/api/v1/event-type', { limit: 250 })).data.map(keyOf);
    assert.deepEqual(names, Array.from({ length: COUNT }, (_, i) => `list.type${i}`));
    await checkList('/api/v1/event-type', names, 'ascending');
  });

  it('lists messages newest first, and pages both ways', async () => {
    await checkList(`/api/v1/app/${app}/msg?event_types=list.one`, [...messages].reverse(), 'descending');
  });

  it('lists an endpoint\'s attempts and attempted messages newest first, and pages both ways', async () => {
    const attempts = (await get(`/api/v1/app/${app}/attempt/endpoint/${endpoints[0]}`, { limit: 250 })).data;
    assert.deepEqual(attempts.map((a: any) => a.msgId), [fanned, ...[...messages].reverse()]);
    await checkList(`/api/v1/app/${app}/attempt/endpoint/${endpoints[0]}`, attempts.map(keyOf), 'descending');
    await checkList(`/api/v1/app/${app}/endpoint/${endpoints[0]}/msg`, [fanned, ...[...messages].reverse()], 'descending');
  });

  it('lists a message\'s attempts and destinations newest first, and pages both ways', async () => {
    const attempts = (await get(`/api/v1/app/${app}/attempt/msg/${fanned}`, { limit: 250 })).data;
    assert.deepEqual(new Set(attempts.map((a: any) => a.endpointId)), new Set(endpoints));
    const ids = attempts.map(keyOf);
    assert.deepEqual(ids, [...ids].sort().reverse());
    await checkList(`/api/v1/app/${app}/attempt/msg/${fanned}`, ids, 'descending');
    await checkList(`/api/v1/app/${app}/msg/${fanned}/endpoint`, [...endpoints].reverse(), 'descending');
  });

  it('lists sources oldest first, and pages both ways', async () => {
    const sources: string[] = [];
    for (let i = 0; i < COUNT; i++) sources.push((await h.svix.ingest.source.create({ name: `Source ${i}`, type: 'generic-webhook' })).id);
    await checkList('/ingest/api/v1/source', sources, 'ascending');
  });

  it('answers an iterator that is not an id of the listed kind with 422 at query.iterator, with or without the - prefix', async () => {
    const idLike = (prefix: string) => `${prefix}_${'A1b2C3d4E5f6G7h8I9j0Kl'}`;
    const common = ['nope', 'app_', `${idLike('app')}x`, `${idLike('app').slice(0, -1)}!`];
    await malformedIterators('/api/v1/app', [...common, idLike('ep'), idLike('src')]);
    await malformedIterators(`/api/v1/app/${app}/endpoint`, [...common, idLike('app'), idLike('msg')]);
    await malformedIterators(`/api/v1/app/${app}/msg`, [...common, idLike('ep')]);
    await malformedIterators(`/api/v1/app/${app}/attempt/endpoint/${endpoints[0]}`, [...common, idLike('msg')]);
    await malformedIterators(`/api/v1/app/${app}/attempt/msg/${fanned}`, [...common, idLike('msg')]);
    await malformedIterators(`/api/v1/app/${app}/endpoint/${endpoints[0]}/msg`, [...common, idLike('atmpt')]);
    await malformedIterators(`/api/v1/app/${app}/msg/${fanned}/endpoint`, [...common, idLike('msg')]);
    await malformedIterators('/ingest/api/v1/source', [...common, idLike('app')]);
    await malformedIterators('/api/v1/event-type', ['not a name', 'a/b', 'x'.repeat(257)]);
    for (const path of ['/api/v1/event-type', '/api/v1/app', `/api/v1/app/${app}/msg`]) {
      const answer = await h.api('GET', `${path}?iterator=-`);
      assert.equal(answer.status, 422, `${path} with iterator -: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(answer.body.detail.map((item: { loc: string[] }) => item.loc), [['query', 'iterator']]);
    }
  });

  it('takes the iterators it hands out, with or without the - prefix, for ids of the listed kind', async () => {
    assert.equal((await h.api('GET', `/api/v1/app/${app}/msg?iterator=${messages[3]}`)).status, 200);
    assert.equal((await h.api('GET', `/api/v1/app/${app}/msg?iterator=-${messages[3]}`)).status, 200);
    assert.equal((await h.api('GET', '/api/v1/event-type?iterator=-list.type3')).status, 200);
    const first = await h.api('GET', `/api/v1/app/${app}/msg?event_types=list.one&limit=${LIMIT}`);
    const empty = await h.api('GET', `/api/v1/app/${app}/msg?event_types=list.one&limit=${LIMIT}&iterator=`);
    assert.deepEqual(empty.body, first.body, 'an empty iterator is none, as `?iterator=$next` sends before the first page');
  });
}));
