// The demo pages end to end in headless Chromium: upload through the page, follow the
// job from a shared URL, survive a server restart, and ask for the token. The dashboard
// has its own suite (dashboard.test.ts).

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

const skip = browserSkipReason() ?? false;
const KiB = 1024;

function file(name: string, size: number) {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.alloc(size, name.charCodeAt(0)) };
}

/** Waits until the job panel says `status`. */
async function jobStatus(page: Page, status: string): Promise<void> {
  await page.locator('.job .status', { hasText: new RegExp(`^${status}`) }).waitFor();
}

async function fileBars(page: Page): Promise<string[]> {
  return page.locator('.file [role="progressbar"]').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-valuenow') ?? ''));
}

async function uploadThroughPage(page: Page, files: ReturnType<typeof file>[], processor: string): Promise<string> {
  await page.locator('#processor option', { hasText: processor }).waitFor({ state: 'attached' });
  await page.selectOption('#processor', processor);
  await page.setInputFiles('#files', files);
  await page.click('#start');
  await page.waitForURL(/\?job=/);
  return new URL(page.url()).searchParams.get('job')!;
}

test('upload two files through the page: per-file bars reach 100% and the job completes', { skip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { progressIntervalMs: 50 });
  const page = await openPage(t, browser, server.url);
  await page.locator('#connection[data-state="live"]').waitFor();
  const id = await uploadThroughPage(page, [file('alpha.bin', 300 * KiB), file('beta.bin', 200 * KiB)], 'delay');
  await jobStatus(page, 'completed');
  assert.deepEqual(await fileBars(page), ['100', '100']);
  assert.equal(await page.locator('.overall [role="progressbar"]').getAttribute('aria-valuenow'), '100');
  assert.equal(await page.locator('#upload-progress [role="progressbar"]').getAttribute('aria-valuenow'), '100');
  assert.match(await page.locator('.summary').innerText(), /2 of 2 files done/);
  assert.equal(await page.locator('.file .file-details', { hasText: 'took' }).count(), 2);
  const final = (await (await fetch(`${server.url}/jobs/${id}`)).json()) as { status: string };
  assert.equal(final.status, 'completed');
  await screenshot(page, 'upload-page');
});

test('file names with control characters, picked in the page\'s own file input: 202, stored cleaned', { skip }, async (t) => {
  // Chromium sends a name raw in the part header, escaping only CR, LF and `"`.
  const server = await startTestServer(t, { progressIntervalMs: 50 });
  const browser = await launchBrowser(t);
  const page = await openPage(t, browser, server.url);
  await page.locator('#connection[data-state="live"]').waitFor();
  const names = ['nul\u0000byte.bin', 'bell\u0007 esc\u001b[1mbold.bin', 'del\u007f\u0001\u001f.bin', 'tab\tand \u0008backspace.bin'];
  const id = await uploadThroughPage(page, names.map((name) => file(name, 4 * KiB)), 'sha256');
  await jobStatus(page, 'completed');
  const final = (await (await fetch(`${server.url}/jobs/${id}`)).json()) as { status: string; files: Array<{ name: string }> };
  assert.equal(final.status, 'completed');
  assert.deepEqual(final.files.map((f) => f.name), ['nulbyte.bin', 'bell esc[1mbold.bin', 'del.bin', 'taband backspace.bin']);
});

test('the job URL opened in a second page mid-job converges to the same final state', { skip }, async (t) => {
  // `gated` holds the first file at half done until the test writes `release`, so the
  // second page opens mid-job however slow the machine is.
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { progressIntervalMs: 50, processorDir: FIXTURE_PROCESSORS });
  const first = await openPage(t, browser, server.url);
  const id = await uploadThroughPage(first, [file('one.bin', 700 * KiB), file('two.bin', 700 * KiB), file('three.bin', 300 * KiB)], 'gated');
  await first.locator('.file[data-status="running"]').first().waitFor();
  const second = await openPage(t, browser, `${server.url}/?job=${id}`);
  await jobStatus(second, 'running');
  await second.locator('.file[data-status="running"] [role="progressbar"][aria-valuenow="50"]').waitFor();
  await writeFile(join(server.dir, 'release'), '');
  await Promise.all([jobStatus(first, 'completed'), jobStatus(second, 'completed')]);
  assert.deepEqual(await fileBars(second), ['100', '100', '100']);
  assert.equal(await second.locator('.summary').innerText().then((s) => s.split(' · ')[0]), '3 of 3 files done');
  await screenshot(second, 'shared-url');
});

test('a server restart mid-job: the page reconnects, resumes and shows the right final state', { skip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const first = await startTestServer(t, { progressIntervalMs: 50, shutdownGraceMs: 0 });
  // The restart makes the browser log the refused reconnects, as it should.
  const page = await openPage(t, browser, first.url, { allowErrors: /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/ });
  await uploadThroughPage(page, [file('a.bin', 1000 * KiB), file('b.bin', 1000 * KiB), file('c.bin', 500 * KiB)], 'delay');
  await page.locator('.file[data-status="running"]').first().waitFor();
  await first.close();
  await page.locator('#connection[data-state="reconnecting"]').waitFor();
  await startTestServer(t, { port: first.port, store: first.config.store, spoolDir: first.config.spoolDir, progressIntervalMs: 50 });
  await page.locator('#connection[data-state="resumed"]').waitFor();
  await jobStatus(page, 'completed');
  assert.deepEqual(await fileBars(page), ['100', '100', '100']);
  await screenshot(page, 'after-restart');
});

test('with --token the upload page asks for it before uploading, then works', { skip }, async (t) => {
  const token = 'browser-test-token';
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { token });
  const upload = await openPage(t, browser, server.url);
  await upload.locator('#processor option', { hasText: 'sha256' }).waitFor({ state: 'attached' });
  await upload.setInputFiles('#files', [file('t.bin', 10 * KiB)]);
  await upload.click('#start');
  // The page knows the server wants a token (the page shell says so): it asks before
  // the upload, so no 401 is ever logged (openPage fails the test on one).
  await upload.locator('#token-dialog[open]').waitFor();
  await upload.fill('#token-dialog input', token);
  await upload.click('#token-dialog button[value="ok"]');
  await upload.waitForURL(/\?job=/);
  await jobStatus(upload, 'completed');
  // Remembered for the session: a reload uploads again without asking.
  const firstId = new URL(upload.url()).searchParams.get('job');
  await upload.reload();
  await upload.locator('#processor option', { hasText: 'sha256' }).waitFor({ state: 'attached' });
  await upload.setInputFiles('#files', [file('u.bin', 10 * KiB)]);
  await upload.click('#start');
  await upload.waitForURL((url) => url.searchParams.get('job') !== firstId);
  await jobStatus(upload, 'completed');
  assert.equal(await upload.locator('#token-dialog[open]').count(), 0);
});

test('the favicon is served, so no page logs a 404 for it', async (t) => {
  const server = await startTestServer(t);
  for (const path of ['/favicon.ico', '/favicon.svg']) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), 'image/svg+xml');
    assert.match(await res.text(), /^<svg /);
  }
});
