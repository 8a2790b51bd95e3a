/**
 * Browser test harness: Debian's Chromium (installed by apt, never downloaded) driven by
 * playwright-core against a `storybook build` output served on 127.0.0.1.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './static-server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const STORYBOOK_DIR = resolve(process.env.STORYBOOK_DIR ?? 'storybook-static');
export const ARTIFACTS = resolve('test-results/browser');

export interface Harness {
  browser: Browser;
  server: StaticServer;
  /** Opens a story in its own page (no Storybook UI around it). */
  openStory(id: string, args?: Record<string, string | number>): Promise<Page>;
  /** Saves a full-page screenshot under test-results/browser/. */
  screenshot(page: Page, name: string): Promise<void>;
  /** What the pages logged as errors (uncaught exceptions, console.error). */
  errors: string[];
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  if (!existsSync(resolve(STORYBOOK_DIR, 'iframe.html')))
    throw new Error(`${STORYBOOK_DIR}/iframe.html not found: run npm run build-storybook first`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await serveStatic(STORYBOOK_DIR);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const errors: string[] = [];
  return {
    browser,
    server,
    errors,
    async openStory(id, args = {}) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('pageerror', (e) => errors.push(`${id}: ${e.message}`));
      page.on('console', (m) => {
        // The static server has no favicon; everything else logged as an error counts.
        if (m.type() === 'error' && !m.text().includes('404')) errors.push(`${id}: ${m.text()}`);
      });
      const argString = Object.entries(args)
        .map(([k, v]) => `${k}:${v}`)
        .join(';');
      await page.goto(
        `${server.url}/iframe.html?id=${id}&viewMode=story${argString ? `&args=${argString}` : ''}`,
      );
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
