// Idle WebSocket subscribers held on this one machine, spread over the jobcast processes:
// each subscribes to one job and waits. Clients live in processes of their own (the
// fan-out benchmark's fleet), each under its open-file limit like the servers. Once all
// are connected, one event is appended and every subscriber must receive it: held means
// alive, not merely counted.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConnectResult, PhaseStats } from '../fanout/clients.js';
import { ChildHandle } from '../lib/ipc.js';
import { raiseOpenFiles } from '../lib/proc.js';
import type { Node } from './appends.js';

const FLEET = fileURLToPath(new URL('../fanout/clients.js', import.meta.url));
/** Sockets one client process holds at most: under its own open-file limit (20,000 here). */
const PER_FLEET = 13_000;

export interface SubscriberFigures {
  /** Subscribers asked for, connected and subscribed, and those that got the check event. */
  asked: number;
  held: number;
  reached: number;
  /** Connected per jobcast process. */
  perProcess: number[];
  failed: number;
  firstError: string | null;
  connectSeconds: number;
  /** Server RSS added per subscriber, averaged over the processes. */
  kibPerSubscriber: number;
}

function rssBytes(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return 0;
  }
}

/** Connects `perProcess` subscribers to each process, checks they all receive one event, and closes them. */
export async function measureSubscribers(nodes: Node[], perProcess: number): Promise<SubscriberFigures> {
  for (const n of nodes) raiseOpenFiles(n.info.pid, perProcess + 1000);
  // One job of the first process; every process serves it (a shared store) or is that process.
  const [job] = (await nodes[0]!.request<string[]>('jobs', { count: 1, tag: 'idle' }, 60_000)).slice(-1);
  const rssBefore = nodes.map((n) => rssBytes(n.info.pid));
  const fleetsPerNode = Math.ceil(perProcess / PER_FLEET);
  const fleets: Array<{ fleet: ChildHandle; node: number; count: number }> = [];
  nodes.forEach((_, node) => {
    for (let f = 0; f < fleetsPerNode; f++) fleets.push({ fleet: ChildHandle.fork('clients', FLEET, []), node, count: Math.ceil(perProcess / fleetsPerNode) });
  });
  try {
    await Promise.all(fleets.map(({ fleet }) => fleet.ready));
    for (const { fleet } of fleets) raiseOpenFiles(fleet.pid, PER_FLEET + 1000);
    const started = performance.now();
    const connected = await Promise.all(
      fleets.map(({ fleet, node, count }) =>
        fleet.request<ConnectResult>('connect', { url: `${nodes[node]!.info.url.replace('http', 'ws')}/ws`, count, mode: 'jobcast', job, concurrency: 50 }, 20 * 60_000),
      ),
    );
    const connectSeconds = (performance.now() - started) / 1000;
    const perNode = nodes.map((_, i) => connected.filter((_, k) => fleets[k]!.node === i).reduce((sum, c) => sum + c.open, 0));
    const rssAfter = nodes.map((n) => rssBytes(n.info.pid));
    // The check: one event, which every subscriber must get (job.queued, started, file.started: seq 4 next).
    await Promise.all(fleets.map(({ fleet }) => fleet.request('arm', { from: 4, count: 1 })));
    await nodes[0]!.request('append', { id: job }, 60_000);
    const stats = await Promise.all(fleets.map(({ fleet }) => fleet.request<PhaseStats>('collect', { timeoutMs: 120_000 }, 180_000)));
    const held = perNode.reduce((a, b) => a + b, 0);
    const added = rssAfter.reduce((sum, rss, i) => sum + (rss - rssBefore[i]!), 0);
    return {
      asked: perProcess * nodes.length,
      held,
      reached: stats.reduce((sum, s) => sum + s.received, 0),
      perProcess: perNode,
      failed: connected.reduce((sum, c) => sum + c.failed, 0),
      firstError: connected.find((c) => c.firstError !== null)?.firstError ?? null,
      connectSeconds: Number(connectSeconds.toFixed(1)),
      kibPerSubscriber: held === 0 ? 0 : Number((added / held / 1024).toFixed(1)),
    };
  } finally {
    await Promise.all(fleets.map(({ fleet }) => fleet.request('close').catch(() => null)));
    await Promise.all(fleets.map(({ fleet }) => fleet.stop()));
  }
}
