// Dashboard benchmark: how busy the page's main thread is with 1,000 jobs in view and
// 200 of them running at 10 progress events per second each (2,000 events/s), beside
// baselines measured in the same run on the same machine:
//
// - `dashboard, idle`: the same 1,000 jobs in view, no events: what the page costs at rest
//   (its once-a-second charts and clocks).
// - `dashboard, under load`: the case itself.
// - `SDK only, watchAllChanges`: a blank page whose only script is the client SDK
//   following `*` job by job, drawing nothing: the floor any page pays to receive and
//   fold 2,000 events/s (WebSocket frames, JSON, the reducer).
// - `SDK only, watchAll`: the same with watchAll(), which hands a fresh map of every
//   job to its listener after each event (what the dashboard used before).
//
// The server runs in this process on the memory store. Jobs are synthetic (written to
// the job log directly, as tests do, see test/helpers/synthetic-job.ts): 800 finished,
// then 200 running that get one `file.progress` each every 100 ms. The page runs in
// headless Chromium (playwright-core, /usr/bin/chromium); its main thread is measured
// over each window with the DevTools Protocol (Performance.getMetrics: TaskDuration,
// ScriptDuration, LayoutDuration, RecalcStyleDuration), long tasks (over 50 ms) with a
// PerformanceObserver installed before the page's scripts, and frames per second with
// requestAnimationFrame. The figures depend on the machine's other load: compare rows
// of one run, not runs.
//
// Run: npm run build && node dist/bench/dashboard.js [--seconds 15] [--running 200] [--finished 800]
// Prints a table and writes bench/results/dashboard.json.

import { build } from 'esbuild';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.js';
import { DEFAULTS } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob } from '../test/helpers/synthetic-job.js';
import { formatTable, machineConditions, machineCpu, writeResults } from './lib/report.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const EVENT_INTERVAL_MS = 100;
const FILE_BYTES = 1_000_000;

interface Window {
  name: string;
  seconds: number;
  /** Main-thread time in tasks, % of the window. */
  busyPercent: number;
  scriptPercent: number;
  layoutAndStylePercent: number;
  longTasks: number;
  longTaskMaxMs: number;
  longTaskTotalMs: number;
  framesPerSecond: number;
  eventsSent: number;
  machineCpu: ReturnType<typeof machineCpu.since>;
}

/** Counts long tasks and frames in the page from the start, before any page script runs. */
const PAGE_PROBES = `
  window.__bench = { longTasks: [], frames: 0 };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
  const frame = () => { window.__bench.frames++; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
`;

