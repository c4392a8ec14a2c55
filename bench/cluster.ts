// Several processes on one Redis, measured against one process on SQLite, in one run on
// this machine: events appended per second under many concurrent jobs (Redis without
// persistence and with `appendfsync always`); the time from an append on one process to
// its delivery to a WebSocket subscriber of another, at 1,000 events/s; tiny jobs per
// second end to end; idle WebSocket subscribers held, spread over the processes; and the
// takeover of a job whose owner gets `kill -9`. Prints one table (SQLite beside Redis
// with 1 and with 3 processes) and writes bench/results/cluster.json.
//
// Options: --seconds N (each throughput measure, default 5), --subscribers N (per
// process, default 19500), --rounds N (takeovers, default 5), --only a,b (appends,
// latency, jobs, subscribers, takeover).

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';
import { formatTable, machineConditions, machineCpu, thousands, writeResults } from './lib/report.js';
import { measureFlood, measureLatency, startNodes, stopNodes, type FloodFigures, type LatencyFigures } from './cluster/appends.js';
import { measureTakeover, measureTinyJobs, startRedisServers, startSqliteServer, stopCluster, type TakeoverFigures, type TinyJobsFigures } from './cluster/end-to-end.js';
import { measureSubscribers, type SubscriberFigures } from './cluster/subscribers.js';

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    subscribers: { type: 'string', default: '19500' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: 'appends,latency,jobs,subscribers,takeover' },
  },
});
const SECONDS = Number(options.seconds);
const PER_PROCESS = Number(options.subscribers);
const ROUNDS = Number(options.rounds);
const ONLY = new Set(options.only.split(','));
/** Concurrent jobs appended to, over all the processes of a configuration. */
const FLOOD_JOBS = Number(process.env.FLOOD_JOBS ?? 90);
const LATENCY_RATE = 1000;

type Setup = 'sqlite' | 'redis1' | 'redis3';
const SETUPS: Array<{ key: Setup; processes: number; label: string }> = [
  { key: 'sqlite', processes: 1, label: 'SQLite, 1 process' },
  { key: 'redis1', processes: 1, label: 'Redis, 1 process' },
  { key: 'redis3', processes: 3, label: 'Redis, 3 processes' },
];

