// Fan-out benchmark: jobcast's hub against bare broadcasts, side by side, in one run.
//
// Servers, each in its own child process with client processes of its own (so client
// work never shares the server's event loop; it does share the machine's cores):
// - bare ws: `for (const c of wss.clients) c.send(buf)`, the buffer made once;
// - bare uWS: `app.publish(topic, buf)` to every client subscribed to one topic;
// - jobcast ws: the real server (`startServer`, sqlite store in a temp dir), events going
//   in through service.log.append as the job runner's do (store, reducer, bus, hub);
// - jobcast uws: the same with `--engine uws`; skipped, with the server's own reason,
//   where that engine does not start.
// The frames are the same bytes on every server but `ts`.
//
// Shapes (--shapes, default all:1000,all:5000,all:10000,job:1000): `all:N` is N
// subscribers of `*`, each event fanned out to all of them at a steady --steady-deliveries
// (50,000) deliveries/s, then bursts; `job:N` is N subscribers of one job at a steady
// --job-rate (10) events/s, one running file's rate at the default --progress-interval.
// Bare servers send every client every event either way. Per server and shape:
// 1. RSS and heapUsed per idle subscriber: the server's memory after a forced GC (the
//    child runs with --expose-gc), before and after connecting (jobcast: subscribed),
//    divided by the connections.
// 2. Steady phases (--steady-rounds, 3, of --steady-s, 3 s; job shapes --job-s, 6 s):
//    server CPU per delivery (utime + stime of the whole process from /proc/PID/stat over
//    the phase, divided by the events delivered) and delivery latency (receipt time - the
//    event's `ts`, Date.now() on both sides: 1 ms resolution).
// 3. Bursts (`all:` shapes): events emitted back to back, --per-tick (1) per turn of the
//    server's event loop, --burst-deliveries (200,000) deliveries each, --bursts (3) rounds.
//    Deliveries per second = deliveries / (last receipt - first send): the most the server
//    sustains. A burst queues at most ~45 KB per client, far below the slow-reader soft
//    limit (1 MiB), so every client should get every event: the clients count gaps,
//    duplicates and any snapshot sent in place of events.
// Every figure is the median over a server's rounds, and the rounds take turns between the
// servers (each round starting with the next one), so that a change in the machine's
// background load hits every server alike and one unlucky round does not decide a figure.
// Each shape starts fresh processes; every server connects first, then only one is busy
// at a time. Ratios to bare ws are from the same run. Each step has a timeout and the run
// a budget (--budget-s, 600 s): about 6 minutes on a quiet machine; rounds that would not
// fit are skipped and say so.
// Each process may need ~10,000 descriptors: the soft open-file limit of the children
// is raised to the hard one where needed (prlimit).
//
// With --idle-only, only step 1 runs, for each server of --servers one at a time (start,
// connect, read memory, stop; see fanout/idle.ts), so that it can go to counts the full run
// cannot afford: `--idle-only --shapes all:19000` checks that one process holds 19,000
// subscribers of `*`, each one having got its `subscribed` reply, and what each costs
// (target for jobcast uws: <= 2 KiB RSS). It writes bench/results/fanout-idle.json instead.
//
// Run: npm run build && node dist/bench/fanout.js [--shapes all:1000,job:1000]
//      [--servers bare-ws,bare-uws,jobcast-ws,jobcast-uws] [--store sqlite|memory] [--idle-only]
//      [--steady-deliveries 50000] [--steady-s 3] [--steady-rounds 3] [--job-rate 10] [--job-s 6]
//      [--burst-deliveries 200000] [--bursts 3] [--per-tick 1] [--client-procs 2]
//      [--cpu-prof DIR] [--budget-s 600]
// With --cpu-prof, each server writes a CPU profile of each phase to DIR/<shape>/<server>-<n>.cpuprofile
// (numbered in order: the steady rounds, then the bursts); the profiler costs CPU, so such a
// run's figures are not for comparison.
// Prints a table per shape and writes bench/results/fanout.json.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openFilesLimit } from './lib/proc.js';
import { machineConditions, machineCpu, writeResults } from './lib/report.js';
import { SERVER_KINDS, ServerUnderTest, type ServerKind, type Settings, type Shape } from './fanout/scenario.js';
import { formatIdle, runIdleOnly, type IdleReport } from './fanout/idle.js';
import { compact, formatShape, formatTargets, TARGETS, type ShapeReport } from './fanout/summary.js';

/** A burst of 200,000 deliveries takes 2-8 s here, depending on the server and the machine's other load. */
const BURST_ESTIMATE_MS = 8_000;

