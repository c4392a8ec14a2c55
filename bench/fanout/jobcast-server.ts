// Benchmark child: a real jobcast server (startServer, the ws transport, the hub) with
// one synthetic job. Events go in the way the job runner puts them: service.log.append,
// through the store and the bus. The job is never enqueued, so the runner never touches it.
//
// When the server does not start for a reason of its settings (--engine uws where the
// engine is not there), the child says so in its ready message instead of failing.
//
// Usage (from bench/fanout.js): node --expose-gc jobcast-server.js ws|uws sqlite|memory

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/app.js';
import { ConfigError, DEFAULTS, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { serveParent } from '../lib/ipc.js';
import { BENCH_FILE, FIRST_PROGRESS_SEQ, JOB_ID, progressData, serverHandlers, type ServerReady } from './shared.js';

async function main(): Promise<void> {
  const engine = process.argv[2] === 'uws' ? 'uws' : 'ws';
  const storeKind = process.argv[3] === 'memory' ? 'memory' : 'sqlite';
  const dir = mkdtempSync(join(tmpdir(), 'jobcast-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config: Config = Object.freeze({
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    engine,
    store: storeKind === 'memory' ? 'memory' : `sqlite:${join(dir, 'jobcast.db')}`,
    spoolDir: join(dir, 'spool'),
    // The benchmark job never reaches the pool; one thread keeps the baseline small.
    workers: 1,
    retentionMs: null,
    // Every client of the benchmark comes from 127.0.0.1: the per-address cap (256 by
    // default) and the total cap would refuse most of them.
    maxConnections: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
    logLevel: 'silent',
  } as Config);
  let server;
  try {
    server = await startServer(config, { logger: createLogger('silent') });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return serveParent({}, { port: 0, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ, unavailable: err.message } satisfies ServerReady);
  }
  const { log } = server;

  await log.create(JOB_ID, {
    name: 'job.queued',
    data: { processor: 'sha256', label: 'fanout bench', failFast: false, files: [BENCH_FILE], position: 1 },
  });
  await log.append(JOB_ID, { name: 'job.started', data: {} });
  const started = await log.append(JOB_ID, { name: 'file.started', data: { file: 0 } });
  if (started.seq + 1 !== FIRST_PROGRESS_SEQ) throw new Error(`expected seq ${FIRST_PROGRESS_SEQ - 1}, the store says ${started.seq}`);

  const emit = async (seq: number): Promise<void> => {
    const snapshot = await log.append(JOB_ID, { name: 'file.progress', data: progressData(seq) });
    if (snapshot.seq !== seq) throw new Error(`appended seq ${snapshot.seq}, expected ${seq}`);
  };
  const ready: ServerReady = { port: server.port, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ };
  serveParent(serverHandlers(emit, () => server.hub.size, FIRST_PROGRESS_SEQ), ready);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
