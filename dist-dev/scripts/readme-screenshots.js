// Takes the README's screenshots (docs/*.png): the upload page mid-job and the
// dashboard with several jobs and a throughput chart. Run: npm run screenshots.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../server/app.js';
import { DEFAULTS } from '../server/config.js';
import { createLogger } from '../server/logger.js';
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const MiB = 1024 * 1024;
const dir = await mkdtemp(join(tmpdir(), 'jobcast-shots-'));
const server = await startServer({ ...DEFAULTS, port: 0, store: `sqlite:${join(dir, 'db')}`, spoolDir: join(dir, 'spool'), concurrency: 2, progressIntervalMs: 100, logLevel: 'silent' }, { logger: createLogger('silent') });
const browser = await chromium.launch({
    executablePath: process.env.JOBCAST_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
async function upload(label, sizes, msPerMiB) {
    const form = new FormData();
    form.append('processor', 'delay');
    form.append('label', label);
    form.append('options', JSON.stringify({ msPerMiB }));
    sizes.forEach((size, i) => form.append('file', new Blob([new Uint8Array(size)]), `${label.split(' ')[0]}-part-${i + 1}.csv`));
    const res = await fetch(`${server.url}/jobs`, { method: 'POST', body: form });
    return (await res.json()).id;
}
try {
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 760 } })).newPage();
    const dashboard = await (await browser.newContext({ viewport: { width: 1000, height: 760 } })).newPage();
    await dashboard.goto(`${server.url}/dashboard`);
    const main = await upload('nightly export', [3 * MiB, 2 * MiB, 4 * MiB, 1 * MiB], 2500);
    await upload('thumbnails', [6 * MiB, 6 * MiB], 1500);
    await upload('audit logs', [2 * MiB], 1000);
    await upload('backfill', [5 * MiB, 5 * MiB], 1000);
    await page.goto(`${server.url}/?job=${main}`);
    await page.locator('.file[data-status="done"]').nth(1).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(DOCS, 'upload-page.png') });
    await dashboard.waitForTimeout(8000);
    await dashboard.screenshot({ path: join(DOCS, 'dashboard.png') });
    console.log(`screenshots written to ${DOCS}`);
}
finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
}
//# sourceMappingURL=readme-screenshots.js.map