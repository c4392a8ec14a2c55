// Abuse benchmark: one hostile client against a real server, attack by attack, and
// what it costs the server: its memory, and how fast `/healthz` answers meanwhile.
//
// For each attack, a fresh server (`dist/server/main.js` in a child process, sqlite
// store, spool in a temp folder, the flags the attack needs) gets the jobs the attack
// needs (a finished job of 1,000 files, or 30 waiting jobs of 1,000 files), then:
// 1. quiet: --seconds with no attack, the same health checks and RSS sampling;
// 2. attack: --seconds of the attack, run from its own process (bench/abuse/attacker.ts);
// 3. after: the attacker closes everything; --settle seconds later the RSS is read.
// Health checks run throughout, one after another on a keep-alive connection, each
// counted at most 30 s (the server did not answer); the p99 is given per phase. The
// attacks (bench/abuse/attacks.ts) are those of the review that found them: a
// WebSocket client flooding replies it never reads, `*` subscribes against a large
// queue, subscribe/unsubscribe churn, repeated subscribes to a large finished job,
// pipelined HTTP requests never read, trickled uploads holding every slot, and two
// more: deeply nested `options`, and bodies trickled into a route that takes none.
//
// Run: npm run build && node dist/bench/abuse.js [--seconds 10] [--settle 10]
//      [--attacks ws-flood,http-pipelined,...] [--engine ws|uws]
// Prints a table and writes bench/results/abuse.json (abuse-uws.json with --engine uws).

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildHandle } from './lib/ipc.js';
import { formatTable, machineConditions, writeResults } from './lib/report.js';
import { ATTACKS, NEEDS_TOKEN, type AttackName } from './abuse/attacks.js';
import { BENCH_TOKEN, largeFinishedJob, queuedLargeJobs } from './abuse/fixtures.js';
import { HealthProber, RssSampler } from './abuse/probe.js';
import { ServerProcess } from './lib/server-process.js';

interface Scenario {
  name: AttackName;
  /** What the attack is, for the table. */
  what: string;
  serverArgs: string[];
  setup: 'large' | 'queued' | null;
}

const SCENARIOS: Scenario[] = [
  { name: 'ws-flood', what: 'WebSocket: empty binary frames and pings, never reading', serverArgs: [], setup: null },
  { name: 'ws-star-burst', what: "WebSocket: 200 '*' subscribes per write, 30 queued 1,000-file jobs", serverArgs: [], setup: 'queued' },
  { name: 'ws-churn', what: "WebSocket: '*' subscribe/unsubscribe churn on 4 connections", serverArgs: [], setup: 'queued' },
  { name: 'ws-subscribe-finished', what: 'WebSocket: 2,000 subscribes per write to a finished 1,000-file job', serverArgs: ['--token', BENCH_TOKEN], setup: 'large' },
  { name: 'http-pipelined', what: 'HTTP: 2,000 pipelined GETs of a 1,000-file job, never read', serverArgs: [], setup: 'large' },
  { name: 'upload-trickle', what: 'HTTP: 4 uploads at a byte per 2 s (4 slots, 3 s idle timeout)', serverArgs: ['--max-concurrent-uploads', '4', '--upload-idle-timeout', '3s'], setup: null },
  { name: 'deep-options', what: 'HTTP: uploads with options 4,000 levels deep', serverArgs: [], setup: null },
  { name: 'body-trickle', what: 'HTTP: 50 bodies trickled into GET /healthz', serverArgs: [], setup: null },
];

const MiB = 1024 * 1024;

interface Row {
  attack: AttackName;
  what: string;
  idleRssMiB: number;
  quiet: { peakRssMiB: number; rssAfterMiB: number; healthzP99Ms: number | null; healthChecks: number };
  attackPhase: { peakRssMiB: number; rssAfterMiB: number; healthzP99Ms: number | null; healthChecks: number; afterHealthzP99Ms: number | null };
  attackerSaw: string;
}

function readSettings() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      settle: { type: 'string', default: '10' },
      attacks: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
      engine: { type: 'string', default: 'ws' },
    },
  });
  if (values.engine !== 'ws' && values.engine !== 'uws') throw new Error(`--engine takes ws or uws; got '${values.engine}'`);
  const names = values.attacks!.split(',').map((name) => name.trim());
  for (const name of names) if (!(name in ATTACKS)) throw new Error(`--attacks: no attack '${name}'; known: ${Object.keys(ATTACKS).join(', ')}`);
  return { seconds: Number(values.seconds), settleSeconds: Number(values.settle), attacks: names as AttackName[], engine: values.engine };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => Number((bytes / MiB).toFixed(0));

