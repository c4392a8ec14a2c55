// One server under test in one shape of the fan-out benchmark: its child process, its
// own client processes and connections, the idle-memory figures, and the phases run
// against it. fanout.ts starts every server of a shape first, then takes turns between
// them for each phase, so that a change in the machine's background load hits all alike.

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChildHandle } from '../lib/ipc.js';
import { raiseOpenFiles } from '../lib/proc.js';
import type { ConnectResult } from './clients.js';
import { runPhase, type PhaseContext, type PhaseResult } from './phase.js';
import type { MemoryFigures, ProduceArgs, ServerReady } from './shared.js';

export const SERVER_KINDS = ['bare-ws', 'bare-uws', 'jobcast-ws', 'jobcast-uws'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

const LABELS: Record<ServerKind, string> = { 'bare-ws': 'bare ws', 'bare-uws': 'bare uWS', 'jobcast-ws': 'jobcast ws', 'jobcast-uws': 'jobcast uws' };

/** What the clients watch: `*` (every job) or the one job by name. Bare servers send every client everything. */
export type Watch = 'all' | 'job';

export interface Shape {
  /** `all-1000`, `job-1000`. */
  name: string;
  watch: Watch;
  clients: number;
  /** Steady phases of this many events, one every `steadyIntervalMs`, `steadyRounds` per server. */
  steadyEvents: number;
  steadyIntervalMs: number;
  steadyRounds: number;
  /** Back-to-back bursts of `burstEvents` events, `bursts` per server (0: none). */
  burstEvents: number;
  bursts: number;
}

export interface Settings {
  clientProcs: number;
  /** jobcast's store. */
  store: 'sqlite' | 'memory';
  /** Events a burst emits per turn of the server's event loop. */
  perTick: number;
  /** Date.now() past which nothing waits any longer. */
  deadline: number;
  /** Write a CPU profile of each measured phase of each server under this directory; null for none. */
  cpuProfDir: string | null;
}

/**
 * The rounds of one kind of phase of one server taken together, each figure the median
 * over the rounds: one round that the machine's other load slowed down does not decide it.
 */
export interface RoundsSummary {
  rounds: number;
  deliveredPerSec: number;
  deliveredPerSecAll: number[];
  /** Medians of each round's p50 and p99; the largest latency of all rounds. */
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  p99All: Array<number | null>;
  serverCpuPercent: number;
  /** Server CPU time per delivery: less sensitive to the machine's other load than the rate. */
  serverUsPerDelivery: number;
  usPerDeliveryAll: number[];
  /** The server's CPU time on its event loop and on its other threads, summed over the rounds, in ms. */
  eventLoopMs: number;
  otherThreadsMs: number;
  clientCpuPercent: number;
  otherCpuPercent: number;
}

export interface ScenarioResult {
  server: string;
  kind: ServerKind;
  /** Why this server did not run here (its engine is not available); it has no figures. */
  skipped?: string;
  connections: number;
  /** Clients that got ready: for jobcast, those that got their `subscribed` reply; for bare servers, those that opened. */
  clientsReady: number;
  connectMs: number;
  memory: { before: MemoryFigures; after: MemoryFigures; rssPerConnBytes: number; heapPerConnBytes: number } | null;
  steadyRounds: PhaseResult[];
  steady: RoundsSummary | null;
  bursts: PhaseResult[];
  burst: RoundsSummary | null;
  error?: string;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** Descriptors a process needs besides its sockets (stdio, IPC, the store, libuv). */
const SPARE_FDS = 200;

export class ServerUnderTest {
  readonly result: ScenarioResult;
  private server: ChildHandle<ServerReady> | null = null;
  private fleets: ChildHandle[] = [];
  private ctx: PhaseContext | null = null;

  constructor(
    readonly kind: ServerKind,
    private readonly shape: Shape,
    private readonly s: Settings,
  ) {
    this.result = { server: LABELS[kind], kind, connections: 0, clientsReady: 0, connectMs: 0, memory: null, steadyRounds: [], steady: null, bursts: [], burst: null };
  }

  /** True while it has neither failed nor been skipped. */
  get isOk(): boolean {
    return this.result.error === undefined && this.result.skipped === undefined;
  }

  /** Starts the server; a server that reports itself unavailable is skipped, with its reason. */
  async start(): Promise<void> {
    await this.guard(async () => {
      const [script, args] = this.kind.startsWith('bare')
        ? [here(`./${this.kind}-server.js`), []]
        : [here('./jobcast-server.js'), [this.kind === 'jobcast-uws' ? 'uws' : 'ws', this.s.store]];
      this.server = ChildHandle.fork<ServerReady>(`${this.result.server} server`, script, args, { execArgv: ['--expose-gc'] });
      this.raiseLimit(this.server, this.shape.clients);
      const ready = await this.server.ready;
      if (ready.unavailable !== undefined) {
        this.result.skipped = ready.unavailable;
        return;
      }
      this.fleets = Array.from({ length: this.s.clientProcs }, (_, i) => ChildHandle.fork(`${this.result.server} clients ${i + 1}`, here('./clients.js'), []));
      for (const fleet of this.fleets) this.raiseLimit(fleet, Math.ceil(this.shape.clients / this.s.clientProcs));
      await Promise.all(this.fleets.map((f) => f.ready));
      this.ctx = { server: this.server, fleets: this.fleets, nextSeq: ready.nextSeq, deadline: this.s.deadline, profilePrefix: this.profilePrefix(), phases: 0 };
    });
  }

  /** Connects every client and measures memory per idle subscriber. */
  async connect(): Promise<void> {
    await this.guard(async () => {
      const ctx = this.context();
      const before = await ctx.server.request<MemoryFigures>('mem');
      const connected = await this.connectClients();
      this.result.connectMs = connected.ms;
      this.result.clientsReady = connected.open;
      // Figures over fewer subscribers than asked for would compare unlike with unlike.
      if (connected.failed > 0) throw new Error(`${connected.failed} of ${this.shape.clients} connections failed: ${connected.firstError}`);
      // Let the handshakes' garbage and the listen backlog settle before measuring.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await ctx.server.request<MemoryFigures>('mem');
      const perConn = (key: 'rss' | 'heapUsed'): number => Math.round((after[key] - before[key]) / Math.max(1, after.connections));
      this.result.connections = after.connections;
      this.result.memory = { before, after, rssPerConnBytes: perConn('rss'), heapPerConnBytes: perConn('heapUsed') };
    });
  }

  async steady(): Promise<void> {
    await this.guard(async () => {
      this.result.steadyRounds.push(await this.phase({ count: this.shape.steadyEvents, intervalMs: this.shape.steadyIntervalMs }));
      this.result.steady = summariseRounds(this.result.steadyRounds);
    });
  }

  async burst(): Promise<void> {
    await this.guard(async () => {
      this.result.bursts.push(await this.phase({ count: this.shape.burstEvents, intervalMs: 0, perTick: this.s.perTick }));
      this.result.burst = summariseRounds(this.result.bursts);
    });
  }

  /** Closes the clients and stops every child of this server (they write their profiles on the way out). */
  async stop(): Promise<void> {
    await Promise.all(this.fleets.map((f) => f.request('close', null, 10_000).catch(() => {})));
    await Promise.all(this.fleets.map((f) => f.stop()));
    await this.server?.stop();
  }

  private context(): PhaseContext {
    if (this.ctx === null) throw new Error('not started');
    return this.ctx;
  }

  private async phase(produce: ProduceArgs): Promise<PhaseResult> {
    const ctx = this.context();
    const result = await runPhase(ctx, produce);
    ctx.nextSeq += produce.count;
    return result;
  }

  /** Runs a step unless an earlier one failed or the server was skipped; a failure is recorded, and the server sits out the rest. */
  private async guard(step: () => Promise<void>): Promise<void> {
    if (!this.isOk) return;
    try {
      await step();
    } catch (err) {
      this.result.error = String((err as Error)?.message ?? err);
    }
  }

  /** Each process holds one descriptor per connection: the soft limit goes up to the hard one if it must. */
  private raiseLimit(child: ChildHandle, sockets: number): void {
    const soft = raiseOpenFiles(child.pid, sockets + SPARE_FDS);
    if (soft !== null && soft < sockets + SPARE_FDS) {
      console.error(`warning: ${child.name} may open ${soft} files (hard limit), and needs about ${sockets + SPARE_FDS}`);
    }
  }

  /** With a profile directory: `<dir>/<shape>/<server>`, each phase adding `-<n>.cpuprofile`. */
  private profilePrefix(): string | null {
    if (this.s.cpuProfDir === null) return null;
    const dir = `${this.s.cpuProfDir}/${this.shape.name}`;
    mkdirSync(dir, { recursive: true });
    return `${dir}/${this.kind}`;
  }

  private async connectClients(): Promise<ConnectResult> {
    const ctx = this.context();
    const ready = await this.server!.ready;
    const url = `ws://127.0.0.1:${ready.port}/ws`;
    const mode = this.kind.startsWith('bare') ? 'bare' : 'jobcast';
    const job = this.shape.watch === 'all' ? '*' : ready.job;
    const { clients } = this.shape;
    const timeoutMs = Math.max(1000, Math.min(90_000, this.s.deadline - Date.now()));
    const shares = ctx.fleets.map((_, i) => Math.floor(clients / ctx.fleets.length) + (i < clients % ctx.fleets.length ? 1 : 0));
    const results = await Promise.all(
      ctx.fleets.map((fleet, i) => fleet.request<ConnectResult>('connect', { url, count: shares[i], mode, job, concurrency: 64 }, timeoutMs)),
    );
    return {
      open: results.reduce((n, r) => n + r.open, 0),
      failed: results.reduce((n, r) => n + r.failed, 0),
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      ms: Math.max(...results.map((r) => r.ms)),
    };
  }
}

function summariseRounds(rounds: PhaseResult[]): RoundsSummary {
  const median = <T extends number | null>(values: T[]): T => [...values].sort((a, b) => (a ?? 0) - (b ?? 0))[Math.floor((values.length - 1) / 2)]!;
  const maxOf = rounds.map((r) => r.latencyMs.max).filter((n): n is number => n !== null);
  const threads = (isMain: boolean): number =>
    rounds.reduce((sum, r) => sum + Object.entries(r.serverThreadsMs).reduce((n, [name, ms]) => ((name === 'main') === isMain ? n + ms : n), 0), 0);
  return {
    rounds: rounds.length,
    deliveredPerSec: median(rounds.map((r) => r.deliveredPerSec)),
    deliveredPerSecAll: rounds.map((r) => r.deliveredPerSec),
    latencyMs: { p50: median(rounds.map((r) => r.latencyMs.p50)), p99: median(rounds.map((r) => r.latencyMs.p99)), max: maxOf.length === 0 ? null : Math.max(...maxOf) },
    p99All: rounds.map((r) => r.latencyMs.p99),
    serverCpuPercent: median(rounds.map((r) => r.server.cpuPercent)),
    serverUsPerDelivery: median(rounds.map((r) => r.server.usPerDelivery)),
    usPerDeliveryAll: rounds.map((r) => r.server.usPerDelivery),
    eventLoopMs: threads(true),
    otherThreadsMs: threads(false),
    clientCpuPercent: median(rounds.map((r) => r.clientCpuPercent)),
    otherCpuPercent: median(rounds.map((r) => r.otherCpuPercent)),
  };
}
