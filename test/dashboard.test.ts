// The dashboard end to end in headless Chromium: a job uploaded elsewhere appears with
// its name and moves, shows its rate and ETA, opens with its per-file bars and
// completes; cancel from the dashboard; filter and search reach past the first page;
// the token prompt. Every page fails its test on any console error or failed request
// (helpers/browser.ts). The `gated` processor holds files at half done until the test
// writes `release`, so nothing races the clock.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { createJob, getJob, pollJob } from './helpers/http.js';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

const skip = browserSkipReason() ?? false;
const KiB = 1024;

/** The table row of the job with this id (rows carry data-job). */
function row(page: Page, id: string): Locator {
  return page.locator(`#job-rows [role="row"][data-job="${id}"]`);
}

async function live(page: Page): Promise<void> {
  await page.locator('#connection[data-state="live"]').waitFor();
}

test('a job uploaded elsewhere appears with its file name, moves, shows rate and ETA, opens and completes', { skip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { progressIntervalMs: 50, processorDir: FIXTURE_PROCESSORS });
  const page = await openPage(t, browser, `${server.url}/dashboard`);
  await live(page);
  const job = await createJob(
    server.url,
    [
      { name: 'invoices-march.csv', content: Buffer.alloc(600 * KiB) },
      { name: 'invoices-april.csv', content: Buffer.alloc(200 * KiB) },
    ],
    { processor: 'gated' },
  );
  const jobRow = row(page, job.id);
  await jobRow.waitFor();
  assert.equal(await jobRow.locator('.job-name').innerText(), 'invoices-march.csv');
  assert.equal(await jobRow.locator('.more').innerText(), '+1 more');
  assert.match(await jobRow.locator('.meta').innerText(), /gated/);
  // The first file is held at half done: 300 KiB of 800 KiB is 37%.
  await jobRow.locator('[role="progressbar"][aria-valuenow="38"]').waitFor();
  assert.equal(await jobRow.locator('.status').innerText(), 'running');
  assert.match(await jobRow.locator('.progress-detail').innerText(), /^37% · 0\/2 files · 819 KB$/);
  assert.match(await jobRow.locator('.rate').innerText(), /^[\d.]+ [KMG]?B\/s$/, 'the current rate shows');
  await jobRow.locator('.time-detail', { hasText: /elapsed · ETA \d/ }).waitFor();
  assert.match(await jobRow.locator('time').getAttribute('title') ?? '', /^created /, 'the exact creation time on hover');

  // Open it from the keyboard: its per-file bars, as on the upload page.
  await jobRow.locator('.job-name').focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('#job-dialog[open]');
  await dialog.waitFor();
  assert.equal(await page.evaluate('document.activeElement?.className'), 'small secondary dialog-close');
  assert.equal(await dialog.locator('.file .file-name').first().innerText(), `invoices-march.csv (614 KB)`);
  await dialog.locator('.file[data-status="running"] [role="progressbar"][aria-valuenow="50"]').waitFor();
  assert.match(page.url(), new RegExp(`[?&]job=${job.id}`), 'the URL names the open job');

  await writeFile(join(server.dir, 'release'), '');
  await dialog.locator('.job .status', { hasText: /^completed/ }).waitFor();
  assert.deepEqual(await dialog.locator('.file [role="progressbar"]').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-valuenow'))), ['100', '100']);
  await page.keyboard.press('Escape');
  await page.locator('#job-dialog[open]').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate("document.activeElement?.classList.contains('job-name')"), true, 'the focus went back to the row');

  await jobRow.locator('.status', { hasText: /^completed$/ }).waitFor();
  assert.equal(await jobRow.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
  assert.match(await jobRow.locator('.time-detail').innerText(), /^took /);
  assert.equal(await jobRow.locator('.cancel').isHidden(), true, 'no cancel for a finished job');
  assert.equal((await getJob(server.url, job.id)).status, 'completed');
  await page.locator('#stat-p50', { hasText: /\d/ }).waitFor();
  await screenshot(page, 'dashboard');
});

test('cancel from the dashboard cancels the job, in a narrow window', { skip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { progressIntervalMs: 50, processorDir: FIXTURE_PROCESSORS });
  const page = await openPage(t, browser, `${server.url}/dashboard`, { viewport: { width: 380, height: 800 }, clipboard: true });
  await live(page);
  const job = await createJob(server.url, [{ name: 'held.bin', content: Buffer.alloc(100 * KiB) }], { processor: 'gated', label: 'hold me' });
  const jobRow = row(page, job.id);
  await jobRow.locator('.status', { hasText: /^running$/ }).waitFor();
  assert.equal(await jobRow.locator('.job-name').innerText(), 'hold me', 'the label names the job');

  await jobRow.locator('.copy').click();
  await page.locator('#announce', { hasText: 'Link copied.' }).waitFor();
  assert.equal(await page.evaluate('navigator.clipboard.readText()'), `${server.url}/dashboard?job=${job.id}`);

  await jobRow.locator('.cancel').click();
  await jobRow.locator('.status', { hasText: /^cancelled$/ }).waitFor();
  assert.equal((await getJob(server.url, job.id)).status, 'cancelled');
  assert.equal(await jobRow.locator('.cancel').isHidden(), true);
  await screenshot(page, 'dashboard-narrow');
});

