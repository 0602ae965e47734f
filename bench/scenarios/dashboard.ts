import { existsSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../../test/support/browser.ts';
import { kill, prefill, startHerald, startReceiver, TOKEN, Workspace, type StoreKind } from '../lib.ts';

export interface DashboardResult {
  messages: number;
  /** From navigation to the first message row on screen, with nothing cached (a new browser context). */
  coldMs: number;
  /** The same on a reload, the assets from the browser's cache. */
  warmMs: number;
  /** The applications page's first screen, cold. */
  applicationsMs: number;
}

/**
 * The dashboard's first screen for an application with `messages` messages (the issue's target:
 * under a second with 100,000), in Debian's Chromium, against a Herald that only serves the API
 * (HERALD_ROLE=api), so the time is the page's and the API's, not the deliveries'. Skipped (null)
 * without Chromium. What is waited for is the page showing a message id, whatever its markup.
 */
export async function dashboard(kind: StoreKind, messages: number): Promise<DashboardResult | null> {
  if (!existsSync(CHROMIUM)) return null;
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(['ok']);
  try {
    const { appId } = await prefill(workspace, receiver.urls, messages, 100);
    const herald = await startHerald(workspace, { HERALD_ROLE: 'api' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    try {
      const timed = async (page: Page, go: () => Promise<unknown>, shown: string) => {
        const started = performance.now();
        await go();
        // A locator, not a function evaluated in the page: the dashboard's CSP forbids eval.
        await page.locator('main').getByText(shown, { exact: false }).first().waitFor({ timeout: 30_000 });
        return performance.now() - started;
      };
      const apps = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const appsPage = await apps.newPage();
      const applicationsMs = await timed(appsPage, () => appsPage.goto(`${herald.url}/dashboard/#token=${TOKEN}`), appId);
      await apps.close();

      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const coldMs = await timed(page, () => page.goto(`${herald.url}/dashboard/apps/${appId}/messages#token=${TOKEN}`), 'msg_');
      const warmMs = await timed(page, () => page.reload(), 'msg_');
      await context.close();
      return { messages, coldMs, warmMs, applicationsMs };
    } finally {
      await browser.close();
      await kill(herald);
    }
  } finally {
    await receiver.child.close();
    await workspace.dispose();
  }
}
