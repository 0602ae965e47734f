import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, requireBuiltUi } from './support/browser.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { waitFor } from './support/wait.ts';
import type { Receiver } from './support/receiver.ts';

browserSuite('the transformation editor on the endpoint page, in Chromium', (browser) => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({}, (both) => ({ h, receiver } = both));
  let appId: string;
  let endpointId: string;
  before(async () => {
    requireBuiltUi();
    await h.api('POST', '/api/v1/event-type', { name: 'order.created', description: 'An order was placed' });
    appId = (await h.api('POST', '/api/v1/app', { name: 'Shop' })).body.id;
    endpointId = (await h.api('POST', `/api/v1/app/${appId}/endpoint`, { url: `${receiver.url}/orders` })).body.id;
  });

  async function endpointPage(t: Parameters<typeof browser.page>[0], capabilities: string[]): Promise<Page> {
    const access = await h.api('POST', `/api/v1/auth/app-portal-access/${appId}`, { capabilities });
    const url = new URL(access.body.url);
    const page = await browser.page(t);
    await page.goto(`${h.url}${url.pathname}${url.hash}`);
    await page.locator('main[data-abilities="known"]').waitFor();
    await page.getByRole('link', { name: `${receiver.url}/orders` }).click();
    await page.getByRole('heading', { name: 'Details' }).waitFor();
    return page;
  }

  it('is not shown to a portal token without ManageTransformations', async (t) => {
    const page = await endpointPage(t, ['ViewBase', 'ManageEndpoint']);
    await page.getByRole('button', { name: 'Edit', exact: true }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Transformation' }).count(), 0);
  });

  it('simulates the code in the editor on a payload, then saves and enables it', async (t) => {
    const page = await endpointPage(t, ['ViewBase', 'ManageTransformations']);
    const code = 'function handler(webhook) { webhook.contentType = "application/x-www-form-urlencoded"; webhook.payload.via = "editor"; return webhook; }';
    await page.getByLabel('Code').fill(code);
    await page.getByLabel('Payload').fill('{"id": "o-9"}');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.getByTestId('simulated-body').getByText('id=o-9&via=editor').waitFor();
    await page.getByLabel('Run it on every delivery').check();
    await page.getByRole('button', { name: 'Save transformation' }).click();
    await page.getByText(/Saved /).waitFor();
    const saved = await h.api('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/transformation`);
    assert.deepEqual([saved.body.code, saved.body.enabled], [code, true]);

    await page.getByLabel('Code').fill('function handler(webhook) { throw new Error("not yet"); }');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.getByRole('alert').getByText(/Error: not yet/).waitFor();
  });

  it('shows an attempt the transformation made as it was sent: its method, URL and body', async (t) => {
    await h.api('PATCH', `/api/v1/app/${appId}/endpoint/${endpointId}/transformation`, {
      code: 'function handler(webhook) { webhook.method = "PUT"; webhook.contentType = "application/x-www-form-urlencoded"; webhook.payload = { id: webhook.payload.id }; return webhook; }',
      enabled: true,
    });
    const message = (await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.created', payload: { id: 'o-10' } })).body;
    await waitFor('the transformed delivery', () => receiver.requests.some((request) => request.body.toString() === 'id=o-10'));
    const page = await endpointPage(t, ['ViewBase']);
    await page.goto(`${h.url}/app-portal/${appId}/messages/${message.id}`);
    const destination = page.getByRole('article', { name: `Destination ${receiver.url}/orders` });
    await destination.getByText('1 attempt', { exact: true }).waitFor();
    await destination.locator('.attempt summary').first().click();
    await destination.getByText(`PUT ${receiver.url}/orders`, { exact: true }).waitFor();
    assert.equal(await destination.getByTestId('attempt-body').first().textContent(), 'id=o-10', 'the bytes sent, not the payload');
    await destination.getByText("As the endpoint's transformation made it.").waitFor();
  });

  it('shows a delivery the transformation canceled as canceled, its attempt too, not as failed or succeeded', async (t) => {
    await h.api('PATCH', `/api/v1/app/${appId}/endpoint/${endpointId}/transformation`, { code: 'function handler(webhook) { webhook.cancel = true; return webhook; }', enabled: true });
    const message = (await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.created', payload: { id: 'o-11' } })).body;
    const page = await endpointPage(t, ['ViewBase']);
    await page.goto(`${h.url}/app-portal/${appId}/messages/${message.id}`);
    const destination = page.getByRole('article', { name: `Destination ${receiver.url}/orders` });
    await destination.getByText('1 attempt', { exact: true }).waitFor();
    const badges = await destination.locator('.badge').allTextContents();
    assert.deepEqual(badges.filter((text) => ['Succeeded', 'Failed', 'Canceled'].includes(text)), ['Canceled', 'Canceled'], 'the destination, then its attempt');
    await destination.getByText('transformation_canceled').waitFor();
  });
});
