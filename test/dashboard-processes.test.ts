// The dashboard's processes panel and the process named on each running job's row, in
// headless Chromium: one process on a local store, then two servers and a worker on a
// real Redis (a worker stopped with SIGSTOP is marked as not reporting, and unmarked once
// it runs again). Every page fails its test on any console error or failed request
// (helpers/browser.ts). The `gated` processor holds files until the test releases them.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { ProcessInfo, QueueStats } from '../server/protocol/types.js';
import { until } from './contracts/events.js';
import { browserSkipReason, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { startCluster } from './helpers/cluster.js';
import { createJob } from './helpers/http.js';
import { HANG_MS } from './helpers/patience.js';
import { redisSkipReason } from './helpers/redis.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

const browserSkip = browserSkipReason() ?? false;
const clusterSkip = browserSkip || (redisSkipReason() ?? false);

function jobRow(page: Page, id: string): Locator {
  return page.locator(`#job-rows [role="row"][data-job="${id}"]`);
}

function processRow(page: Page, p: ProcessInfo): Locator {
  return page.locator(`#processes tbody tr[data-process="${p.id}"]`);
}

async function processesOf(url: string): Promise<ProcessInfo[]> {
  return ((await (await fetch(`${url}/queue`)).json()) as QueueStats).processes ?? [];
}

test('one process: the panel shows it, and a running job row names it', { skip: browserSkip }, async (t) => {
  // Launched first, so that it closes first: pages must not see the server go away.
  const browser = await launchBrowser(t);
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS, concurrency: 2 });
  const page = await openPage(t, browser, `${server.url}/dashboard`);
  const name = `${hostname()}/${process.pid}`;
  await page.locator('#processes:not([hidden]) h2', { hasText: 'Processes (1)' }).waitFor();
  const rows = page.locator('#processes tbody tr');
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.locator('.process-name').innerText(), name);
  assert.equal(await rows.locator('.process-role').innerText(), 'server');
  assert.match(await rows.locator('.process-workers').innerText(), /^0 of \d+$/);
  assert.match(await rows.locator('time').innerText(), /just now|sec/);

  const job = await createJob(server.url, [{ name: 'held.bin', content: Buffer.alloc(4096) }], { processor: 'gated' });
  await jobRow(page, job.id).locator('.status-detail', { hasText: new RegExp(`^on ${name}$`) }).waitFor();
  assert.match((await jobRow(page, job.id).locator('.status-detail').getAttribute('title')) ?? '', new RegExp(`^running on server ${name} \\(`));
  await rows.locator('.process-jobs', { hasText: /^1 of 2$/ }).waitFor();
  await rows.locator('.process-workers', { hasText: /^1 of / }).waitFor();
  assert.match((await rows.locator('.process-jobs').getAttribute('title')) ?? '', new RegExp(job.id));
  await page.locator('#stat-slots', { hasText: 'of 2 slots' }).waitFor();

  await writeFile(join(server.dir, 'release'), '');
  await jobRow(page, job.id).locator('.status', { hasText: /^completed$/ }).waitFor();
  assert.equal(await jobRow(page, job.id).locator('.status-detail').innerText(), '', 'a finished job names no process');
  await rows.locator('.process-jobs', { hasText: /^0 of 2$/ }).waitFor();
});

test('two servers and a worker: the panel lists all three, each running job names its process, a stopped one is marked', { skip: clusterSkip, timeout: 10 * HANG_MS }, async (t) => {
  const browser = await launchBrowser(t);
  // A long lease: a process silent for two heartbeats (10 s) stays listed, marked, until its report expires (30 s).
  const cluster = await startCluster(t, { servers: 2, workers: 1, lease: '30s' });
  const entry = cluster.servers[0]!;
  const page = await openPage(t, browser, `${entry.url}/dashboard`);
  await page.locator('#processes h2', { hasText: 'Processes (3)' }).waitFor();

  // One job per process (--concurrency 1 each), held until released.
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await createJob(entry.url, [{ name: `held-${i}.bin`, content: `held ${i}` }], { processor: 'gated' })).id);
  let processes: ProcessInfo[] = [];
  await until(
    async () => {
      processes = await processesOf(entry.url);
      return processes.filter((p) => p.jobs.length === 1).length === 3;
    },
    'each process to run a job',
    HANG_MS,
  );
  for (const p of processes) {
    const row = processRow(page, p);
    assert.equal(await row.locator('.process-name').innerText(), `${hostname()}/${p.pid}`);
    assert.equal(await row.locator('.process-role').innerText(), p.role);
    const expectedRole = cluster.all.find((c) => c.pid === p.pid)!.role === 'serve' ? 'server' : 'worker';
    assert.equal(p.role, expectedRole);
    await row.locator('.process-jobs', { hasText: /^1 of 1$/ }).waitFor();
    await row.locator('.process-workers', { hasText: /^1 of 2$/ }).waitFor();
    const owner = jobRow(page, p.jobs[0]!).locator('.status-detail', { hasText: `on ${hostname()}/${p.pid}` });
    await owner.waitFor();
    assert.match((await owner.getAttribute('title')) ?? '', new RegExp(`^running on ${p.role} ${hostname()}/${p.pid} \\(${p.id}\\)`));
  }
  await screenshot(page, 'dashboard-processes');

  // A worker that stops reporting is marked (and so is the job it holds), then unmarked when it runs again.
  const worker = processes.find((p) => p.role === 'worker')!;
  cluster.workers[0]!.signal('SIGSTOP');
  await processRow(page, worker).locator('.stale-mark:not([hidden])').waitFor();
  assert.equal(await processRow(page, worker).getAttribute('data-reporting'), 'false');
  await jobRow(page, worker.jobs[0]!).locator('.status-detail[data-reporting="false"]', { hasText: 'not reporting' }).waitFor();
  assert.equal(await page.locator('#processes tbody tr[data-reporting="false"]').count(), 1, 'only the stopped one');
  cluster.workers[0]!.signal('SIGCONT');
  await processRow(page, worker).locator('.stale-mark[hidden]').waitFor({ state: 'attached' });
  await jobRow(page, worker.jobs[0]!).locator('.status-detail[data-reporting="true"]', { hasText: new RegExp(`^on ${hostname()}/${worker.pid}$`) }).waitFor();

  await writeFile(join(cluster.dir, 'release'), '');
  for (const id of ids) await jobRow(page, id).locator('.status', { hasText: /^completed$/ }).waitFor();
});
