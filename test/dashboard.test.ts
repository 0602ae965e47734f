import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, requireBuiltUi } from './support/browser.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { waitFor } from './support/wait.ts';

browserSuite('the dashboard, in Chromium', (browser) => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({}, (both) => ({ h, receiver } = both));
  before(async () => {
    requireBuiltUi();
    await h.api('POST', '/api/v1/event-type', { name: 'invoice.paid', description: 'An invoice was paid' });
    await h.api('POST', '/api/v1/event-type', { name: 'invoice.voided', description: 'An invoice was voided' });
  });

  /** A page signed in through the #token fragment. */
  async function signedIn(t: Parameters<typeof browser.page>[0], path = '/dashboard/', options?: Parameters<typeof browser.page>[1]): Promise<Page> {
    const page = await browser.page(t, options);
    await page.goto(`${h.url}${path}#token=${h.token}`);
    await page.locator('main[data-abilities="known"]').waitFor();
    return page;
  }

  async function appWithEndpoint(name: string) {
    const app = await h.api('POST', '/api/v1/app', { name });
    const endpoint = await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/hooks`, eventTypes: ['invoice.paid'] });
    return { appId: app.body.id as string, endpointId: endpoint.body.id as string };
  }

  it('signs in with the token typed into the form, and a refused token comes back with why', async (t) => {
    const page = await browser.page(t);
    await page.goto(`${h.url}/`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused the token' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Applications', exact: true }).count(), 0);
    await page.getByLabel('Admin token').fill(h.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Applications', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.token')), null);
  });

  it('sends a portal token back to the sign-in form, saying it opens its application\'s portal, not the dashboard', async (t) => {
    const { appId } = await appWithEndpoint('Portal only');
    const { token } = (await h.api('POST', `/api/v1/auth/app-portal-access/${appId}`, {})).body;
    const page = await browser.page(t);
    await page.goto(`${h.url}/dashboard/#token=${token}`);
    await page.getByRole('alert').filter({ hasText: 'belongs to one application\'s portal' }).waitFor();
    await page.getByLabel('Admin token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.token')), null);
  });

  it('signs in from #token= and takes the token out of the address bar', async (t) => {
    const page = await signedIn(t);
    await page.getByRole('heading', { name: 'Applications', exact: true }).waitFor();
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.token')), h.token);
  });

  it('signs in from a #token= link opened in the same tab on the sign-in page, without a reload', async (t) => {
    const page = await signedIn(t);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    // Only the fragment changes: the browser keeps the document, so no new page load adopts it.
    await page.evaluate('window.sameDocument = true');
    await page.goto(`${h.url}/dashboard/#token=${h.token}`);
    await page.getByRole('heading', { name: 'Applications', exact: true }).waitFor();
    assert.equal(await page.evaluate('window.sameDocument'), true, 'the page was not reloaded');
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.token')), h.token);
  });

  it('creates an application in its dialog, and finds it by searching', async (t) => {
    const page = await signedIn(t);
    await page.getByRole('button', { name: 'Create application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an application' });
    await dialog.getByLabel('Name').fill('Globex Corporation');
    await dialog.getByLabel('UID').fill('globex');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Globex Corporation' }).waitFor();
    const saved = await h.api('GET', '/api/v1/app/globex');
    assert.equal(saved.body.name, 'Globex Corporation');
    assert.equal(new URL(page.url()).pathname, `/dashboard/apps/${saved.body.id}`);

    await page.getByRole('link', { name: 'Applications' }).first().click();
    await page.getByLabel('Search applications').fill('glob');
    await page.getByRole('link', { name: 'Globex Corporation' }).waitFor();
    await page.getByLabel('Search applications').fill('no-such-application');
    await page.getByText('No application matches').waitFor();
  });

  it('adds an endpoint with the keyboard alone, event type picked from the catalogue', async (t) => {
    const app = await h.api('POST', '/api/v1/app', { name: 'Initech' });
    const page = await signedIn(t, `/dashboard/apps/${app.body.id}`);
    await page.getByText('No endpoints yet').waitFor();
    // Tab until "Add endpoint" has the focus: it is reachable, in order, without a mouse.
    for (let i = 0; i < 40 && (await page.evaluate('document.activeElement?.textContent')) !== 'Add endpoint'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Add endpoint');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add an endpoint' });
    await dialog.getByRole('checkbox', { name: 'invoice.paid' }).waitFor();
    assert.equal(await page.evaluate(`document.activeElement?.getAttribute('name')`), 'url');
    await page.keyboard.type(`${receiver.url}/initech`);
    await page.keyboard.press('Tab');
    await page.keyboard.type('Initech billing');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.parentElement?.textContent'), 'invoice.paid');
    await page.keyboard.press('Space');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `${receiver.url}/initech` }).waitFor();
    const list = await h.api('GET', `/api/v1/app/${app.body.id}/endpoint`);
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].url, `${receiver.url}/initech`);
    assert.equal(list.body.data[0].description, 'Initech billing');
    assert.deepEqual(list.body.data[0].eventTypes, ['invoice.paid']);
  });

  it('shows the edit and the disabling of an endpoint opened by its uid at once', async (t) => {
    const app = await h.api('POST', '/api/v1/app', { name: 'Vandelay Industries' });
    await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/vandelay`, uid: 'vandelay-billing', description: 'Before' });
    const page = await signedIn(t, `/dashboard/apps/${app.body.id}/endpoints/vandelay-billing`);
    await page.getByText('Before', { exact: true }).waitFor();
    await page.getByTestId('delivery-health').getByText('no limit').waitFor();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit endpoint' });
    await dialog.getByLabel('Description').fill('After');
    await dialog.getByLabel('Rate limit').fill('7');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('After', { exact: true }).waitFor();
    // Sooner than the card's own refresh (every 5 s): the save refreshes it.
    await page.getByTestId('delivery-health').getByText('7 a second').waitFor({ timeout: 2_500 });
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    await page.locator('.badge', { hasText: /^Disabled$/ }).waitFor();
    await page.getByTestId('delivery-health').getByText('Disabled', { exact: true }).waitFor();
  });

  it('says an endpoint that is not there is not found, with the way back to the application\'s endpoints', async (t) => {
    const { appId } = await appWithEndpoint('Kramerica');
    const page = await signedIn(t, `/dashboard/apps/${appId}/endpoints/ep_not_there`);
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor();
    await page.locator('.breadcrumb').getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('link', { name: `${receiver.url}/hooks` }).waitFor();
  });

  it('sets an endpoint\'s payload filter in its dialog, shows the server\'s word on a bad one, and clears it', async (t) => {
    const { appId, endpointId } = await appWithEndpoint('Hooli');
    const page = await signedIn(t, `/dashboard/apps/${appId}/endpoints/${endpointId}`);
    const open = async () => {
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      return page.getByRole('dialog', { name: 'Edit endpoint' });
    };
    let dialog = await open();
    const field = dialog.getByLabel('Payload filter');
    await field.fill('{"payload.amount": ');
    await dialog.getByText('Not JSON').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Save' }).isDisabled(), true);
    await field.fill('{"payload.amount": {"$gt": [1]}}');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('payload.amount → $gt: takes a number or a string').waitFor();
    await field.fill('{"payload.amount": {"$gt": 100}}');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const filterOf = async () => (await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}`)).body.filter;
    assert.deepEqual(await waitFor('the saved filter', async () => (await filterOf()) ?? null), { 'payload.amount': { $gt: 100 } });
    await page.getByText('payload filter', { exact: true }).waitFor();

    dialog = await open();
    assert.deepEqual(JSON.parse(await dialog.getByLabel('Payload filter').inputValue()), { 'payload.amount': { $gt: 100 } });
    await dialog.getByLabel('Payload filter').fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitFor('the filter cleared', async () => (await filterOf()) === null);
  });

  it('keeps focus inside a dialog and closes it on Escape', async (t) => {
    const page = await signedIn(t);
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('dialog').waitFor();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate("Boolean(document.activeElement?.closest('dialog'))"), `focus left the dialog after ${i + 1} Tab`);
    }
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Create application');
  });

  it('reveals the signing secret, and rotating it shows the new one', async (t) => {
    const { appId, endpointId } = await appWithEndpoint('Umbrella');
    const page = await signedIn(t, `/dashboard/apps/${appId}/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const secret = page.getByTestId('secret');
    const before = await secret.textContent();
    assert.equal(before, (await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`)).body.key);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    // The click only starts the rotation: the API has the new secret once its request is answered.
    const after: string = await waitFor('the rotated secret', async () => {
      const key = (await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`)).body.key;
      return key !== before && key;
    });
    await page.getByTestId('secret').filter({ hasText: after }).waitFor();
  });

  it('recovers failed messages as a background task whose progress the dialog follows, and shows how deliveries flow', async (t) => {
    let up = false;
    const flaky = await startReceiver(() => (up ? { status: 200 } : { status: 500 }));
    try {
      const app = await h.api('POST', '/api/v1/app', { name: 'Recovering' });
      const endpoint = await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${flaky.url}/hooks`, throttleRate: 5 });
      const message = await h.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'invoice.paid', payload: { n: 1 } });
      await waitFor('the delivery to fail for good', async () =>
        (await h.api('GET', `/api/v1/app/${app.body.id}/msg/${message.body.id}/endpoint`)).body.data[0]?.status === 2);
      up = true;
      const page = await signedIn(t, `/dashboard/apps/${app.body.id}/endpoints/${endpoint.body.id}`);
      const health = page.getByTestId('delivery-health');
      await health.getByText('Closed').waitFor();
      await health.getByText('5 a second').waitFor();
      await page.getByRole('button', { name: 'Recover' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Recover' }).click();
      await page.getByTestId('recover-progress').filter({ hasText: '1 failed message queued again; 1 attempted.' }).waitFor();
      assert.equal((await h.api('GET', `/api/v1/app/${app.body.id}/msg/${message.body.id}/endpoint`)).body.data[0].status, 0);
    } finally {
      await flaky.close();
    }
  });

  it('disables and enables an endpoint', async (t) => {
    const { appId, endpointId } = await appWithEndpoint('Hooli');
    const page = await signedIn(t, `/dashboard/apps/${appId}/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    assert.equal((await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}`)).body.disabled, true);
    await page.locator('.badge', { hasText: /^Disabled$/ }).waitFor();
    await page.getByTestId('delivery-health').getByText('Disabled', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    assert.equal((await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}`)).body.disabled, false);
  });

  it('sends an example event and shows the attempt with what the receiver answered', async (t) => {
    const { appId, endpointId } = await appWithEndpoint('Stark Industries');
    const received = receiver.requests.length;
    const page = await signedIn(t, `/dashboard/apps/${appId}/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Send example' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send an example event' });
    await dialog.getByLabel('Event type').selectOption('invoice.paid');
    await dialog.getByRole('button', { name: 'Send', exact: true }).click();
    const attempt = dialog.getByTestId('attempt');
    await attempt.getByText('Succeeded').waitFor();
    assert.match(await attempt.textContent() ?? '', /HTTP 200/);
    const request = receiver.requests.slice(received).find((r) => r.path === '/hooks');
    assert.ok(request, 'the receiver got the example');
    assert.equal(request.headers['webhook-id'] !== undefined, true);
    assert.deepEqual(JSON.parse(request.body.toString()), { eventType: 'invoice.paid', example: true });
  });

  it('deletes an application after asking', async (t) => {
    const app = await h.api('POST', '/api/v1/app', { name: 'Soon Gone', uid: 'soon-gone' });
    const page = await signedIn(t);
    await page.getByRole('button', { name: 'Delete Soon Gone' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete application' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Soon Gone' }).waitFor({ state: 'detached' });
    assert.equal((await h.api('GET', `/api/v1/app/${app.body.id}`)).status, 404);
  });

  it('follows the dark theme when chosen, and keeps it', async (t) => {
    const page = await signedIn(t);
    await page.getByLabel('Theme').selectOption('dark');
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(background, 'rgb(18, 19, 24)');
    await page.reload();
    await page.locator('main[data-abilities="known"]').waitFor();
    assert.equal(await page.evaluate('getComputedStyle(document.body).backgroundColor'), 'rgb(18, 19, 24)');
  });

  it('fits a phone: the less important columns hide and the navigation stays reachable', async (t) => {
    await appWithEndpoint('Wayne Enterprises');
    const page = await signedIn(t, '/dashboard/', { width: 390, height: 844 });
    await page.getByRole('link', { name: 'Wayne Enterprises' }).waitFor();
    assert.equal(await page.getByRole('columnheader', { name: 'ID', exact: true }).isVisible(), false);
    assert.equal(await page.getByRole('columnheader', { name: 'Name' }).isVisible(), true);
    assert.equal(await page.getByRole('link', { name: 'Bins' }).isVisible(), true);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  });

  // Last in the suite: the catalogue it fills would make other tests' pickers long.
  it('offers every event type in the endpoint dialog, past the first page of the catalogue', async (t) => {
    const names = Array.from({ length: 260 }, (_, i) => `zz.paged.${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => h.api('POST', '/api/v1/event-type', { name, description: name })));
    }
    const app = await h.api('POST', '/api/v1/app', { name: 'Many Types' });
    const page = await signedIn(t, `/dashboard/apps/${app.body.id}`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an endpoint' });
    await dialog.getByRole('checkbox', { name: names.at(-1)! }).waitFor();
    assert.equal(await dialog.getByRole('checkbox', { name: /^zz\.paged\./ }).count(), names.length);
  });
});