function readSettings() {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '15' }, running: { type: 'string', default: '200' }, finished: { type: 'string', default: '800' } },
  });
  const int = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got '${values[name]}'`);
    return n;
  };
  return { seconds: int('seconds'), running: int('running'), finished: int('finished') };
}

/** 200 running jobs, each getting a file.progress every 100 ms, until stop() is called. */
function startLoad(server: RunningServer, running: readonly string[]): { stop(): Promise<void>; sent(): number } {
  let sent = 0;
  let tick = 0;
  let isStopped = false;
  let pending = Promise.resolve();
  const timer = setInterval(() => {
    tick++;
    // Cycles through 1..99% so that no job ever ends.
    const done = ((tick % 99) + 1) * (FILE_BYTES / 100);
    pending = Promise.all(running.map((id) => appendProgress(server, id, done, FILE_BYTES))).then(() => {
      if (!isStopped) sent += running.length;
    });
  }, EVENT_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      isStopped = true;
    },
    sent: () => sent,
  };
}

/** Measures the page's main thread over `seconds`, with `load` running or not. */
async function measure(page: Page, name: string, seconds: number, load: { sent(): number } | null): Promise<Window> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const probes = () => page.evaluate('({ longTasks: window.__bench.longTasks.slice(), frames: window.__bench.frames })') as Promise<{ longTasks: number[]; frames: number }>;
  const before = { metrics: await metrics(), probes: await probes(), sent: load?.sent() ?? 0, cpu: machineCpu.read(), at: performance.now() };
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = { metrics: await metrics(), probes: await probes(), sent: load?.sent() ?? 0, at: performance.now() };
  const cpu = machineCpu.since(before.cpu);
  await cdp.detach();
  const wallS = (after.at - before.at) / 1000;
  const pct = (key: string) => Math.round(((after.metrics[key]! - before.metrics[key]!) / wallS) * 1000) / 10;
  const longTasks = after.probes.longTasks.slice(before.probes.longTasks.length);
  return {
    name,
    seconds: Math.round(wallS * 10) / 10,
    busyPercent: pct('TaskDuration'),
    scriptPercent: pct('ScriptDuration'),
    layoutAndStylePercent: Math.round((pct('LayoutDuration') + pct('RecalcStyleDuration')) * 10) / 10,
    longTasks: longTasks.length,
    longTaskMaxMs: Math.round(Math.max(0, ...longTasks)),
    longTaskTotalMs: Math.round(longTasks.reduce((a, b) => a + b, 0)),
    framesPerSecond: Math.round((after.probes.frames - before.probes.frames) / wallS),
    eventsSent: after.sent - before.sent,
    machineCpu: cpu,
  };
}

async function openDashboard(browser: Browser, url: string, jobs: number): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.addInitScript(PAGE_PROBES);
  await page.goto(`${url}/dashboard`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 60_000 });
  // `*` carries the running jobs and 100 finished ones; older ones come page by page.
  for (;;) {
    const count = Number(((await page.locator('#list-count').innerText()).match(/^(\d+)/) ?? ['', '0'])[1]);
    if (count >= jobs) break;
    await page.locator('#load-older:not([hidden]):not([disabled])').click({ timeout: 60_000 });
    // The button is disabled while its page loads (a page may hold only jobs already in view).
    await page.waitForFunction("!document.querySelector('#load-older').disabled", undefined, { timeout: 60_000 });
  }
  return page;
}

/** A page of the server's origin running only the SDK, following `*` with `method`. */
async function openSdkPage(browser: Browser, url: string, sdk: string, method: 'watchAll' | 'watchAllChanges'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.addInitScript(PAGE_PROBES);
  // A document the server itself serves (a page that Playwright made up would count as
  // public, and Chromium then blocks its connections to loopback): /healthz's JSON.
  await page.goto(`${url}/healthz`);
  await page.addScriptTag({ content: sdk });
  await page.evaluate(
    ([origin, how]) => {
      const api = (globalThis as unknown as { jobcast: typeof import('../client/jobcast-client.js') }).jobcast;
      const client = api.createClient({ url: origin! });
      const state = { changes: 0, live: false };
      (globalThis as unknown as { __sdk: typeof state }).__sdk = state;
      client.onConnectionState((s) => (state.live = s === 'live'));
      if (how === 'watchAll') client.watchAll(() => state.changes++);
      else client.watchAllChanges(() => state.changes++);
    },
    [url, method],
  );
  await page.waitForFunction('globalThis.__sdk.live', undefined, { timeout: 60_000 });
  return page;
}

async function bundleSdk(): Promise<string> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: ['client/jobcast-client.ts'],
    bundle: true,
    format: 'iife',
    globalName: 'jobcast',
    target: 'es2020',
    write: false,
    minify: true,
  });
  return result.outputFiles[0]!.text;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-bench-dashboard-'));
  const server = await startServer(
    { ...DEFAULTS, port: 0, store: 'memory', spoolDir: join(dir, 'spool'), workers: 1, logLevel: 'silent', retentionMs: null },
    { logger: createLogger('silent') },
  );
  const browser = await chromium.launch({
    executablePath: process.env.JOBCAST_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const windows: Window[] = [];
  try {
    for (let i = 0; i < settings.finished; i++) await finishSyntheticJob(server, await createSyntheticJob(server, FILE_BYTES));
    const running: string[] = [];
    for (let i = 0; i < settings.running; i++) running.push(await createSyntheticJob(server, FILE_BYTES));
    const jobs = settings.finished + settings.running;
    console.log(`${jobs} jobs (${settings.running} running); ${settings.seconds} s per window`);

    const dashboard = await openDashboard(browser, server.url, jobs);
    windows.push(await measure(dashboard, 'dashboard, idle', settings.seconds, null));
    let load = startLoad(server, running);
    windows.push(await measure(dashboard, 'dashboard, under load', settings.seconds, load));
    await load.stop();
    await dashboard.context().close();

    const sdk = await bundleSdk();
    for (const method of ['watchAllChanges', 'watchAll'] as const) {
      const page = await openSdkPage(browser, server.url, sdk, method);
      load = startLoad(server, running);
      windows.push(await measure(page, `SDK only, ${method}`, settings.seconds, load));
      await load.stop();
      await page.context().close();
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  report(windows, settings);
}

function report(windows: Window[], settings: ReturnType<typeof readSettings>): void {
  const rows: Array<Array<string | number>> = [
    ['', 'main thread busy', 'script', 'layout+style', 'long tasks', 'longest', 'frames/s', 'events/s sent', 'machine idle'],
    ...windows.map((w) => [
      w.name,
      `${w.busyPercent}%`,
      `${w.scriptPercent}%`,
      `${w.layoutAndStylePercent}%`,
      `${w.longTasks} (${w.longTaskTotalMs} ms)`,
      `${w.longTaskMaxMs} ms`,
      w.framesPerSecond,
      Math.round(w.eventsSent / w.seconds),
      `${w.machineCpu.idle}%`,
    ]),
  ];
  console.log(formatTable(rows));
  const path = writeResults('dashboard', { settings, machine: machineConditions(), windows });
  console.log(`results: ${path}`);
}

await main();
