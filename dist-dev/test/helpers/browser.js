// Headless Chromium for end-to-end tests, driven by playwright-core. Debian's chromium
// is used (Playwright's own browser download is not needed). Without it the browser
// tests skip locally; under CI=true they fail instead, so CI can never skip them.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { HANG_MS } from './patience.js';
import { REPO_ROOT } from './server.js';
export const CHROMIUM = process.env.JOBCAST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of every browser test run (ignored by git). */
export const ARTIFACTS = join(REPO_ROOT, 'test/artifacts');
/** Why the browser tests cannot run here, or null when they can. CI must not skip them. */
export function browserSkipReason() {
    if (existsSync(CHROMIUM))
        return null;
    if (process.env.CI === 'true')
        throw new Error(`${CHROMIUM} is missing: .ci/run installs the chromium package`);
    return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
}
export async function launchBrowser(t) {
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    t.after(() => browser.close());
    return browser;
}
/** A page that fails the test on any uncaught error in the page. */
export async function openPage(t, browser, url, viewport = { width: 1100, height: 900 }) {
    const context = await browser.newContext({ viewport });
    // Playwright's own 30 s would be a speed bound on a busy machine; this only catches a hang.
    context.setDefaultTimeout(HANG_MS);
    context.setDefaultNavigationTimeout(HANG_MS);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    t.after(() => {
        if (errors.length > 0)
            throw new Error(`errors in the page: ${errors.join('; ')}`);
    });
    await page.goto(url);
    return page;
}
export async function screenshot(page, name) {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
//# sourceMappingURL=browser.js.map