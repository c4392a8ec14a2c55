// Figures no snapshot holds, taken from the live events as they pass: each running job's
// current rate and ETA (from `file.progress`), and the work done per second across all
// jobs (bytes and files) for the throughput chart. No DOM here.

import type { JobEvent, Snapshot } from '../../../server/protocol/types.js';

export interface JobFigures {
  /** Bytes per second of the file in progress, or null when unknown. */
  bytesPerSecond: number | null;
  /** Time left for the whole job when the figure arrived, or null when unknown. */
  jobEtaMs: number | null;
  /** When it arrived (local clock, Date.now()). */
  receivedAt: number;
}

/** Per running job: its rate and ETA as of its last `file.progress`. */
export class JobFiguresTable {
  private readonly figures = new Map<string, JobFigures>();

  /** Folds the event that changed `snapshot` (the snapshot after it). */
  onChange(snapshot: Snapshot, event: JobEvent | undefined, now: number): void {
    if (event === undefined) return;
    if (event.name === 'file.progress') {
      const file = snapshot.files[event.data.file];
      const { rate, total, jobEtaMs } = event.data;
      // Processors report in their own units; rate * size / total turns units/s into bytes/s.
      const bytesPerSecond = rate === null || file === undefined || total <= 0 ? null : (rate * file.size) / total;
      this.figures.set(snapshot.id, { bytesPerSecond, jobEtaMs, receivedAt: now });
    } else if (event.name !== 'file.started' && event.name !== 'file.completed' && event.name !== 'file.failed') {
      // A job-level transition: a stopped or requeued job has no current rate.
      this.figures.delete(snapshot.id);
    }
  }

  get(id: string): JobFigures | undefined {
    return this.figures.get(id);
  }

  /** The ETA counted down since it arrived; null when unknown. */
  etaMs(id: string, now: number): number | null {
    const figures = this.figures.get(id);
    if (figures === undefined || figures.jobEtaMs === null) return null;
    return Math.max(0, figures.jobEtaMs - (now - figures.receivedAt));
  }

  forget(id: string): void {
    this.figures.delete(id);
  }
}

/** Work done between two samples, summed over every job, from the events (a catch-up snapshot counts nothing). */
export class WorkMeter {
  private bytes = 0;
  private files = 0;

  /** `before` is the job's snapshot before the event, when it was known. */
  onChange(before: Snapshot | undefined, after: Snapshot, event: JobEvent | undefined): void {
    if (event === undefined || before === undefined) return;
    if (event.name === 'file.progress' || event.name === 'file.completed') {
      const index = event.data.file;
      const was = before.files[index];
      const now = after.files[index];
      // A requeued file starts again from zero: going back is not negative work.
      if (was !== undefined && now !== undefined) this.bytes += Math.max(0, (now.fraction - was.fraction) * now.size);
    }
    if (event.name === 'file.completed' || event.name === 'file.failed') this.files++;
  }

  /** What was done since the last call. */
  take(): { bytes: number; files: number } {
    const taken = { bytes: this.bytes, files: this.files };
    this.bytes = 0;
    this.files = 0;
    return taken;
  }
}
