// One measured phase of the fan-out benchmark: arm the clients with the seq range,
// have the server produce the events, collect what every client got. CPU is read from
// outside (/proc/PID/stat, every thread of the process) over the whole phase, for the
// server and for its client processes alike.

import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ChildHandle } from '../lib/ipc.js';
import { processCpuMs, threadsCpuMs } from '../lib/proc.js';
import { machineCpu, mergeHistograms, quantile, type MachineCpu } from '../lib/report.js';
import type { PhaseStats } from './clients.js';
import type { ProduceArgs, ProduceResult } from './shared.js';

export interface PhaseContext {
  server: ChildHandle;
  fleets: ChildHandle[];
  /** The seq the server's next event gets. */
  nextSeq: number;
  /** Date.now() past which nothing waits any longer. */
  deadline: number;
  /** Where the server writes a CPU profile of each phase (`<prefix>-<n>.cpuprofile`), or null. */
  profilePrefix: string | null;
  /** Phases run so far. */
  phases: number;
}

export interface PhaseResult {
  events: number;
  intervalMs: number;
  connections: number;
  /** events x connections. */
  expected: number;
  /** Events delivered (snapshots sent in place of events are not deliveries). */
  received: number;
  /** Connections that reached the last seq. */
  complete: number;
  gaps: number;
  duplicates: number;
  snapshots: number;
  replaced: number;
  closed: number;
  /** Deliveries / (last receipt - first send). */
  deliveredPerSec: number;
  wallMs: number;
  /** Time the server took to emit all events (first to last send). */
  produceMs: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  frameBytes: number;
  /** The server process over the phase: CPU time, its share of one core, and CPU time per delivery. */
  server: { cpuMs: number; cpuPercent: number; usPerDelivery: number };
  /** The server's CPU time over the phase by thread: `main` (the event loop) and the others by name, in ms. */
  serverThreadsMs: Record<string, number>;
  /** The client processes over the phase, summed, as % of one core. */
  clientCpuPercent: number;
  /** The whole machine over the phase (all cores = 100%): shows whether it was saturated. */
  machine: MachineCpu;
  /** CPU used by neither the server nor its clients (softirq, other processes), % of one core. */
  otherCpuPercent: number;
  /** Latency histogram (ms -> count); kept out of the results file. */
  histogram: Map<number, number>;
}

/** Longest wait for the clients after the last event was sent. */
const DRAIN_TIMEOUT_MS = 60_000;

export async function runPhase(ctx: PhaseContext, produce: ProduceArgs): Promise<PhaseResult> {
  const remaining = ctx.deadline - Date.now();
  if (remaining < 5000) throw new Error('the time budget is spent');
  await Promise.all(ctx.fleets.map((f) => f.request('arm', { from: ctx.nextSeq, count: produce.count })));
  ctx.phases++;
  if (ctx.profilePrefix !== null) await ctx.server.request('profile-start');
  const cpu = cpuOf(ctx);
  const cpuBefore = { server: cpu.server(), threads: threadsCpuMs(ctx.server.pid), clients: cpu.clients(), machine: machineCpu.read(), at: performance.now() };
  const collecting = ctx.fleets.map((f) =>
    f.request<PhaseStats>('collect', { timeoutMs: Math.min(remaining, produce.count * produce.intervalMs + DRAIN_TIMEOUT_MS) }, remaining + 5000),
  );
  const produced = await ctx.server.request<ProduceResult>('produce', produce, remaining);
  const stats = await Promise.all(collecting);
  const wallMs = performance.now() - cpuBefore.at;
  const machine = machineCpu.since(cpuBefore.machine);
  const serverCpuMs = cpu.server() - cpuBefore.server;
  const threadsAfter = threadsCpuMs(ctx.server.pid);
  const serverThreadsMs = Object.fromEntries(Object.entries(threadsAfter).map(([name, ms]) => [name, Math.round(ms - (cpuBefore.threads[name] ?? 0))]));
  const clientCpuMs = cpu.clients() - cpuBefore.clients;
  if (ctx.profilePrefix !== null) await ctx.server.request('profile-stop', { path: `${ctx.profilePrefix}-${ctx.phases}.cpuprofile` });
  const result = summarise(produce, produced, stats, serverCpuMs, wallMs);
  const clientCpuPercent = Math.round((clientCpuMs / wallMs) * 100);
  const busyPercent = (100 - machine.idle) * availableParallelism();
  const otherCpuPercent = Math.max(0, Math.round(busyPercent - result.server.cpuPercent - clientCpuPercent));
  return { ...result, serverThreadsMs, clientCpuPercent, machine, otherCpuPercent };
}

/** Readers of the server's and the clients' CPU time so far, in ms. */
function cpuOf(ctx: PhaseContext): { server(): number; clients(): number } {
  const read = (child: ChildHandle): number => {
    const ms = processCpuMs(child.pid);
    if (ms === null) throw new Error(`cannot read /proc/${child.pid}/stat (${child.name}): this benchmark measures CPU on Linux`);
    return ms;
  };
  return { server: () => read(ctx.server), clients: () => ctx.fleets.reduce((sum, f) => sum + read(f), 0) };
}

function summarise(
  produce: ProduceArgs,
  produced: ProduceResult,
  stats: PhaseStats[],
  serverCpuMs: number,
  phaseMs: number,
): Omit<PhaseResult, 'machine' | 'otherCpuPercent' | 'clientCpuPercent' | 'serverThreadsMs'> {
  const sum = (key: keyof Omit<PhaseStats, 'latency'>): number => stats.reduce((n, s) => n + s[key], 0);
  const connections = sum('connections');
  const received = sum('received');
  const lastRecvAt = Math.max(...stats.map((s) => s.lastRecvAt));
  const wallMs = Math.max(1, lastRecvAt - produced.firstSendAt);
  const latency = mergeHistograms(stats.map((s) => s.latency));
  return {
    events: produce.count,
    intervalMs: produce.intervalMs,
    connections,
    expected: produce.count * connections,
    received,
    complete: sum('complete'),
    gaps: sum('gaps'),
    duplicates: sum('duplicates'),
    snapshots: sum('snapshots'),
    replaced: sum('replaced'),
    closed: sum('closed'),
    deliveredPerSec: Math.round((received / wallMs) * 1000),
    wallMs,
    produceMs: produced.lastSendAt - produced.firstSendAt,
    latencyMs: { p50: quantile(latency, 0.5), p99: quantile(latency, 0.99), max: quantile(latency, 1) },
    frameBytes: Math.max(...stats.map((s) => s.frameBytes)),
    server: {
      cpuMs: Math.round(serverCpuMs),
      cpuPercent: Math.round((serverCpuMs / phaseMs) * 100),
      usPerDelivery: Number(((serverCpuMs * 1000) / Math.max(1, received)).toFixed(2)),
    },
    histogram: latency,
  };
}
