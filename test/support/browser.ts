import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.HERALD_TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';

const ROOT = join(import.meta.dirname, '..', '..');

/** The built UI the tests open; `npm install` (prepare) or `npm run build` makes it. */
export function requireBuiltUi(): void {
  if (!existsSync(join(ROOT, 'ui', 'dist', 'index.html'))) throw new Error('The dashboard is not built (ui/dist): run npm run build first.');
}

/**
 * The README's pictures (docs/images/NAME.png, 1280×800), retaken only when asked with
 * HERALD_DOCS_SCREENSHOTS=1, so a test run leaves tracked files alone.
 */
export async function saveDocScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.HERALD_DOCS_SCREENSHOTS !== '1') return;
  mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'docs', 'images', `${name}.png`) });
}

/** The hosts a page may reach: Herald and the test's receivers, all on loopback. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Where every browser test leaves a picture of how it ended (git-ignored). */
export const SCREENSHOTS = join(import.meta.dirname, '..', 'screenshots');

export interface BrowserSuite {
  browser: Browser;
  /** A fresh context (own storage) and page; closed after the test. Viewport 1280×800 unless given. */
  page(t: TestContext, options?: { width?: number; height?: number; colorScheme?: 'light' | 'dark' }): Promise<Page>;
}

/**
 * A suite that drives a real Chromium. Without /usr/bin/chromium it is skipped, unless
 * HERALD_TEST_CHROMIUM=1 (CI sets it), where a missing browser fails instead of hiding the tests.
 * Each test's page is photographed when it ends, passed or failed, under test/screenshots/.
 */
export function browserSuite(name: string, body: (suite: BrowserSuite) => void): void {
  const present = existsSync(CHROMIUM);
  const required = process.env.HERALD_TEST_CHROMIUM === '1';
  const skip = !present && !required ? `Chromium is not at ${CHROMIUM} (apt-get install -y chromium; HERALD_TEST_CHROMIUM=1 makes this a failure)` : false;
  describe(name, { skip }, () => {
    let browser: Browser | undefined;
    const contexts: BrowserContext[] = [];
    before(async () => {
      if (!present) throw new Error(`HERALD_TEST_CHROMIUM=1 but Chromium is not at ${CHROMIUM}: apt-get install -y chromium`);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    });
    after(async () => {
      await browser?.close();
    });
    const suite: BrowserSuite = {
      get browser() {
        return browser!;
      },
      async page(t, options = {}) {
        const context = await browser!.newContext({
          viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
          colorScheme: options.colorScheme ?? 'light',
        });
        contexts.push(context);
        // No test reaches beyond loopback: a page asking for anything else (a logo, a font, a link
        // a test follows) is refused, and the test fails naming it.
        const offLoopback: string[] = [];
        await context.route((url) => url.protocol.startsWith('http') && !LOOPBACK_HOSTS.has(url.hostname), (route) => {
          offLoopback.push(route.request().url());
          return route.abort('blockedbyclient');
        });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        page.on('console', (message) => {
          if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
        });
        t.after(async () => {
          mkdirSync(SCREENSHOTS, { recursive: true });
          const file = `${t.fullName.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 120)}.png`;
          await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: false }).catch(() => {});
          await context.close();
          if (offLoopback.length > 0) throw new Error(`The page asked for what is not on loopback:\n${offLoopback.join('\n')}`);
          // A script error or a CSP refusal is a bug even when the test's own checks passed.
          if (errors.length > 0) throw new Error(`The page logged errors:\n${errors.join('\n')}`);
        });
        return page;
      },
    };
    body(suite);
  });
}
