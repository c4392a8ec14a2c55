// The in-process Roster, for the stores kept by one process (memory, SQLite): that process
// is the only one to report, so the list is of one. Records expire as a shared roster's
// do, so every store answers `GET /queue` the same way.

import type { ProcessInfo } from '../protocol/types.js';
import { byStart, MAX_LISTED, type ProcessReport, type Roster } from './roster.js';

interface Kept {
  info: ProcessInfo;
  expiresAt: number;
}

export class LocalRoster implements Roster {
  private readonly records = new Map<string, Kept>();

  /** `now`: the clock records expire on (default Date.now). */
  constructor(private readonly now: () => number = Date.now) {}

  async report(report: ProcessReport, ttlMs: number): Promise<void> {
    const at = this.now();
    this.prune(at);
    // A new process past the bound is not kept: the list never grows past it.
    if (!this.records.has(report.id) && this.records.size >= MAX_LISTED) return;
    this.records.set(report.id, { info: { ...report, jobs: [...report.jobs], lastHeartbeatAt: at }, expiresAt: at + ttlMs });
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
  }

  async list(): Promise<ProcessInfo[]> {
    this.prune(this.now());
    return [...this.records.values()].map(({ info }) => ({ ...info, jobs: [...info.jobs] })).sort(byStart);
  }

  private prune(now: number): void {
    for (const [id, kept] of this.records) if (kept.expiresAt <= now) this.records.delete(id);
  }
}
