// The README's Python path end to end: examples/python/csv_to_sqlite.py as the server's
// processor, CSV uploads landing as rows in SQLite, and the demo page showing the bars.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { JobEvent } from '../server/protocol/types.js';
import { createJob, pollJob } from './helpers/http.js';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { pythonSkipReason } from './helpers/processes.js';
import { REPO_ROOT, startTestServer, tempDir } from './helpers/server.js';
import { connectWs } from './helpers/ws-client.js';

const skipPython = pythonSkipReason() ?? false;
const skipBrowser = skipPython || (browserSkipReason() ?? false);
const EXAMPLES = join(REPO_ROOT, 'examples/python');

function csv(rows: number): string {
  const lines = ['id,name,score'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},"name, ${i}",${i % 100}`);
  return lines.join('\n') + '\n';
}

test('csv_to_sqlite: every row of every file lands in SQLite, with live progress', { skip: skipPython }, async (t) => {
  const dir = await tempDir(t);
  const db = join(dir, 'rows.sqlite3');
  // The example reads CSV_DB when it starts; the server's children inherit this environment.
  process.env.CSV_DB = db;
  t.after(() => delete process.env.CSV_DB);
  const server = await startTestServer(t, { processorDir: EXAMPLES, processor: 'csv_to_sqlite', progressIntervalMs: 20 });
  const client = await connectWs(t, server.url);
  const job = await createJob(server.url, [
    { name: 'big.csv', content: csv(50_000) },
    { name: 'people.csv', content: csv(20) },
  ]);
  await client.subscribe(job.id);
  const final = (await client.untilFinal(job.id, 60_000)).snapshot!;
  assert.equal(final.status, 'completed');
  assert.deepEqual(final.files.map((f) => (f.result as { rows: number }).rows), [50_000, 20]);
  assert.deepEqual((final.files[0]!.result as { columns: string[] }).columns, ['id', 'name', 'score']);
  const progress = client.received.filter((m): m is JobEvent => m.type === 'event' && m.name === 'file.progress');
  assert.ok(progress.length >= 1, 'the big file reported progress');

  const rows = new Database(db, { readonly: true });
  t.after(() => rows.close());
  assert.equal((rows.prepare('SELECT count(*) AS n FROM rows WHERE job = ?').get(job.id) as { n: number }).n, 50_020);
  const row = rows.prepare("SELECT data FROM rows WHERE file = 'people.csv' AND line = 3").get() as { data: string };
  assert.deepEqual(JSON.parse(row.data), { id: '2', name: 'name, 2', score: '2' });
});

test('the demo page runs the Python processor and shows each file done', { skip: skipBrowser }, async (t) => {
  const dir = await tempDir(t);
  process.env.CSV_DB = join(dir, 'rows.sqlite3');
  t.after(() => delete process.env.CSV_DB);
  // Launched first, so that it closes first: the page must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { processorDir: EXAMPLES, processor: 'csv_to_sqlite', progressIntervalMs: 50 });
  const page = await openPage(t, browser, server.url);
  await page.locator('#processor option', { hasText: 'csv_to_sqlite' }).waitFor({ state: 'attached' });
  assert.equal(await page.locator('#processor').inputValue(), 'csv_to_sqlite', 'the server default is preselected');
  await page.setInputFiles('#files', [
    { name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv(100_000)) },
    { name: 'small.csv', mimeType: 'text/csv', buffer: Buffer.from(csv(10)) },
  ]);
  await page.click('#start');
  await page.waitForURL(/\?job=/);
  await page.locator('.job .status', { hasText: /^completed/ }).waitFor();
  const bars = await page.locator('.file [role="progressbar"]').evaluateAll((els) => els.map((b) => b.getAttribute('aria-valuenow')));
  assert.deepEqual(bars, ['100', '100']);
  const id = new URL(page.url()).searchParams.get('job')!;
  const final = await pollJob(server.url, id);
  assert.deepEqual(final.files.map((f) => (f.result as { rows: number }).rows), [100_000, 10]);
  await screenshot(page, 'python-processor');
});
