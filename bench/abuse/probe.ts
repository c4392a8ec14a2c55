// What the benchmark watches while an attack runs: `GET /healthz`, one after another on
// a keep-alive connection (as a load balancer's health check does), and the server's
// RSS every 50 ms.

import { Agent, request } from 'node:http';

/** A health check slower than this counts as this long (the server did not answer). */
export const PROBE_TIMEOUT_MS = 30_000;
/** Pause between two health checks. */
const PROBE_GAP_MS = 5;

interface Probe {
  /** performance.now() when the request was sent. */
  startedAt: number;
  ms: number;
}

/** Health checks in a loop until stop(); each latency is kept with its start time. */
export class HealthProber {
  private readonly probes: Probe[] = [];
  private isRunning = true;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly loop: Promise<void>;

  constructor(private readonly port: number) {
    this.loop = this.run();
  }

  /** The p99 latency in ms of the checks sent in [from, to), and how many there were. */
  p99(from: number, to: number): { p99Ms: number | null; count: number } {
    const ms = this.probes.filter((p) => p.startedAt >= from && p.startedAt < to).map((p) => p.ms).sort((a, b) => a - b);
    if (ms.length === 0) return { p99Ms: null, count: 0 };
    return { p99Ms: Number(ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.99) - 1)]!.toFixed(1)), count: ms.length };
  }

  /** Stops after the check under way (at most PROBE_TIMEOUT_MS). */
  async stop(): Promise<void> {
    this.isRunning = false;
    await this.loop;
    this.agent.destroy();
  }

  private async run(): Promise<void> {
    while (this.isRunning) {
      const startedAt = performance.now();
      await this.once();
      this.probes.push({ startedAt, ms: performance.now() - startedAt });
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
  }

  private once(): Promise<void> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: '/healthz', agent: this.agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy());
      req.on('error', () => resolve());
      req.end();
    });
  }
}

/** The server's RSS every 50 ms: the peak over a phase, and the last value. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => number) {
    this.timer = setInterval(() => this.sample(), 50);
  }

  /** The peak since the last call, in bytes (then starts a new phase). */
  takePeak(): number {
    this.sample();
    const peak = this.peak;
    this.peak = 0;
    return peak;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    this.peak = Math.max(this.peak, this.read());
  }
}
