// The store side of the cluster benchmark, with bench children (node.ts) as the jobcast
// processes: events appended per second under many concurrent jobs, and the time from an
// append on one process to its delivery to a WebSocket subscriber of another.

import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { uniquePrefix } from '../../test/helpers/redis.js';
import { ChildHandle } from '../lib/ipc.js';
import { machineCpu } from '../lib/report.js';
import { processCpuMs } from '../lib/proc.js';
import { preciseNow, type NodeReady } from './shared.js';

const NODE = fileURLToPath(new URL('./node.js', import.meta.url));

export type Node = ChildHandle<NodeReady> & { info: NodeReady };

/**
 * Starts `count` jobcast processes on `store` (`sqlite` for a file of each one's own, or a
 * redis:// URL shared under one prefix), and resolves once each runs its gate job (node.ts).
 */
export async function startNodes(store: string, count: number): Promise<Node[]> {
  const prefix = uniquePrefix('bench');
  const nodes = await Promise.all(
    Array.from({ length: count }, async () => {
      const child = ChildHandle.fork<NodeReady>('jobcast', NODE, [store, prefix], { readyTimeoutMs: 60_000 });
      return Object.assign(child, { info: await child.ready });
    }),
  );
  await Promise.all(nodes.map((n) => n.request('gate')));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = await Promise.all(nodes.map((n) => n.request<number>('running')));
    if (running.every((r) => r === 1)) return nodes;
    if (Date.now() > deadline) throw new Error(`the gate jobs did not all start: running ${running.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function stopNodes(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

export interface FloodFigures {
  eventsPerSecond: number;
  /** Share of one core each process used during the measure: the jobcast processes, then redis-server. */
  cpuPercent: { jobcast: number[]; redis: number | null };
  /** The whole machine's idle share during the measure (all cores): near 0 means the cores were the limit. */
  machineIdlePercent: number;
}

/** `jobs` running jobs spread over the processes, each appended to back to back for `ms` (after a 1 s warm-up). */
export async function measureFlood(nodes: Node[], jobs: number, ms: number, redisPid: number | null): Promise<FloodFigures> {
  await Promise.all(nodes.map((n, i) => n.request('jobs', { count: Math.round(jobs / nodes.length), tag: `f${i}` }, 120_000)));
  await Promise.all(nodes.map((n) => n.request('flood', { ms: 1000 }, 120_000)));
  const pids = [...nodes.map((n) => n.info.pid), ...(redisPid === null ? [] : [redisPid])];
  const before = pids.map((pid) => processCpuMs(pid) ?? 0);
  const machineBefore = machineCpu.read();
  const started = performance.now();
  const results = await Promise.all(nodes.map((n) => n.request<{ events: number; ms: number }>('flood', { ms }, ms + 120_000)));
  const wallMs = performance.now() - started;
  const machine = machineCpu.since(machineBefore);
  const cpu = pids.map((pid, i) => Math.round((((processCpuMs(pid) ?? 0) - before[i]!) / wallMs) * 100));
  const events = results.reduce((sum, r) => sum + r.events, 0);
  const slowest = Math.max(...results.map((r) => r.ms));
  return {
    eventsPerSecond: Math.round((events / slowest) * 1000),
    cpuPercent: { jobcast: cpu.slice(0, nodes.length), redis: redisPid === null ? null : cpu[nodes.length]! },
    machineIdlePercent: machine.idle,
  };
}

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sent: number;
  received: number;
  /** Whether the subscriber was on another process than the one appending. */
  isAcrossProcesses: boolean;
}

/**
 * `rate` events per second for `ms` appended on the first process, to 20 jobs in turn,
 * each carrying its send time; one WebSocket subscriber of those jobs on the last process
 * takes the receipt time of each. Both clocks are this machine's.
 */
export async function measureLatency(nodes: Node[], rate: number, ms: number): Promise<LatencyFigures> {
  const appender = nodes[0]!;
  const reader = nodes[nodes.length - 1]!;
  const ids = await appender.request<string[]>('jobs', { count: 20, tag: 'lat' }, 60_000);
  const latencies: number[] = [];
  const ws = await subscribe(`${reader.info.url.replace('http', 'ws')}/ws`, ids, (sentAt) => latencies.push(preciseNow() - sentAt));
  try {
    await appender.request('paced', { rate, ms: 1000 }, 60_000);
    latencies.length = 0;
    const { events } = await appender.request<{ events: number }>('paced', { rate, ms }, ms + 60_000);
    const deadline = Date.now() + 30_000;
    while (latencies.length < events && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number): number => Number(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(2));
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), sent: events, received: latencies.length, isAcrossProcesses: appender !== reader };
  } finally {
    ws.terminate();
  }
}

/** A WebSocket subscribed to `ids`; calls `onSent` with the send time of each progress event that carries one. */
function subscribe(url: string, ids: string[], onSent: (sentAt: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let acknowledged = 0;
    ws.once('error', reject);
    ws.once('open', () => {
      for (const job of ids) ws.send(JSON.stringify({ op: 'subscribe', job }));
    });
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; name?: string; data?: { sentAt?: number } };
      if (message.type === 'subscribed' && ++acknowledged === ids.length) resolve(ws);
      else if (message.type === 'event' && message.name === 'file.progress' && (message.data?.sentAt ?? 0) > 0) onSent(message.data!.sentAt!);
    });
  });
}
