// The demo pages end to end in headless Chromium: upload through the page, follow the
// job from a shared URL, survive a server restart, and watch the dashboard.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob } from './helpers/http.js';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
const skip = browserSkipReason() ?? false;
const KiB = 1024;
function file(name, size) {
    return { name, mimeType: 'application/octet-stream', buffer: Buffer.alloc(size, name.charCodeAt(0)) };
}
/** Waits until the job panel says `status`. */
async function jobStatus(page, status) {
    await page.locator('.job .status', { hasText: new RegExp(`^${status}`) }).waitFor();
}
async function fileBars(page) {
    return page.locator('.file [role="progressbar"]').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-valuenow') ?? ''));
}
async function uploadThroughPage(page, files, processor) {
    await page.locator('#processor option', { hasText: processor }).waitFor({ state: 'attached' });
    await page.selectOption('#processor', processor);
    await page.setInputFiles('#files', files);
    await page.click('#start');
    await page.waitForURL(/\?job=/);
    return new URL(page.url()).searchParams.get('job');
}
test('upload two files through the page: per-file bars reach 100% and the job completes', { skip }, async (t) => {
    const server = await startTestServer(t, { progressIntervalMs: 50 });
    const browser = await launchBrowser(t);
    const page = await openPage(t, browser, server.url);
    await page.locator('#connection[data-state="live"]').waitFor();
    const id = await uploadThroughPage(page, [file('alpha.bin', 300 * KiB), file('beta.bin', 200 * KiB)], 'delay');
    await jobStatus(page, 'completed');
    assert.deepEqual(await fileBars(page), ['100', '100']);
    assert.equal(await page.locator('.overall [role="progressbar"]').getAttribute('aria-valuenow'), '100');
    assert.equal(await page.locator('#upload-progress [role="progressbar"]').getAttribute('aria-valuenow'), '100');
    assert.match(await page.locator('.summary').innerText(), /2 of 2 files done/);
    assert.equal(await page.locator('.file .file-details', { hasText: 'took' }).count(), 2);
    const final = (await (await fetch(`${server.url}/jobs/${id}`)).json());
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
    const final = (await (await fetch(`${server.url}/jobs/${id}`)).json());
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.files.map((f) => f.name), ['nulbyte.bin', 'bell esc[1mbold.bin', 'del.bin', 'taband backspace.bin']);
});
test('the job URL opened in a second page mid-job converges to the same final state', { skip }, async (t) => {
    // `gated` holds the first file at half done until the test writes `release`, so the
    // second page opens mid-job however slow the machine is.
    const server = await startTestServer(t, { progressIntervalMs: 50, processorDir: FIXTURE_PROCESSORS });
    const browser = await launchBrowser(t);
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
    const first = await startTestServer(t, { progressIntervalMs: 50, shutdownGraceMs: 0 });
    const browser = await launchBrowser(t);
    const page = await openPage(t, browser, first.url);
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
test('the dashboard shows a job appear, run and finish, with a narrow window too', { skip }, async (t) => {
    const server = await startTestServer(t, { progressIntervalMs: 50, processorDir: FIXTURE_PROCESSORS });
    const browser = await launchBrowser(t);
    const page = await openPage(t, browser, `${server.url}/dashboard`, { width: 380, height: 800 });
    await page.locator('#connection[data-state="live"]').waitFor();
    // `gated` holds the job running until the test writes `release`.
    const job = await createJob(server.url, [{ name: 'x.bin', content: Buffer.alloc(600 * KiB) }], { processor: 'gated', label: 'dashboard demo' });
    const row = page.locator('#jobs tr', { hasText: 'dashboard demo' });
    await row.waitFor();
    await row.locator('td', { hasText: /^running/ }).waitFor();
    await writeFile(join(server.dir, 'release'), '');
    await row.locator('td', { hasText: /^completed$/ }).waitFor();
    assert.equal(await row.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
    assert.equal(await row.locator('a').getAttribute('href'), `/?job=${job.id}`);
    await screenshot(page, 'dashboard-narrow');
});
test('with --token the pages ask for it, then work', { skip }, async (t) => {
    const token = 'browser-test-token';
    const server = await startTestServer(t, { token });
    const browser = await launchBrowser(t);
    const page = await openPage(t, browser, `${server.url}/dashboard`);
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token-dialog input', token);
    await page.click('#token-dialog button[value="ok"]');
    await page.locator('#connection[data-state="live"]').waitFor();
    const upload = await openPage(t, browser, server.url);
    await upload.locator('#processor option', { hasText: 'sha256' }).waitFor({ state: 'attached' });
    await upload.setInputFiles('#files', [file('t.bin', 10 * KiB)]);
    await upload.click('#start');
    // The upload is refused with 401; the page asks, then retries with the token.
    await upload.locator('#token-dialog[open]').waitFor();
    await upload.fill('#token-dialog input', token);
    await upload.click('#token-dialog button[value="ok"]');
    await upload.waitForURL(/\?job=/);
    const id = new URL(upload.url()).searchParams.get('job');
    await jobStatus(upload, 'completed');
    await page.locator('#jobs tr a', { hasText: id }).waitFor();
    await screenshot(page, 'dashboard');
});
//# sourceMappingURL=browser.test.js.map