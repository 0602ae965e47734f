import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, requireBuiltUi, saveDocScreenshot } from './support/browser.ts';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { settled } from './support/wait.ts';

browserSuite('the application portal, in Chromium', (browser) => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({}, (both) => ({ h, receiver } = both));
  const apps: Record<'mine' | 'theirs', { id: string; endpointId: string; msgId: string }> = {} as never;
  before(async () => {
    requireBuiltUi();
    await h.api('POST', '/api/v1/event-type', { name: 'order.shipped', description: 'An order left the warehouse' });
    for (const [key, name] of [['mine', 'Acme Shop'], ['theirs', 'Other Tenant']] as const) {
      const app = await h.api('POST', '/api/v1/app', { name });
      const endpoint = await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/${key}`, description: `${key} endpoint` });
      const message = await h.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'order.shipped', eventId: `evt-${key}`, payload: { order: key } });
      apps[key] = { id: app.body.id, endpointId: endpoint.body.id, msgId: message.body.id };
    }
    await settled((path) => h.api('GET', path), Object.values(apps).map((app) => `/api/v1/app/${app.id}/endpoint/${app.endpointId}`));
  });

  async function portal(t: Parameters<typeof browser.page>[0], body: object = {}, query = ''): Promise<{ page: Page; token: string }> {
    const access = await h.api('POST', `/api/v1/auth/app-portal-access/${apps.mine.id}`, body);
    assert.equal(access.status, 200);
    const url = new URL(access.body.url);
    const page = await browser.page(t);
    await page.goto(`${h.url}${url.pathname}${query}${url.hash}`);
    await page.locator('main[data-abilities="known"]').waitFor();
    return { page, token: access.body.token };
  }

  it('opens from a portal link on its application alone, the token taken out of the address bar', async (t) => {
    const { page } = await portal(t);
    assert.equal(new URL(page.url()).hash, '');
    await page.getByRole('heading', { name: 'Acme Shop' }).waitFor();
    await page.getByRole('link', { name: `${receiver.url}/mine` }).waitFor();
    assert.equal(await page.getByText(`${receiver.url}/theirs`).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Applications' }).count(), 0);
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('heading', { name: 'order.shipped' }).waitFor();
  });

  it("is refused another application's endpoints and messages, even asked for from the page with its own token", async (t) => {
    const { page } = await portal(t);
    const statuses = await page.evaluate(async ([mine, theirs]) => {
      const token = sessionStorage.getItem(`herald.portal.${mine}`);
      const get = async (path: string) => (await fetch(path, { headers: { authorization: `Bearer ${token}` } })).status;
      return {
        own: await get(`/api/v1/app/${mine}/endpoint`),
        endpoints: await get(`/api/v1/app/${theirs}/endpoint`),
        messages: await get(`/api/v1/app/${theirs}/msg`),
        apps: await get('/api/v1/app'),
      };
    }, [apps.mine.id, apps.theirs.id]);
    assert.deepEqual(statuses, { own: 200, endpoints: 403, messages: 403, apps: 403 });
  });

  it('shows the secret and every control to a token with all capabilities', async (t) => {
    const { page } = await portal(t);
    await page.getByRole('link', { name: `${receiver.url}/mine` }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    for (const name of ['Send example', 'Recover', 'Disable', 'Edit', 'Delete', 'Reveal secret', 'Rotate secret']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 1, name);
    }
  });

  it('shows a ViewBase token no secret and no control that changes anything', async (t) => {
    const { page, token } = await portal(t, { capabilities: ['ViewBase'] });
    await page.getByRole('link', { name: `${receiver.url}/mine` }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add endpoint' }).count(), 0);
    await page.getByRole('link', { name: `${receiver.url}/mine` }).click();
    await page.getByRole('heading', { name: 'Details' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Signing secret' }).count(), 0);
    for (const name of ['Send example', 'Recover', 'Disable', 'Edit', 'Delete', 'Reveal secret', 'Rotate secret']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    }
    // And the API, not only the page, refuses it.
    const secret = await fetch(`${h.url}/api/v1/app/${apps.mine.id}/endpoint/${apps.mine.endpointId}/secret`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(secret.status, 403);
  });

  /** Opens the portal's own message, and its first attempt's request headers. */
  async function openAttempt(page: Page) {
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.locator(`tr[data-msg-id="${apps.mine.msgId}"]`).getByRole('link', { name: 'order.shipped' }).click();
    const destination = page.getByRole('article', { name: `Destination ${receiver.url}/mine` });
    await destination.locator('.attempt summary').first().click();
    const signature = destination.getByRole('table', { name: 'Request headers' }).locator('tr[data-header="webhook-signature"] td');
    await signature.waitFor();
    return { destination, signature: (await signature.evaluate((td) => td.firstChild?.textContent)) ?? '' };
  }

  it("lists its own messages, not another application's, and shows a full token Resend and the signature as sent", async (t) => {
    const { page } = await portal(t);
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.locator(`tr[data-msg-id="${apps.mine.msgId}"]`).waitFor();
    assert.equal(await page.locator(`tr[data-msg-id="${apps.theirs.msgId}"]`).count(), 0);
    const { destination, signature } = await openAttempt(page);
    const sent = receiver.requests.find((request) => request.path === '/mine' && request.headers['webhook-id'] === apps.mine.msgId);
    assert.equal(signature, sent?.headers['webhook-signature']);
    await destination.getByRole('button', { name: `Resend to ${receiver.url}/mine` }).click();
    await destination.getByText('2 attempts', { exact: true }).waitFor();
  });

  it('shows a ViewBase token its messages with the signature masked and no Resend', async (t) => {
    const { page } = await portal(t, { capabilities: ['ViewBase'] });
    const { destination, signature } = await openAttempt(page);
    assert.match(signature, /^v1,\*{4}$/);
    assert.equal(await destination.getByRole('button', { name: /^Resend/ }).count(), 0);
    await destination.getByRole('table', { name: 'Request headers' }).locator('tr[data-header="webhook-signature"]').getByText('masked').waitFor();
  });

  it("cannot open another application's message by its address", async (t) => {
    const { page } = await portal(t);
    await page.goto(`${h.url}/app-portal/${apps.mine.id}/messages/${apps.theirs.msgId}`);
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor();
    assert.equal(await page.getByText('"order": "theirs"').count(), 0);
    await page.goto(`${h.url}/app-portal/${apps.mine.id}/messages/evt-theirs`);
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor();
  });

  it('takes its name, colour and dark theme from the link', async (t) => {
    const { page } = await portal(t, {}, '?name=Acme%20Webhooks&color=%23e11d48&theme=dark');
    await page.locator('.brand').getByText('Acme Webhooks').waitFor();
    assert.equal(await page.evaluate("document.documentElement.dataset.theme"), 'dark');
    assert.equal(await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"), '#e11d48');
    await saveDocScreenshot(page, 'portal');
  });

  it('keeps links readable in a brand colour too pale for a light page or too dark for a dark one', async (t) => {
    for (const [color, theme, background] of [['fde047', 'light', [255, 255, 255]], ['1e1b4b', 'dark', [0x24, 0x27, 0x31]]] as const) {
      const { page } = await portal(t, {}, `?color=${color}&theme=${theme}`);
      const link = page.getByRole('link', { name: `${receiver.url}/mine` });
      await link.waitFor();
      // Chromium gives a color-mix() as color(srgb r g b), 0 to 1, and a plain colour as rgb(r, g, b).
      const shown = await link.evaluate((element) => element.ownerDocument.defaultView!.getComputedStyle(element).color);
      const parts = shown.match(/[\d.]+/g)!.map(Number);
      const rgb = shown.startsWith('color(') ? parts.slice(0, 3).map((c: number) => c * 255) : parts.slice(0, 3);
      const ratio = contrast(rgb, [...background]);
      assert.ok(ratio >= 4.5, `links in #${color} on a ${theme} page read at ${ratio.toFixed(2)}:1 (${shown})`);
      assert.equal(await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"), `#${color}`, 'buttons keep the colour itself');
    }
  });

  it('says a link is needed when it has no token or a refused one', async (t) => {
    const page = await browser.page(t);
    await page.goto(`${h.url}/app-portal/${apps.mine.id}#token=appsk_not-a-real-token`);
    await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).waitFor();
  });

  it('opens from a new portal link in the tab where the old one was refused, without a reload', async (t) => {
    const access = await h.api('POST', `/api/v1/auth/app-portal-access/${apps.mine.id}`, {});
    const link = new URL(access.body.url);
    const page = await browser.page(t);
    await page.goto(`${h.url}${link.pathname}#token=appsk_not-a-real-token`);
    await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).waitFor();
    // The same address but for its fragment: the browser keeps the document.
    await page.evaluate('window.sameDocument = true');
    await page.goto(`${h.url}${link.pathname}${link.hash}`);
    await page.getByRole('link', { name: `${receiver.url}/mine` }).waitFor();
    assert.equal(await page.evaluate('window.sameDocument'), true, 'the page was not reloaded');
    assert.equal(new URL(page.url()).hash, '');
  });
});

/** WCAG's contrast ratio of two sRGB colours (0-255 components). */
function contrast(a: number[], b: number[]): number {
  const luminance = (rgb: number[]) => {
    const [r, g, bl] = rgb.map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
}
