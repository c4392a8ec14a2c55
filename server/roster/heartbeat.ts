// A process's heartbeat: it reports itself to the roster every third of --lease (at most
// every 5 s), and within a second of a change in what it would report (a job started or
// ended, a worker took or finished a file), so that dashboards see which process runs a
// job moments after it starts. It reads the process's state itself (describe), so the
// parts it describes know nothing of it. A report is kept for one --lease: a process that
// dies (or hangs) leaves the list when its claims run out, which is also when other
// processes take its jobs over. A clean stop removes the report at once.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import type { ProcessInfo } from '../protocol/types.js';
import type { ProcessReport, Roster } from './roster.js';

/** The longest time between two heartbeats, whatever the lease. */
const MAX_INTERVAL_MS = 5000;
/** How often the report is compared with the last one sent: a burst of short jobs costs one write a second. */
const CHANGE_CHECK_MS = 1000;

/** How often a process reports and how long a report lasts, for a --lease. */
export function heartbeatTimings(leaseMs: number): { intervalMs: number; ttlMs: number } {
  return { intervalMs: Math.max(1, Math.min(MAX_INTERVAL_MS, Math.floor(leaseMs / 3))), ttlMs: leaseMs };
}

/** Who a process is, for its life: `host:pid:role:random` (the random part tells apart two lives of one pid). */
export function processIdentity(role: ProcessInfo['role']): Pick<ProcessInfo, 'id' | 'role' | 'host' | 'pid'> {
  const host = hostname();
  return { id: `${host}:${process.pid}:${role}:${randomBytes(4).toString('hex')}`, role, host, pid: process.pid };
}

export interface HeartbeatOptions {
  roster: Roster;
  /** What the process says of itself now; called at each report. */
  describe(): Omit<ProcessReport, 'heartbeatMs'>;
  /** From heartbeatTimings. */
  intervalMs: number;
  ttlMs: number;
  logger: Logger;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private changeTimer: NodeJS.Timeout | null = null;
  /** The last report sent, as JSON, to tell a change. */
  private lastSent = '';
  private beating: Promise<void> | null = null;
  private isBeatDue = false;
  private isFailing = false;
  private isStopped = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: HeartbeatOptions) {}

  /** Reports now, then every interval, and whenever the report changed since the last one sent. */
  start(): void {
    this.timer = setInterval(() => this.beat(), this.opts.intervalMs);
    this.timer.unref();
    if (CHANGE_CHECK_MS < this.opts.intervalMs) {
      this.changeTimer = setInterval(() => {
        if (JSON.stringify(this.describe()) !== this.lastSent) this.beat();
      }, CHANGE_CHECK_MS);
      this.changeTimer.unref();
    }
    this.beat();
  }

  /** Stops reporting and removes the report (left to expire when the roster cannot be reached). Same promise every call. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.isStopped = true;
      if (this.timer !== null) clearInterval(this.timer);
      if (this.changeTimer !== null) clearInterval(this.changeTimer);
      await this.beating;
      const { id } = this.opts.describe();
      await this.opts.roster.remove(id).catch((err: unknown) => {
        this.opts.logger.warn({ err }, 'could not remove this process from the roster: it leaves the list when its heartbeat expires');
      });
    })();
    return this.stopping;
  }

  /** One report at a time; a beat due meanwhile goes after it. */
  private beat(): void {
    if (this.isStopped) return;
    if (this.beating !== null) {
      this.isBeatDue = true;
      return;
    }
    this.beating = this.report().finally(() => {
      this.beating = null;
      if (this.isBeatDue) {
        this.isBeatDue = false;
        this.beat();
      }
    });
  }

  private describe(): ProcessReport {
    return { ...this.opts.describe(), heartbeatMs: this.opts.intervalMs };
  }

  private async report(): Promise<void> {
    const report = this.describe();
    this.lastSent = JSON.stringify(report);
    try {
      await this.opts.roster.report(report, this.opts.ttlMs);
      if (this.isFailing) this.opts.logger.info('heartbeats reach the roster again');
      this.isFailing = false;
    } catch (err) {
      // Once per outage: the store's own errors say the rest.
      if (!this.isFailing) this.opts.logger.warn({ err }, 'could not send a heartbeat: dashboards will show this process as not reporting');
      this.isFailing = true;
    }
  }
}