test('filter and search find an old job past the first page while live rows keep updating', { skip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS, concurrency: 2 });
  // The oldest job, failed, then 130 newer ones: `*` carries only 100 finished jobs and
  // the dashboard's first page of GET /jobs the newest 100.
  const needle = await createJob(server.url, [{ name: 'needle-report.txt', content: 'x' }], { processor: 'throws', label: 'quarterly needle' });
  for (let i = 0; i < 130; i++) await createJob(server.url, [{ name: `hay-${i}.txt`, content: `${i}` }]);
  await pollJob(server.url, needle.id);
  const last = (await (await fetch(`${server.url}/jobs?limit=1`)).json()) as { jobs: Array<{ id: string }> };
  await pollJob(server.url, last.jobs[0]!.id);

  const page = await openPage(t, browser, `${server.url}/dashboard`);
  await live(page);
  await page.locator('#list-count', { hasText: /^1\d\d jobs; older ones on the server$/ }).waitFor();
  assert.equal(await row(page, needle.id).count(), 0, 'the old job is not in view at first');

  await page.fill('#search', 'NEEDLE');
  await row(page, needle.id).waitFor();
  assert.equal(await page.locator('#job-rows [role="row"]').count(), 1);
  assert.match(page.url(), /[?&]q=NEEDLE/, 'the search is in the URL');

  // Search by file name and by a part of the id too.
  await page.fill('#search', 'needle-rep');
  await row(page, needle.id).waitFor();
  await page.fill('#search', needle.id.slice(4, 14));
  await row(page, needle.id).waitFor();

  // While a search is shown, a live job that matches appears and moves.
  await page.fill('#search', 'fresh');
  await page.locator('#empty:not([hidden])').waitFor();
  const fresh = await createJob(server.url, [{ name: 'fresh.bin', content: Buffer.alloc(10 * KiB) }], { processor: 'gated' });
  await row(page, fresh.id).locator('.status', { hasText: /^running$/ }).waitFor();
  await writeFile(join(server.dir, 'release'), '');
  await row(page, fresh.id).locator('.status', { hasText: /^completed$/ }).waitFor();

  // Each way in on a fresh page, so that what one found does not help the next.
  await page.goto(`${server.url}/dashboard`);
  await live(page);
  await page.selectOption('#status-filter', 'failed');
  await row(page, needle.id).waitFor();
  assert.equal(await row(page, needle.id).locator('.status-detail').innerText(), 'files_failed', 'a failed job shows its error code');
  assert.equal(await page.locator('#job-rows [role="row"]').count(), 1);
  assert.match(page.url(), /[?&]status=failed/);

  await page.goto(`${server.url}/dashboard`);
  await live(page);
  await page.locator('#load-older:not([hidden]):not([disabled])').waitFor();
  await page.click('#load-older');
  await page.locator('#list-count', { hasText: /^132 jobs$/ }).waitFor();
  assert.equal(await page.locator('#load-older').isHidden(), true, 'nothing older is left');
  // The oldest job is the last row: only rows near the window are rendered.
  await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
  await row(page, needle.id).waitFor();
  assert.equal(await row(page, needle.id).getAttribute('aria-rowindex'), '133', 'row 132 of the list, after the header');
  assert.ok((await page.locator('#job-rows [role="row"]').count()) < 60, 'rows far from the window are not rendered');
});

test('with --token the dashboard asks once, remembers it for the session, and works', { skip }, async (t) => {
  const token = 'dashboard-test-token';
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { token, processorDir: FIXTURE_PROCESSORS });
  const page = await openPage(t, browser, `${server.url}/dashboard`);
  await page.locator('#token-dialog[open]').waitFor();
  await page.fill('#token-dialog input', token);
  await page.click('#token-dialog button[value="ok"]');
  await live(page);
  const res = await fetch(`${server.url}/jobs`, {
    method: 'POST',
    body: (() => {
      const form = new FormData();
      form.append('processor', 'gated');
      form.append('file', new Blob([new Uint8Array(10 * KiB)]), 'secret.bin');
      return form;
    })(),
    headers: { authorization: `Bearer ${token}` },
  });
  const job = (await res.json()) as { id: string };
  await row(page, job.id).locator('.status', { hasText: /^running$/ }).waitFor();
  // Cancel needs the token too: the page sends it.
  await row(page, job.id).locator('.cancel').click();
  await row(page, job.id).locator('.status', { hasText: /^cancelled$/ }).waitFor();

  await page.reload();
  await live(page);
  await row(page, job.id).waitFor();
  assert.equal(await page.locator('#token-dialog[open]').count(), 0, 'not asked again in the same session');
});
