// Headless Chromium for end-to-end tests, driven by playwright-core. Debian's chromium
// is used (Playwright's own browser download is not needed). Without it the browser
// tests skip locally; under CI=true they fail instead, so CI can never skip them.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HANG_MS } from './patience.js';
import { REPO_ROOT } from './server.js';

export const CHROMIUM = process.env.JOBCAST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of every browser test run (ignored by git). */
export const ARTIFACTS = join(REPO_ROOT, 'test/artifacts');

/** Why the browser tests cannot run here, or null when they can. CI must not skip them. */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the chromium package`);
  return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
}

/** Launches Chromium, closed after the test; `extraArgs` go on its command line (e.g. `--host-resolver-rules=...`). */
export async function launchBrowser(t: TestContext, extraArgs: readonly string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', ...extraArgs],
  });
  t.after(() => browser.close());
  return browser;
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  /**
   * Console errors and failed requests this test expects (a server it restarts on purpose
   * makes the browser log refused connections); every other one fails the test.
   */
  allowErrors?: RegExp;
  /** Clipboard permissions for the page's origin (the dashboard's "Copy link"). */
  clipboard?: boolean;
}

/**
 * A page that fails the test on any uncaught error in the page, any console error
 * (a 404 favicon, a 401 the page should have avoided) and any failed request.
 */
export async function openPage(t: TestContext, browser: Browser, url: string, options: PageOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1100, height: 900 } });
  if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  // Playwright's own 30 s would be a speed bound on a busy machine; this only catches a hang.
  context.setDefaultTimeout(HANG_MS);
  context.setDefaultNavigationTimeout(HANG_MS);
  const page = await context.newPage();
  const errors: string[] = [];
  const report = (what: string) => {
    if (options.allowErrors === undefined || !options.allowErrors.test(what)) errors.push(what);
  };
  page.on('pageerror', (err) => report(`uncaught: ${err.message}`));
  page.on('console', (message) => message.type() === 'error' && report(`console: ${message.text()}`));
  page.on('requestfailed', (request) => {
    // A download the test does not read, or a page closing under its requests, aborts them: not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') report(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => response.status() >= 400 && report(`HTTP ${response.status()}: ${response.url()}`));
  t.after(() => {
    if (errors.length > 0) throw new Error(`errors in the page: ${errors.join('; ')}`);
  });
  await page.goto(url);
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
