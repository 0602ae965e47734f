import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, requireBuiltUi, saveDocScreenshot } from './support/browser.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { settled, waitFor } from './support/wait.ts';

browserSuite('the dashboard: messages, activity, event types, sources and bins, in Chromium', (browser) => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({}, (both) => ({ h, receiver } = both));
  before(async () => {
    requireBuiltUi();
    // Anything sent to /fail is refused, so its deliveries end failed.
    receiver.respond = (request) => (request.path.startsWith('/fail') ? { status: 500, body: 'no thanks' } : { status: 200, body: 'ok' });
    await h.api('POST', '/api/v1/event-type', { name: 'invoice.paid', description: 'An invoice was paid' });
    await h.api('POST', '/api/v1/event-type', { name: 'invoice.voided', description: 'An invoice was voided' });
  });

  async function signedIn(t: Parameters<typeof browser.page>[0], path: string, options?: Parameters<typeof browser.page>[1]): Promise<Page> {
    const page = await browser.page(t, options);
    await page.goto(`${h.url}${path}#token=${h.token}`);
    await page.locator('main[data-abilities="known"]').waitFor();
    return page;
  }

  /** An app whose invoice.paid messages go to an accepting endpoint and invoice.voided ones to a refusing one. */
  async function appWithEndpoints(name: string) {
    const app = (await h.api('POST', '/api/v1/app', { name })).body;
    const ok = (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/ok/${app.id}`, eventTypes: ['invoice.paid'] })).body;
    const fail = (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/fail/${app.id}`, eventTypes: ['invoice.voided'] })).body;
    const settle = () => settled((path) => h.api('GET', path), [ok, fail].map((endpoint) => `/api/v1/app/${app.id}/endpoint/${endpoint.id}`));
    return { appId: app.id as string, ok: ok.id as string, fail: fail.id as string, settle };
  }

  const send = async (appId: string, body: object | string) => {
    const answer = await h.api('POST', `/api/v1/app/${appId}/msg`, body);
    assert.equal(answer.status, 202);
    return answer.body as { id: string };
  };
  const rows = (page: Page) => page.getByRole('table', { name: 'Messages' }).locator('tbody tr[data-msg-id]');

  it("shows on a message's page what its payload breaks in its event type's schema, accepted under warn", async (t) => {
    await h.api('POST', '/api/v1/event-type', { name: 'refund.issued', description: 'd', schemas: { 3: { type: 'object', properties: { amount: { type: 'integer' } }, required: ['refundId'] } } });
    const app = (await h.api('POST', '/api/v1/app', { name: 'Schema Warnings' })).body;
    const broken = await send(app.id, { eventType: 'refund.issued', payload: { amount: 'ten' } });
    const fine = await send(app.id, { eventType: 'refund.issued', payload: { refundId: 'r_1', amount: 10 } });
    const page = await signedIn(t, `/dashboard/apps/${app.id}/messages/${broken.id}`);
    const note = page.getByTestId('schema-violations');
    await note.waitFor();
    const text = await note.textContent() ?? '';
    assert.match(text, /schema version 3/);
    assert.match(text, /refundId: field required/);
    assert.match(text, /amount: must be integer/);
    await page.goto(`${h.url}/dashboard/apps/${app.id}/messages/${fine.id}#token=${h.token}`);
    await page.getByTestId('payload').waitFor();
    assert.equal(await page.getByTestId('schema-violations').count(), 0);
  });

  it('shows a message sent through the API in the Messages tab without a reload, and filters by event type and status', async (t) => {
    const app = await appWithEndpoints('Messages Live');
    const page = await signedIn(t, `/dashboard/apps/${app.appId}/messages`);
    const first = page.getByTestId('first-message');
    await first.waitFor();
    assert.match(await first.textContent() ?? '', new RegExp(`${h.url}/api/v1/app/${app.appId}/msg`));

    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    const paid = await send(app.appId, { eventType: 'invoice.paid', eventId: 'evt-paid-1', payload: { id: 'inv_1' } });
    await page.locator(`tr[data-msg-id="${paid.id}"]`).waitFor();
    const voided = await send(app.appId, { eventType: 'invoice.voided', payload: { id: 'inv_2' } });
    await page.locator(`tr[data-msg-id="${voided.id}"]`).waitFor();
    assert.deepEqual(navigations, [], 'the page was not reloaded');
    assert.deepEqual(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-msg-id'))), [voided.id, paid.id], 'newest first');

    await page.getByLabel('Event type').selectOption('invoice.paid');
    await waitFor('only the invoice.paid message', async () => (await rows(page).count()) === 1 && (await page.locator(`tr[data-msg-id="${paid.id}"]`).count()) === 1);

    await app.settle();
    await page.getByLabel('Event type').selectOption('');
    await page.getByLabel('Status').selectOption('2');
    await waitFor('only the failed message', async () => (await rows(page).count()) === 1 && (await page.locator(`tr[data-msg-id="${voided.id}"]`).count()) === 1);
    await page.getByLabel('Status').selectOption('0');
    await waitFor('only the delivered message', async () => (await rows(page).count()) === 1 && (await page.locator(`tr[data-msg-id="${paid.id}"]`).count()) === 1);
    await page.getByLabel('Event type').selectOption('invoice.voided');
    await page.getByText('No message matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitFor('both messages again', async () => (await rows(page).count()) === 2);
  });

  it('finds a message by eventId, shows its payload and attempt as sent, and Resend makes a second attempt', async (t) => {
    const app = await appWithEndpoints('Messages Detail');
    // Numbers a parse would rewrite: the attempt shows the bytes sent, not a parse written again.
    const message = await send(app.appId, '{"eventType":"invoice.paid","eventId":"evt-find-me","channels":["billing"],"payload":{"id":"inv_9","amount":4200.50,"ref":12345678901234567890}}');
    await app.settle();
    const delivered = receiver.requests.filter((request) => request.path === `/ok/${app.appId}`);
    assert.equal(delivered.length, 1);

    const page = await signedIn(t, `/dashboard/apps/${app.appId}/messages`);
    await page.getByLabel('Message id or eventId').fill('no-such-event');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('alert').filter({ hasText: 'No message has the id or eventId' }).waitFor();
    await page.getByLabel('Message id or eventId').fill('evt-find-me');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { name: 'invoice.paid' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/dashboard/apps/${app.appId}/messages/${message.id}`);
    // Pretty, with the numbers as published, not as a parse rounds them.
    assert.equal(await page.getByTestId('payload').textContent(), '{\n  "id": "inv_9",\n  "amount": 4200.50,\n  "ref": 12345678901234567890\n}');
    await page.getByText('#billing').first().waitFor();

    const destination = page.getByRole('article', { name: `Destination ${receiver.url}/ok/${app.appId}` });
    await destination.getByText('1 attempt', { exact: true }).waitFor();
    await destination.locator('.attempt summary').first().click();
    const headers = destination.getByRole('table', { name: 'Request headers' });
    await headers.waitFor();
    // Rebuilt by the API from what was sent: the same id, timestamp and signature the receiver got.
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      assert.equal(await headers.locator(`tr[data-header="${name}"] td`).evaluate((td) => td.firstChild?.textContent), delivered[0]!.headers[name], name);
    }
    await headers.locator('tr[data-header="webhook-signature"]').getByText('sensitive').waitFor();
    assert.equal(await destination.getByTestId('attempt-body').first().textContent(), '{"id":"inv_9","amount":4200.50,"ref":12345678901234567890}');
    assert.equal(delivered[0]!.body.toString(), '{"id":"inv_9","amount":4200.50,"ref":12345678901234567890}');
    assert.equal(await destination.getByTestId('endpoint-changed').count(), 0, 'the endpoint has not changed since');
    assert.equal(await destination.getByTestId('response-body').first().textContent(), 'ok');

    await destination.getByRole('button', { name: `Resend to ${receiver.url}/ok/${app.appId}` }).click();
    await destination.getByText('2 attempts', { exact: true }).waitFor();
    await destination.locator('.attempt').first().getByText('Manual').waitFor();
    await destination.locator('.attempt').first().getByText('Succeeded').waitFor();
    assert.equal(receiver.requests.filter((request) => request.path === `/ok/${app.appId}`).length, 2);
  });

  it('draws the Activity charts of the messages and attempts made, for the last hour, day and week, and on the endpoint page', async (t) => {
    const app = await appWithEndpoints('Activity');
    for (let i = 0; i < 3; i++) await send(app.appId, { eventType: 'invoice.paid', payload: { i } });
    await send(app.appId, { eventType: 'invoice.voided', payload: {} });
    await app.settle();
    const page = await signedIn(t, `/dashboard/apps/${app.appId}/activity`);
    const attempts = page.getByRole('img', { name: /^Attempts:/ });
    // The page opens on the last day; each range is then drawn anew, with other buckets than the
    // range before it. Waiting for the first drawing too keeps the last hour from being taken for
    // the day's chart still on the canvas.
    const drawn: string[] = [];
    let before = await waitFor('the first chart', () => attempts.getAttribute('data-drawn'));
    for (const range of ['Last hour', 'Last day', 'Last week']) {
      await page.getByRole('button', { name: range }).click();
      before = await waitFor(`the ${range} chart`, async () => {
        const now = await attempts.getAttribute('data-drawn');
        return now && now !== before ? now : null;
      });
      drawn.push(before);
      // The voided message failed on its first try and both retries: three failed attempts.
      await page.getByRole('img', { name: 'Attempts: Succeeded 3, Failed 3' }).waitFor();
      assert.equal(await attempts.locator('canvas').count(), 1, range);
      await page.getByRole('img', { name: 'Messages: Messages 4' }).locator('canvas').waitFor();
      assert.equal(await page.getByRole('img', { name: /^Latency/ }).locator('canvas').count(), 1, range);
      await page.getByText('6 attempts in this range.').waitFor();
      await page.screenshot({ path: `test/screenshots/activity-${range.replace(/ /g, '-').toLowerCase()}.png` });
    }
    assert.match(drawn.join(' '), /\/300s\/.* .*\/3600s\/.* .*\/3600s\//, 'five-minute buckets for the hour, hourly ones for the day and week');
    // Away from the cursor, the legend shows each series' total.
    const legend = attempts.locator('.u-legend');
    assert.deepEqual(await legend.locator('.u-series').evaluateAll((rows) => rows.map((row) => row.textContent)), ['Timewhole range, totals', 'Succeeded3', 'Failed3']);
    for (const label of ['p50', 'p95', 'p99']) assert.equal(await page.locator('.u-legend').getByText(label, { exact: true }).count(), 1, label);

    await page.goto(`${h.url}/dashboard/apps/${app.appId}/endpoints/${app.ok}`);
    await page.getByRole('img', { name: 'Attempts: Succeeded 3, Failed 0' }).waitFor();
    assert.equal(await page.getByRole('img', { name: /^Attempts:/ }).locator('canvas').count(), 1);
    await page.getByRole('img', { name: 'Messages: Messages 3' }).locator('canvas').waitFor();
    await page.goto(`${h.url}/dashboard/apps/${app.appId}`);
    // The endpoints list's success rate: all of three, none of three.
    await page.getByRole('row', { name: new RegExp(`/ok/${app.appId}`) }).getByText('100%').waitFor();
    await page.getByRole('row', { name: new RegExp(`/fail/${app.appId}`) }).getByText('0%').waitFor();
    assert.equal(await page.getByRole('row', { name: new RegExp(`/ok/${app.appId}`) }).getByText('100%').getAttribute('title'), '3 succeeded, 0 failed');
  });

  it("redraws the charts in the dark theme's colours when it is chosen on the page", async (t) => {
    const app = await appWithEndpoints('Theme Charts');
    await send(app.appId, { eventType: 'invoice.paid', payload: {} });
    await app.settle();
    const page = await signedIn(t, `/dashboard/apps/${app.appId}/activity`);
    // uPlot paints each series' legend marker in the series' colour: the theme's --ok for Succeeded.
    const marker = page.getByRole('img', { name: /^Attempts:/ }).locator('.u-series', { hasText: 'Succeeded' }).locator('.u-marker');
    const colour = () => marker.evaluate((element) => element.ownerDocument.defaultView!.getComputedStyle(element).backgroundColor);
    assert.equal(await waitFor('the light chart', colour), 'rgb(23, 122, 60)');
    await page.getByLabel('Theme').selectOption('dark');
    await waitFor('the chart in dark colours', async () => (await colour()) === 'rgb(79, 212, 131)');
    await page.screenshot({ path: 'test/screenshots/activity-dark.png' });
  });

  it('creates an event type with a schema and example, edits it, sets its retry schedule, and archives and unarchives it', async (t) => {
    const page = await signedIn(t, '/dashboard/event-types');
    await page.getByRole('button', { name: 'Create event type' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an event type' });
    await dialog.getByLabel('Name').fill('user.created');
    await dialog.getByLabel('Description').fill('A user signed up');
    await dialog.getByLabel('Schemas').fill('{"1": {"type": "object"');
    await dialog.getByText(/^Not JSON/).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Create' }).isDisabled(), true);
    await dialog.getByLabel('Schemas').fill(JSON.stringify({ 1: { type: 'object', examples: [{ old: true }] }, 2: { type: 'object', examples: [{ userId: 'u_1' }] } }));
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    const card = page.getByRole('article', { name: 'user.created' });
    assert.deepEqual(JSON.parse(await card.getByTestId('example').textContent() ?? ''), { userId: 'u_1' }, 'the newest version\'s example');
    assert.equal((await h.api('GET', '/api/v1/event-type/user.created')).body.description, 'A user signed up');

    await card.getByRole('button', { name: 'Edit user.created' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit user.created' });
    await edit.getByLabel('Description').fill('A user registered');
    await edit.getByLabel(/^Deprecated/).check();
    await edit.getByLabel('Schema validation').selectOption('enforce');
    await edit.getByRole('button', { name: 'Save' }).click();
    await card.getByText('deprecated', { exact: true }).waitFor();
    await card.getByText('schema: enforce', { exact: true }).waitFor();
    const saved = (await h.api('GET', '/api/v1/event-type/user.created')).body;
    assert.deepEqual([saved.description, saved.deprecated, Object.keys(saved.schemas), saved.schemaValidation], ['A user registered', true, ['1', '2'], 'enforce']);

    await card.getByTestId('retry-schedule').getByText("Herald's default").waitFor();
    await card.getByRole('button', { name: 'Retry schedule of user.created' }).click();
    const retries = page.getByRole('dialog', { name: 'Retry schedule of user.created' });
    await retries.getByLabel("Use Herald's default schedule").uncheck();
    await retries.getByLabel('Delays').fill('5s, soon');
    await retries.getByText('"soon" is not a duration').waitFor();
    await retries.getByLabel('Delays').fill('5s, 5m, 2h');
    await retries.getByRole('button', { name: 'Save' }).click();
    await card.getByTestId('retry-schedule').getByText('5s, 5m, 2h').waitFor();
    assert.deepEqual((await h.api('GET', '/api/v1/event-type/user.created/retry-schedule')).body.retrySchedule, [{ secs: 5, nanos: 0 }, { secs: 300, nanos: 0 }, { secs: 7200, nanos: 0 }]);

    // Each click's request is answered before the API is asked, however the page draws meanwhile.
    const archived = async (value: boolean) => waitFor(`user.created archived: ${value}`, async () => (await h.api('GET', '/api/v1/event-type/user.created')).body.archived === value);
    await card.getByRole('button', { name: 'Archive user.created' }).click();
    await card.getByText('archived', { exact: true }).waitFor();
    await archived(true);
    await card.getByRole('button', { name: 'Unarchive user.created' }).click();
    await card.getByRole('button', { name: 'Archive user.created' }).waitFor();
    await archived(false);
  });

  it('creates a source, lists a verified and a rejected request live with the diagnosis, reveals a masked header, and adds a destination', async (t) => {
    const page = await signedIn(t, '/dashboard/sources');
    await page.getByText('No sources yet').waitFor();
    await page.getByRole('button', { name: 'Create source' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create a source' });
    await dialog.getByLabel('Name').fill('Stripe live');
    await dialog.getByRole('combobox', { name: /^Type/ }).selectOption('stripe');
    await dialog.getByLabel('Signing secret').fill('whsec_browser_test');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Stripe live' }).waitFor();
    const ingestUrl = await page.getByTestId('ingest-url').textContent() ?? '';
    const source = (await h.api('GET', '/ingest/api/v1/source')).body.data.find((s: any) => s.name === 'Stripe live');
    assert.equal(ingestUrl, source.ingestUrl);
    await page.getByText('Nothing received yet').waitFor();

    const body = JSON.stringify({ id: 'evt_browser_1', type: 'invoice.paid' });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', 'whsec_browser_test').update(`${timestamp}.${body}`).digest('hex');
    const post = (content: string) => fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer provider-cred', 'stripe-signature': `t=${timestamp},v1=${signature}` }, body: content });
    assert.equal((await post(body)).status, 200);
    assert.equal((await post(`${body} `)).status, 401);
    const requests = (await h.api('GET', `/api/v1/source/${source.id}/request`)).body.data;
    const [rejected, accepted] = requests;
    const list = page.getByRole('region', { name: 'Received requests' });
    await list.locator(`li[data-request-id="${accepted.id}"]`).getByText('verified').waitFor();
    await list.locator(`li[data-request-id="${rejected.id}"]`).getByText('rejected').waitFor();
    await list.locator(`li[data-request-id="${rejected.id}"]`).getByText(rejected.diagnosis).waitFor();

    await list.locator(`li[data-request-id="${rejected.id}"] button`).click();
    const detail = page.getByRole('region', { name: 'Request' });
    await detail.getByTestId('body-text').filter({ hasText: 'evt_browser_1' }).waitFor();
    assert.equal(await detail.getByTestId('body-text').textContent(), `${body} `);
    const authorization = detail.locator('tr[data-header="authorization"]');
    await authorization.getByText('masked').waitFor();
    await detail.getByLabel('Reveal masked headers').check();
    await authorization.getByText('Bearer provider-cred').waitFor();

    const destinations = page.getByRole('region', { name: 'Destinations' });
    await destinations.getByLabel('Destination URL').fill(`${receiver.url}/from-source`);
    await destinations.getByRole('button', { name: 'Add destination' }).click();
    await destinations.getByText(`${receiver.url}/from-source`).waitFor();
    assert.deepEqual((await h.api('GET', `/ingest/api/v1/source/${source.id}/endpoint`)).body.data.map((e: any) => e.url), [`${receiver.url}/from-source`]);
    await destinations.getByRole('button', { name: `Remove ${receiver.url}/from-source` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await destinations.getByText('No destination yet').waitFor();
    assert.deepEqual((await h.api('GET', `/ingest/api/v1/source/${source.id}/endpoint`)).body.data, []);
  });

  it('creates a bin, shows a request sent to it live and byte-exact, edits its answer, and deletes the request and the bin', async (t) => {
    const page = await signedIn(t, '/dashboard/bins');
    await page.getByRole('button', { name: 'Create bin' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create a bin' });
    await dialog.getByLabel('Name').fill('Sender check');
    await dialog.getByLabel('Response body').fill('captured');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Sender check' }).waitFor();
    await page.locator('[data-stream="open"]').waitFor();
    const url = await page.getByTestId('bin-url').textContent() ?? '';

    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    // Not UTF-8: the body is shown as base64 and hex, and must be the bytes sent.
    const sent = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x00, 0x0a, 0x7d]);
    const answer = await fetch(`${url}/hooks/in?x=1&y=two`, { method: 'PUT', headers: { 'x-test': 'yes', authorization: 'Bearer sender-secret' }, body: sent });
    assert.deepEqual([answer.status, await answer.text()], [200, 'captured']);
    const item = page.locator('li[data-request-id]');
    await item.getByText('/hooks/in?x=1&y=two').waitFor();
    assert.deepEqual(navigations, []);
    await item.locator('button').click();
    const detail = page.getByRole('region', { name: 'Request' });
    assert.equal(await detail.getByTestId('method').textContent(), 'PUT');
    assert.equal(await detail.getByTestId('path').textContent(), '/hooks/in');
    assert.equal(await detail.getByTestId('query').textContent(), 'x=1&y=two');
    assert.match(await detail.getByTestId('size').textContent() ?? '', /\(9 bytes\)/);
    assert.equal(await detail.getByTestId('body-base64').textContent(), sent.toString('base64'));
    await detail.getByRole('button', { name: 'Hex' }).click();
    assert.equal((await detail.getByTestId('body-hex').textContent())?.replace(/\s/g, ''), sent.toString('hex'));
    await detail.locator('tr[data-header="x-test"]').getByText('yes').waitFor();
    await detail.locator('tr[data-header="authorization"]').getByText('masked').waitFor();
    await detail.getByLabel('Reveal masked headers').check();
    await detail.locator('tr[data-header="authorization"]').getByText('Bearer sender-secret').waitFor();

    await page.getByRole('button', { name: 'Edit answer' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit the answer' });
    await edit.getByLabel('Response status').fill('418');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    assert.equal((await fetch(url, { method: 'POST', body: 'again' })).status, 418);
    await page.locator('li[data-request-id]').nth(1).waitFor();

    const binId = new URL(page.url()).pathname.split('/').pop()!;
    const before = (await h.api('GET', `/api/v1/bin/${binId}/request`)).body.data.length;
    await detail.getByRole('button', { name: 'Delete request' }).click();
    await page.locator('li[data-request-id]').nth(1).waitFor({ state: 'detached' });
    assert.equal((await h.api('GET', `/api/v1/bin/${binId}/request`)).body.data.length, before - 1);
    await page.getByRole('button', { name: 'Delete bin' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete bin' }).click();
    await page.getByRole('heading', { name: 'Bins', exact: true }).waitFor();
    assert.equal((await h.api('GET', `/api/v1/bin/${binId}`)).status, 404);
  });

  it('fits a phone on the Messages tab and a message page, with an attempt opened', async (t) => {
    const app = await appWithEndpoints('Phone');
    // The body as sent is one line of JSON, longer than the phone is wide.
    const message = await send(app.appId, { eventType: 'invoice.paid', payload: { id: 'inv_phone', customer: { email: 'accounts.payable@example.com', name: 'A customer with a long name' } } });
    await app.settle();
    const page = await signedIn(t, `/dashboard/apps/${app.appId}/messages`, { width: 375, height: 812 });
    await page.locator(`tr[data-msg-id="${message.id}"]`).waitFor();
    // What sticks out, named, when the page is wider than the phone.
    const overflow = () => page.evaluate<string>(`(() => {
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth <= width) return '';
      return [...document.querySelectorAll('main *')].filter((element) => element.getBoundingClientRect().right > width + 1)
        .slice(0, 5).map((element) => element.tagName.toLowerCase() + '.' + element.className).join(', ');
    })()`);
    assert.equal(await overflow(), '', 'the messages tab fits');
    assert.ok(await page.locator('.table-wrap').first().evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth), 'the messages table fits its box, its time column unclipped');
    // The main navigation scrolls sideways rather than breaking a label over two lines.
    const lines = await page.evaluate<string[]>(`[...document.querySelectorAll('nav[aria-label="Main"] a')].map((link) => {
      const range = document.createRange();
      range.selectNodeContents(link);
      return link.textContent + ': ' + range.getClientRects().length;
    })`);
    assert.deepEqual(lines, ['Applications: 1', 'Event types: 1', 'Sources: 1', 'Bins: 1']);
    await page.getByRole('link', { name: 'invoice.paid' }).click();
    await page.getByTestId('payload').waitFor();
    assert.equal(await overflow(), '', 'the message page fits');
    await page.locator('.attempt summary').first().click();
    await page.getByRole('table', { name: 'Request headers' }).waitFor();
    await page.getByTestId('attempt-body').waitFor();
    assert.equal(await overflow(), '', 'the message page fits with an attempt opened');
    // The long body scrolls inside its box instead.
    assert.ok(await page.getByTestId('attempt-body').evaluate((pre) => pre.scrollWidth > pre.clientWidth), 'the body scrolls');
  });

  it('shows a populated Messages view at 1280×800 for the README', async (t) => {
    const app = (await h.api('POST', '/api/v1/app', { name: 'Acme Corp', uid: 'acme' })).body;
    await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/acme/billing`, eventTypes: ['invoice.paid', 'invoice.voided'] });
    const events = ['invoice.paid', 'invoice.paid', 'invoice.voided', 'invoice.paid', 'invoice.paid', 'invoice.voided', 'invoice.paid'];
    for (const [i, eventType] of events.entries()) await send(app.id, { eventType, eventId: `evt_${1040 + i}`, channels: i % 3 === 0 ? ['billing'] : undefined, payload: { id: `inv_${1040 + i}` } });
    const page = await signedIn(t, `/dashboard/apps/${app.id}/messages`);
    await rows(page).nth(events.length - 1).waitFor();
    await saveDocScreenshot(page, 'dashboard');
  });
});
