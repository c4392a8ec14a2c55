// Benchmark child: one real jobcast server (startServer, what `npm start` runs) on the
// store it is given (sqlite:PATH, or redis://... with a key prefix shared by every child
// of a configuration), with synthetic jobs: created and appended to through the server's
// log, as the job runner does (store append, then the feed), and never queued, so no
// processor touches them. Several children on one Redis are several processes of one
// cluster: each reads the whole cluster's feed, as a deployment's processes do.
//
// With Redis, a created job is in the cluster's queue at once, and a free scheduler would
// claim it and run it. So each child first fills its one job slot (--concurrency 1) with
// a real upload held by the `gated` test processor, which never ends here (`gate`); the
// synthetic jobs are created once every child runs its gate, and no scheduler claims them.
//
// Commands: `gate`, `running`; `jobs` creates running jobs; `flood` appends to its jobs as fast as it can for
// a while, one chain of appends per job (a job's seq is serial); `paced` appends at a
// steady rate with the send time in each event, for the latency measure; `rss`.
//
// Usage (from bench/cluster.js): node node.js STORE PREFIX

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/app.js';
import { DEFAULTS, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import type { JobLog } from '../../server/jobs/job-log.js';
import { FIXTURE_PROCESSORS } from '../../test/helpers/server.js';
import { serveParent } from '../lib/ipc.js';
import { preciseNow, type FloodArgs, type NodeReady, type PacedArgs } from './shared.js';

const FILE_SIZE = 1_000_000_000;

function progress(done: number, sentAt: number) {
  return { name: 'file.progress' as const, data: { file: 0, done, total: FILE_SIZE, fraction: done / FILE_SIZE, rate: null, etaMs: null, jobEtaMs: null, sentAt } };
}

class Synthetic {
  readonly ids: string[] = [];
  private done = 0;

  constructor(private readonly log: JobLog) {}

  async jobs({ count, tag }: { count: number; tag: string }): Promise<string[]> {
    for (let i = 0; i < count; i++) {
      const id = `bench${tag}_${String(this.ids.length).padStart(8, '0')}`;
      await this.log.create(id, {
        name: 'job.queued',
        data: { processor: 'sha256', label: 'cluster bench', failFast: false, files: [{ index: 0, name: 'bench.bin', size: FILE_SIZE, type: 'application/octet-stream' }], position: 1 },
      });
      await this.log.append(id, { name: 'job.started', data: {} });
      await this.log.append(id, { name: 'file.started', data: { file: 0 } });
      this.ids.push(id);
    }
    return this.ids;
  }

  /** Appends back to back on every job at once for `ms`; resolves with the events appended and the time taken. */
  async flood({ ms }: FloodArgs): Promise<{ events: number; ms: number }> {
    const started = performance.now();
    const until = started + ms;
    let events = 0;
    const chain = async (id: string): Promise<void> => {
      while (performance.now() < until) {
        await this.log.append(id, progress(++this.done, 0));
        events++;
      }
    };
    await Promise.all(this.ids.map(chain));
    return { events, ms: performance.now() - started };
  }

  /**
   * Appends `rate` events per second for `ms`, in ticks of 10 ms, each event carrying its
   * send time. Appends still in flight when the next tick comes are not waited for, so the
   * rate holds; a job's own appends queue up behind each other in the store, in order.
   */
  async paced({ rate, ms }: PacedArgs): Promise<{ events: number; maxInFlight: number }> {
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    let events = 0;
    let maxInFlight = 0;
    while (performance.now() - started < ms) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; events < due; events++) {
        const id = this.ids[events % this.ids.length]!;
        const append = this.log.append(id, progress(++this.done, preciseNow()));
        inFlight.add(append);
        void append.finally(() => inFlight.delete(append));
      }
      maxInFlight = Math.max(maxInFlight, inFlight.size);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(inFlight);
    return { events, maxInFlight };
  }
}

/** Uploads a one-file job that the `gated` processor holds mid-file for good. */
async function gate(url: string): Promise<string> {
  const form = new FormData();
  form.append('processor', 'gated');
  form.append('file', new Blob([new Uint8Array(16)]), 'gate.bin');
  const res = await fetch(`${url}/jobs`, { method: 'POST', body: form });
  if (res.status !== 202) throw new Error(`the gate upload answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function main(): Promise<void> {
  const [store, prefix] = process.argv.slice(2) as [string, string];
  const dir = mkdtempSync(join(tmpdir(), 'jobcast-bench-cluster-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config: Config = Object.freeze({
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    store: store === 'sqlite' ? `sqlite:${join(dir, 'jobcast.db')}` : store,
    redisPrefix: prefix,
    spoolDir: join(dir, 'spool'),
    // One job at a time: the gate. One thread keeps the process small.
    concurrency: 1,
    workers: 1,
    processorDir: FIXTURE_PROCESSORS,
    retentionMs: null,
    // Every subscriber of the benchmark comes from 127.0.0.1, tens of thousands of them.
    maxConnections: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
    logLevel: 'silent',
  } as Config);
  const server = await startServer(config, { logger: createLogger('silent') });
  const synthetic = new Synthetic(server.log);
  serveParent(
    {
      gate: () => gate(server.url),
      running: async () => ((await (await fetch(`${server.url}/queue`)).json()) as { running: number }).running,
      jobs: (args: { count: number; tag: string }) => synthetic.jobs(args),
      flood: (args: FloodArgs) => synthetic.flood(args),
      paced: (args: PacedArgs) => synthetic.paced(args),
      append: async ({ id }: { id: string }) => (await server.log.append(id, progress(0, preciseNow()))).seq,
      connections: () => server.hub.size,
    },
    { url: server.url, pid: process.pid } satisfies NodeReady,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
