// Responsiveness benchmark (SPEC 7): how fast /healthz answers while every worker thread
// runs a CPU-bound processor, next to the same server with idle workers, in one run.
//
// The server runs in its own process (`dist/server/main.js`, sqlite store, spool in a
// temp folder, --workers and --concurrency both --workers), with the test fixtures as
// processors. Three phases, each --requests sequential GET /healthz on one keep-alive
// connection after --warmup unmeasured ones:
// 1. idle: no job;
// 2. busy (cpu): one job per worker of the `cpu` fixture, which hashes in 25 ms slices
//    and yields between them;
// 3. busy (spin): one job per worker of the `busy` fixture, which spins without ever
//    yielding (only terminating its thread stops it).
// The busy phases start once every job has reported progress (its processor is in its
// loop). The test suite proves by order that the server answers while every worker
// spins (test/responsiveness.test.ts); this script gives the figures.
//
// Run: npm run build && node dist/bench/responsiveness.js [--requests 1000] [--warmup 50] [--workers 2]
// Prints a table and writes bench/results/responsiveness.json.

import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ServerProcess } from './lib/server-process.js';
import { formatTable, machineConditions, machineCpu, quantile, writeResults } from './lib/report.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/processors/', import.meta.url));
const BOUNDARY = 'jobcast-bench-responsiveness';

interface Settings {
  requests: number;
  warmup: number;
  workers: number;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '50' },
      workers: { type: 'string', default: String(Math.max(2, cpus().length)) },
    },
  });
  return { requests: Number(values.requests), warmup: Number(values.warmup), workers: Number(values.workers) };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function call(port: number, method: string, path: string, body?: Buffer, headers: Record<string, string | number> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function createJob(port: number, processor: string, options: object): Promise<string> {
  const body = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="processor"\r\n\r\n${processor}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="options"\r\n\r\n${JSON.stringify(options)}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`,
  );
  const { status, text } = await call(port, 'POST', '/jobs', body, { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length });
  if (status !== 202) throw new Error(`upload answered ${status}: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** Waits until the job's file has reported progress: its processor is in its loop. */
async function untilInLoop(port: number, id: string): Promise<void> {
  for (;;) {
    const { text } = await call(port, 'GET', `/jobs/${id}`);
    const snapshot = JSON.parse(text) as { files: Array<{ status: string }>; seq: number };
    // job.queued, job.started, file.started, then file.progress.
    if (snapshot.files[0]!.status === 'running' && snapshot.seq >= 4) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Phase {
  phase: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  machineCpu: ReturnType<typeof machineCpu.since>;
}

/** `requests` sequential GET /healthz after `warmup` unmeasured ones; latencies in 0.01 ms steps. */
async function measure(port: number, phase: string, settings: Settings): Promise<Phase> {
  for (let i = 0; i < settings.warmup; i++) await call(port, 'GET', '/healthz');
  const cpuBefore = machineCpu.read();
  const histogram = new Map<number, number>();
  let maxMs = 0;
  for (let i = 0; i < settings.requests; i++) {
    const startedAt = performance.now();
    const { status } = await call(port, 'GET', '/healthz');
    const ms = Math.round((performance.now() - startedAt) * 100) / 100;
    if (status !== 200) throw new Error(`/healthz answered ${status}`);
    histogram.set(ms, (histogram.get(ms) ?? 0) + 1);
    maxMs = Math.max(maxMs, ms);
  }
  return { phase, p50Ms: quantile(histogram, 0.5)!, p99Ms: quantile(histogram, 0.99)!, maxMs, machineCpu: machineCpu.since(cpuBefore) };
}

async function busyPhase(server: ServerProcess, settings: Settings, processor: 'cpu' | 'busy'): Promise<Phase> {
  const ids: string[] = [];
  for (let i = 0; i < settings.workers; i++) ids.push(await createJob(server.port, processor, { ms: 3_600_000 }));
  for (const id of ids) await untilInLoop(server.port, id);
  const phase = await measure(server.port, `${settings.workers} workers busy (${processor})`, settings);
  for (const id of ids) await call(server.port, 'POST', `/jobs/${id}/cancel`);
  // `busy` ignores the signal: its thread is terminated a second after the cancel.
  for (const id of ids) {
    for (;;) {
      const { text } = await call(server.port, 'GET', `/jobs/${id}`);
      if ((JSON.parse(text) as { status: string }).status === 'cancelled') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return phase;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const server = new ServerProcess('responsiveness');
  try {
    await server.start(['--workers', String(settings.workers), '--concurrency', String(settings.workers), '--processor-dir', FIXTURES]);
    const phases = [
      await measure(server.port, 'idle workers', settings),
      await busyPhase(server, settings, 'cpu'),
      await busyPhase(server, settings, 'busy'),
    ];
    console.log(`\nGET /healthz, ${settings.requests} sequential requests per phase, one keep-alive connection, loopback\n`);
    console.log(
      formatTable([
        ['', 'p50 ms', 'p99 ms', 'max ms', 'machine CPU user/system/idle %'],
        ...phases.map((p) => [p.phase, p.p50Ms, p.p99Ms, p.maxMs, `${p.machineCpu.user}/${p.machineCpu.system}/${p.machineCpu.idle}`]),
      ]),
    );
    const path = writeResults('responsiveness', { settings, machine: machineConditions(), phases });
    console.log(`\nwrote ${path}`);
  } finally {
    agent.destroy();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