async function runScenario(scenario: Scenario, attacker: ChildHandle, engine: string, seconds: number, settleSeconds: number): Promise<Row> {
  const server = new ServerProcess('abuse');
  try {
    await server.start(['--engine', engine, '--workers', '1', '--retention', 'none', ...scenario.serverArgs]);
    let largeJob: string | null = null;
    if (scenario.setup === 'large') largeJob = await largeFinishedJob(server.url);
    if (scenario.setup === 'queued') await queuedLargeJobs(server.url, 30);
    // A second of health checks before measuring: the first ones pay for warming up.
    const prober = new HealthProber(server.port);
    await sleep(1000);
    const idleRss = server.rss();
    const sampler = new RssSampler(() => server.rss());

    const quietStart = performance.now();
    await sleep(seconds * 1000);
    const quietEnd = performance.now();
    const quietPeak = sampler.takePeak();
    const quietAfter = server.rss();

    await attacker.request('start', { name: scenario.name, target: { port: server.port, largeJob } }, 60_000);
    const attackStart = performance.now();
    await sleep(seconds * 1000);
    const attackerSaw = await attacker.request<string>('stop', null, 60_000);
    const attackEnd = performance.now();
    const attackPeak = sampler.takePeak();
    await sleep(settleSeconds * 1000);
    const attackAfter = server.rss();
    const settleEnd = performance.now();
    sampler.stop();
    await prober.stop();

    const quiet = prober.p99(quietStart, quietEnd);
    const during = prober.p99(attackStart, attackEnd);
    const after = prober.p99(attackEnd, settleEnd);
    return {
      attack: scenario.name,
      what: scenario.what,
      idleRssMiB: mib(idleRss),
      quiet: { peakRssMiB: mib(quietPeak), rssAfterMiB: mib(quietAfter), healthzP99Ms: quiet.p99Ms, healthChecks: quiet.count },
      attackPhase: {
        peakRssMiB: mib(Math.max(attackPeak, attackAfter)),
        rssAfterMiB: mib(attackAfter),
        healthzP99Ms: during.p99Ms,
        healthChecks: during.count,
        afterHealthzP99Ms: after.p99Ms,
      },
      attackerSaw,
    };
  } finally {
    await server.stop();
  }
}

function table(rows: Row[]): string {
  const ms = (value: number | null) => (value === null ? 'none finished' : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value} ms`);
  return formatTable([
    ['attack', 'peak RSS MiB quiet / attack', 'RSS after MiB quiet / attack', '/healthz p99 quiet / attack / after', 'the attacker saw'],
    ...rows.map((r) => [
      r.attack,
      `${r.quiet.peakRssMiB} / ${r.attackPhase.peakRssMiB}`,
      `${r.quiet.rssAfterMiB} / ${r.attackPhase.rssAfterMiB}`,
      `${ms(r.quiet.healthzP99Ms)} / ${ms(r.attackPhase.healthzP99Ms)} / ${ms(r.attackPhase.afterHealthzP99Ms)}`,
      r.attackerSaw,
    ]),
  ]);
}

async function main(): Promise<void> {
  const settings = readSettings();
  const attackerPath = fileURLToPath(new URL('./abuse/attacker.js', import.meta.url));
  const attacker = ChildHandle.fork('attacker', attackerPath, []);
  await attacker.ready;
  const rows: Row[] = [];
  try {
    for (const name of settings.attacks) {
      const scenario = SCENARIOS.find((s) => s.name === name)!;
      console.log(`  ${name}: ${scenario.what}${NEEDS_TOKEN.has(name) ? ' (server with --token)' : ''}...`);
      const row = await runScenario(scenario, attacker, settings.engine, settings.seconds, settings.settleSeconds);
      console.log(`    peak RSS ${row.quiet.peakRssMiB} -> ${row.attackPhase.peakRssMiB} MiB, /healthz p99 ${row.quiet.healthzP99Ms} -> ${row.attackPhase.healthzP99Ms} ms; ${row.attackerSaw}`);
      rows.push(row);
    }
  } finally {
    await attacker.stop();
  }
  console.log(`\nEngine ${settings.engine}. One client, ${settings.seconds} s per phase (quiet, then attack), RSS after = ${settings.settleSeconds} s after the attacker left:\n`);
  console.log(table(rows));
  const path = writeResults(settings.engine === 'ws' ? 'abuse' : `abuse-${settings.engine}`, { settings, machine: machineConditions(), rows });
  console.log(`\nwrote ${path}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
