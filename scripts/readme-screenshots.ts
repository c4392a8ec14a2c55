// Takes the README's screenshots (docs/*.png): the upload page mid-job and the
// dashboard with its processes panel, running, queued, finished and cancelled jobs and a
// few minutes' worth of charts. Run: npm run screenshots.

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
const server = await startServer(
  { ...DEFAULTS, port: 0, store: `sqlite:${join(dir, 'db')}`, spoolDir: join(dir, 'spool'), concurrency: 2, progressIntervalMs: 100, logLevel: 'silent' },
  { logger: createLogger('silent') },
);
const browser = await chromium.launch({
  executablePath: process.env.JOBCAST_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

async function upload(label: string, sizes: number[], msPerMiB: number): Promise<string> {
  const form = new FormData();
  form.append('processor', 'delay');
  form.append('label', label);
  form.append('options', JSON.stringify({ msPerMiB }));
  sizes.forEach((size, i) => form.append('file', new Blob([new Uint8Array(size)]), `${label.split(' ')[0]}-part-${i + 1}.csv`));
  const res = await fetch(`${server.url}/jobs`, { method: 'POST', body: form });
  return ((await res.json()) as { id: string }).id;
}

try {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 760 } })).newPage();
  const dashboard = await (await browser.newContext({ viewport: { width: 1280, height: 1180 } })).newPage();
  await dashboard.goto(`${server.url}/dashboard`);
  // Quick jobs first, so the duration chart has a spread to show.
  for (let i = 0; i < 14; i++) await upload(`batch ${i + 1}`, [(1 + (i % 5)) * 200_000, 300_000], 300 + 150 * (i % 4));
  const main = await upload('nightly export', [3 * MiB, 2 * MiB, 4 * MiB, 1 * MiB], 2500);
  await upload('thumbnails', [6 * MiB, 6 * MiB], 1500);
  const cancelled = await upload('reindex', [8 * MiB], 2000);
  await upload('audit logs', [2 * MiB], 1000);
  await upload('backfill', [5 * MiB, 5 * MiB], 1000);
  await fetch(`${server.url}/jobs/${cancelled}/cancel`, { method: 'POST' });
  await page.goto(`${server.url}/?job=${main}`);
  await page.locator('.file[data-status="done"]').nth(1).waitFor({ timeout: 120_000 });
  await page.screenshot({ path: join(DOCS, 'upload-page.png') });
  await dashboard.waitForTimeout(4000);
  await dashboard.screenshot({ path: join(DOCS, 'dashboard.png') });
  console.log(`screenshots written to ${DOCS}`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