/** The rates and counts shapes are built from (see the options). */
interface Rates {
  steadyDeliveries: number;
  steadyMs: number;
  steadyRounds: number;
  jobRate: number;
  jobMs: number;
  burstDeliveries: number;
  bursts: number;
}

function readOptions(): { settings: Settings; servers: ServerKind[]; shapes: Shape[]; rates: Rates; idleOnly: boolean } {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string', default: 'all:1000,all:5000,all:10000,job:1000' },
      servers: { type: 'string', default: SERVER_KINDS.join(',') },
      store: { type: 'string', default: 'sqlite' },
      'steady-deliveries': { type: 'string', default: '50000' },
      'steady-s': { type: 'string', default: '3' },
      'steady-rounds': { type: 'string', default: '3' },
      'job-rate': { type: 'string', default: '10' },
      'job-s': { type: 'string', default: '6' },
      'burst-deliveries': { type: 'string', default: '200000' },
      bursts: { type: 'string', default: '3' },
      'per-tick': { type: 'string', default: '1' },
      'client-procs': { type: 'string', default: '2' },
      'cpu-prof': { type: 'string' },
      'budget-s': { type: 'string', default: '600' },
      'idle-only': { type: 'boolean', default: false },
    },
  });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, got '${values[name]}'`);
    return n;
  };
  const servers = values.servers.split(',').map((s) => s.trim()) as ServerKind[];
  for (const s of servers) if (!SERVER_KINDS.includes(s)) throw new Error(`--servers takes ${SERVER_KINDS.join(', ')}; got '${s}'`);
  if (values.store !== 'sqlite' && values.store !== 'memory') throw new Error(`--store takes sqlite or memory; got '${values.store}'`);
  const settings: Settings = {
    clientProcs: int('client-procs', 1),
    store: values.store,
    perTick: int('per-tick', 1),
    deadline: Date.now() + int('budget-s', 30) * 1000,
    cpuProfDir: values['cpu-prof'] ?? null,
  };
  const rates: Rates = {
    steadyDeliveries: int('steady-deliveries', 1),
    steadyMs: int('steady-s', 1) * 1000,
    steadyRounds: int('steady-rounds', 1),
    jobRate: int('job-rate', 1),
    jobMs: int('job-s', 1) * 1000,
    burstDeliveries: int('burst-deliveries', 1),
    bursts: int('bursts', 0),
  };
  const shapes = values.shapes.split(',').map((spec) => parseShape(spec.trim(), rates));
  return { settings, servers, shapes, rates, idleOnly: values['idle-only'] };
}

/** `all:5000` or `job:1000`, with the rates of the run. */
function parseShape(spec: string, r: Rates): Shape {
  const match = /^(all|job):(\d+)$/.exec(spec);
  if (match === null) throw new Error(`--shapes takes a list like all:1000,job:1000; got '${spec}'`);
  const watch = match[1] as 'all' | 'job';
  const clients = Number(match[2]);
  if (clients < 1) throw new Error(`a shape needs at least one subscriber: '${spec}'`);
  const intervalMs = watch === 'all' ? Math.max(1, Math.round((1000 * clients) / r.steadyDeliveries)) : Math.max(1, Math.round(1000 / r.jobRate));
  const steadyMs = watch === 'all' ? r.steadyMs : r.jobMs;
  return {
    name: `${watch}-${clients}`,
    watch,
    clients,
    steadyIntervalMs: intervalMs,
    steadyEvents: Math.max(1, Math.round(steadyMs / intervalMs)),
    steadyRounds: r.steadyRounds,
    burstEvents: Math.max(1, Math.round(r.burstDeliveries / clients)),
    bursts: watch === 'all' ? r.bursts : 0,
  };
}

async function main(): Promise<void> {
  const { settings, servers, shapes, rates, idleOnly } = readOptions();
  const machine = machineConditions();
  const files = openFilesLimit('self');
  console.log(`fanout: ${machine.cores} x ${machine.cpu}, node ${machine.node}, load ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(`open files: soft ${files?.soft ?? '?'}, hard ${files?.hard ?? '?'} (the largest shape needs about ${Math.max(...shapes.map((s) => s.clients)) + 200} in its server)`);
  // The last resort of the time bound: the children exit when this process goes away.
  setTimeout(() => {
    console.error('fanout: the time budget is spent by 60 s; giving up');
    process.exit(2);
  }, settings.deadline - Date.now() + 60_000).unref();
  if (idleOnly) return idleOnlyMain(servers, shapes, settings, machine);
  const reports: ShapeReport[] = [];
  const background: Record<string, number> = {};
  const loadBefore = loadavg();
  for (const shape of shapes) {
    if (Date.now() + 30_000 > settings.deadline) {
      console.error(`skipping ${shape.name}: the time budget is nearly spent`);
      continue;
    }
    background[shape.name] = await backgroundBusy();
    console.log(`\n${shape.name}: background CPU before it ${background[shape.name]}% of the machine${background[shape.name]! > 20 ? ' (busy: expect noisy figures)' : ''}`);
    const units = servers.map((kind) => new ServerUnderTest(kind, shape, settings));
    try {
      await runShape(units, shape, settings);
    } finally {
      await Promise.all(units.map((u) => u.stop()));
    }
    const report = { shape, results: units.map((u) => u.result) };
    reports.push(report);
    console.log(`\n${formatShape(report)}`);
  }
  const loadAfter = loadavg();
  console.log(`\n${formatTargets(reports)}`);
  console.log(`load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadAfter.map((n) => n.toFixed(2)).join(' ')}`);
  const { deadline: _deadline, ...recorded } = settings;
  const path = writeResults('fanout', {
    at: new Date().toISOString(),
    machine: { ...machine, loadavgBefore: loadBefore, loadavgAfter: loadAfter, backgroundBusyPercent: background },
    settings: { ...recorded, ...rates, servers },
    targets: TARGETS,
    shapes: compact(reports),
  });
  console.log(`\nwrote ${path}`);
  if (reports.some((r) => r.results.some((u) => u.error !== undefined))) process.exitCode = 1;
}