interface Figures {
  appends: Partial<Record<`${Setup}:${'off' | 'always'}`, FloodFigures>>;
  latency: Partial<Record<`${Setup}:${'off' | 'always'}`, LatencyFigures>>;
  tinyJobs: Partial<Record<Setup, TinyJobsFigures>>;
  subscribers: Partial<Record<Setup, SubscriberFigures>>;
  takeover: TakeoverFigures | null;
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The store URL of a setup: SQLite, or the Redis of that persistence. */
function storeOf(key: Setup, redis: RedisServer): string {
  return key === 'sqlite' ? 'sqlite' : redis.url;
}

async function storePhases(figures: Figures, redisOff: RedisServer, redisAlways: RedisServer): Promise<void> {
  for (const persistence of ['off', 'always'] as const) {
    const redis = persistence === 'off' ? redisOff : redisAlways;
    for (const setup of SETUPS) {
      // SQLite has no Redis persistence to change: measured once.
      if (setup.key === 'sqlite' && persistence === 'always') continue;
      const nodes = await startNodes(storeOf(setup.key, redis), setup.processes);
      try {
        const key = `${setup.key}:${persistence}` as const;
        if (ONLY.has('appends')) {
          log(`appends: ${setup.label}, persistence ${persistence}`);
          figures.appends[key] = await measureFlood(nodes, FLOOD_JOBS, SECONDS * 1000, setup.key === 'sqlite' ? null : redis.pid());
          log(`  ${thousands(figures.appends[key]!.eventsPerSecond)} events/s; CPU % jobcast ${figures.appends[key]!.cpuPercent.jobcast.join(', ')}, redis ${figures.appends[key]!.cpuPercent.redis ?? '-'}; machine idle ${figures.appends[key]!.machineIdlePercent}%`);
        }
        if (ONLY.has('latency')) {
          log(`latency: ${setup.label}, persistence ${persistence}`);
          figures.latency[key] = await measureLatency(nodes, LATENCY_RATE, 10_000);
          const l = figures.latency[key]!;
          log(`  p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.received}/${l.sent})`);
        }
      } finally {
        await stopNodes(nodes);
      }
    }
  }
}

async function tinyJobsPhase(figures: Figures, redisAlways: RedisServer): Promise<void> {
  for (const setup of SETUPS) {
    log(`tiny jobs: ${setup.label}`);
    if (setup.key === 'sqlite') {
      const { server, stop } = await startSqliteServer();
      figures.tinyJobs.sqlite = await measureTinyJobs([server.url], SECONDS * 2000, 16).finally(stop);
    } else {
      const cluster = await startRedisServers(redisAlways, setup.processes);
      figures.tinyJobs[setup.key] = await measureTinyJobs(cluster.servers.map((s) => s.url), SECONDS * 2000, 16).finally(() => stopCluster(cluster));
    }
    log(`  ${figures.tinyJobs[setup.key]!.jobsPerSecond} jobs/s, p50 ${figures.tinyJobs[setup.key]!.p50Ms} ms, p99 ${figures.tinyJobs[setup.key]!.p99Ms} ms`);
  }
}

async function subscribersPhase(figures: Figures, redisOff: RedisServer): Promise<void> {
  for (const setup of SETUPS) {
    log(`idle subscribers: ${setup.label}, ${thousands(PER_PROCESS)} per process`);
    const nodes = await startNodes(storeOf(setup.key, redisOff), setup.processes);
    try {
      figures.subscribers[setup.key] = await measureSubscribers(nodes, PER_PROCESS);
    } finally {
      await stopNodes(nodes);
    }
    const s = figures.subscribers[setup.key]!;
    log(`  held ${thousands(s.held)} (${s.perProcess.map(thousands).join(' + ')}), ${thousands(s.reached)} got the check event, ${s.failed} failed${s.firstError ? ` (${s.firstError})` : ''}, ${s.kibPerSubscriber} KiB each, ${s.connectSeconds} s to connect`);
  }
}

function table(figures: Figures): string {
  const cell = (value: string | undefined): string => value ?? '—';
  const appends = (p: 'off' | 'always') => (key: Setup) => {
    const f = figures.appends[`${key}:${p}`];
    return f && `${thousands(f.eventsPerSecond)}`;
  };
  const latency = (p: 'off' | 'always') => (key: Setup) => {
    const f = figures.latency[`${key}:${p}`];
    return f && `${f.p50Ms} / ${f.p99Ms} ms${f.isAcrossProcesses ? '' : ' (same process)'}`;
  };
  const takeover = figures.takeover;
  const sorted = takeover === null ? [] : [...takeover.requeuedMs].sort((a, b) => a - b);
  const rows: Array<[string, (key: Setup) => string | undefined]> = [
    ['events appended/s (Redis without persistence; SQLite WAL)', appends('off')],
    ['events appended/s, Redis appendfsync always', appends('always')],
    [`append to delivery p50 / p99 at ${thousands(LATENCY_RATE)}/s, another process (no persistence)`, latency('off')],
    [`append to delivery p50 / p99 at ${thousands(LATENCY_RATE)}/s, appendfsync always`, latency('always')],
    ['tiny jobs/s end to end (Redis appendfsync always)', (key) => figures.tinyJobs[key] && `${figures.tinyJobs[key]!.jobsPerSecond}`],
    ['idle WebSocket subscribers held (all got an event)', (key) => figures.subscribers[key] && `${thousands(figures.subscribers[key]!.reached)}`],
    [
      'takeover after kill -9 (lease 10 s), median (min-max)',
      (key) => (key === 'redis3' && sorted.length > 0 ? `${(sorted[sorted.length >> 1]! / 1000).toFixed(1)} s (${(sorted[0]! / 1000).toFixed(1)}-${(sorted.at(-1)! / 1000).toFixed(1)})` : undefined),
    ],
  ];
  return formatTable([['', ...SETUPS.map((s) => s.label)], ...rows.map(([label, value]) => [label, ...SETUPS.map((s) => cell(value(s.key)))])]);
}

async function main(): Promise<void> {
  // The cluster helpers stop each process they start when this one exits: one listener each.
  process.setMaxListeners(100);
  const loadBefore = uptime();
  log(`uptime before: ${loadBefore}`);
  const cpuAtStart = machineCpu.read();
  const figures: Figures = { appends: {}, latency: {}, tinyJobs: {}, subscribers: {}, takeover: null };
  const redisOff = await startRedis(null, { appendonly: false });
  const redisAlways = await startRedis(null, { appendonly: true, appendfsync: 'always' });
  if (ONLY.has('appends') || ONLY.has('latency')) await storePhases(figures, redisOff, redisAlways);
  if (ONLY.has('jobs')) await tinyJobsPhase(figures, redisAlways);
  if (ONLY.has('subscribers')) await subscribersPhase(figures, redisOff);
  if (ONLY.has('takeover')) {
    log(`takeover: ${ROUNDS} kills of a job's owner among 3 processes`);
    const cluster = await startRedisServers(redisAlways, 3);
    figures.takeover = await measureTakeover(cluster, ROUNDS).finally(() => stopCluster(cluster));
    log(`  requeued after ${figures.takeover.requeuedMs.join(', ')} ms; file restarted after ${figures.takeover.restartedMs.join(', ')} ms`);
  }
  const machine = machineCpu.since(cpuAtStart);
  const loadAfter = uptime();
  console.log(`\n${table(figures)}\n`);
  console.log(`machine: uptime before "${loadBefore}", after "${loadAfter}"; CPU over the run: ${machine.user}% user, ${machine.system}% system, ${machine.idle}% idle`);
  const path = writeResults('cluster', {
    date: new Date().toISOString(),
    machine: { ...machineConditions(), uptimeBefore: loadBefore, uptimeAfter: loadAfter, cpuOverRun: machine },
    settings: { seconds: SECONDS, floodJobs: FLOOD_JOBS, latencyRate: LATENCY_RATE, subscribersPerProcess: PER_PROCESS, takeoverRounds: ROUNDS },
    figures,
  });
  console.log(`results: ${path}`);
  await Promise.all([redisOff.kill(), redisAlways.kill()]);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