/** --idle-only: per shape, each server's memory per idle subscriber, one server at a time (see fanout/idle.ts). */
async function idleOnlyMain(servers: ServerKind[], shapes: Shape[], settings: Settings, machine: ReturnType<typeof machineConditions>): Promise<void> {
  const reports: IdleReport[] = [];
  for (const shape of shapes) {
    if (Date.now() + 30_000 > settings.deadline) {
      console.error(`skipping ${shape.name}: the time budget is nearly spent`);
      continue;
    }
    console.log(`\n${shape.name}: idle only, one server at a time`);
    const report = await runIdleOnly(servers, shape, settings);
    reports.push(report);
    console.log(`\n${formatIdle(report)}`);
  }
  const { deadline: _deadline, ...recorded } = settings;
  // A file of its own: an idle-only run does not replace the full run's figures.
  const path = writeResults('fanout-idle', { at: new Date().toISOString(), machine, settings: { ...recorded, servers }, targets: TARGETS, shapes: reports });
  console.log(`\nwrote ${path}`);
  if (reports.some((r) => r.results.some((u) => u.error !== undefined))) process.exitCode = 1;
}

/** Every server starts and connects first; then each phase takes turns, each burst round starting with the next server. */
async function runShape(units: ServerUnderTest[], shape: Shape, settings: Settings): Promise<void> {
  const step = async (what: string, run: () => Promise<void>): Promise<void> => {
    const started = Date.now();
    await run();
    console.log(`  ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  for (const u of units) await step(`${u.result.server}: started`, () => u.start());
  for (const u of units.filter((u) => u.isOk)) await step(`${u.result.server}: connected ${shape.clients}`, () => u.connect());
  const steadyMs = shape.steadyEvents * shape.steadyIntervalMs + 2000;
  await inRounds(units, 'steady', shape.steadyRounds, steadyMs, settings, step, (u) => u.steady());
  await inRounds(units, 'burst', shape.bursts, BURST_ESTIMATE_MS, settings, step, (u) => u.burst());
  for (const u of units.filter((u) => u.result.skipped !== undefined)) console.log(`  ${u.result.server}: skipped: ${u.result.skipped}`);
  for (const u of units.filter((u) => u.result.error !== undefined)) console.error(`  ${u.result.server}: FAILED: ${u.result.error}`);
}

/**
 * Runs `rounds` rounds of a phase, every server once per round, each round starting with the
 * next server. A round is skipped whole when it may not fit, so every server keeps the same count.
 */
async function inRounds(
  units: ServerUnderTest[],
  what: string,
  rounds: number,
  estimateMs: number,
  settings: Settings,
  step: (what: string, run: () => Promise<void>) => Promise<void>,
  run: (u: ServerUnderTest) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    if (Date.now() + estimateMs * units.length > settings.deadline) {
      console.error(`  skipping ${what} rounds ${round + 1}..${rounds}: the time budget is nearly spent`);
      return;
    }
    for (let i = 0; i < units.length; i++) {
      const u = units[(round + i) % units.length]!;
      if (u.isOk) await step(`${u.result.server}: ${what} ${round + 1}`, () => run(u));
    }
  }
}

/** Share of the machine's CPU busy over one second while this benchmark does nothing. */
async function backgroundBusy(): Promise<number> {
  const before = machineCpu.read();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return 100 - machineCpu.since(before).idle;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
