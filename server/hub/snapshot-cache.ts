// Serialised snapshots shared by every connection: 2,000 subscribers of one large job
// cost one JSON.stringify, not 2,000 (a 1,000-file snapshot is about 230 KB of JSON).
// A finished job's snapshot never changes, so it is served from here without a store
// read at all; an active job's is read (its seq moves) and its Frame reused while the
// job stays at that seq and queue position. Bounded by bytes, least recently used first out.

import { isFinalStatus, type Snapshot } from '../protocol/types.js';
import { Frame } from './frame.js';

/** A snapshot and its Frame, as a catch-up sends it. */
export interface SnapshotRead {
  readonly snapshot: Snapshot;
  readonly frame: Frame;
}

interface Entry extends SnapshotRead {
  readonly bytes: number;
}

/**
 * Bytes an entry is counted for: the JSON text, and the UTF-8 Buffer and SSE form the
 * Frame makes of it on first use (STYLE: every buffer has a limit).
 */
function costOf(frame: Frame): number {
  return 3 * frame.text.length;
}

export class SnapshotCache {
  /** By job id, one entry each (its latest snapshot); Map order is use order, oldest first. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /** @param maxBytes what all entries together may cost; a snapshot costing more than a quarter of it is not kept. */
  constructor(private readonly maxBytes: number) {}

  /** The cached read of a finished job, or undefined. */
  finished(job: string): SnapshotRead | undefined {
    const entry = this.entries.get(job);
    if (entry === undefined || !isFinalStatus(entry.snapshot.status)) return undefined;
    this.touch(job, entry);
    return entry;
  }

  /** The snapshot with its Frame: the cached one when the job is at the same seq and queue position, else made and kept. */
  read(snapshot: Snapshot): SnapshotRead {
    const entry = this.entries.get(snapshot.id);
    if (entry !== undefined && entry.snapshot.seq === snapshot.seq && entry.snapshot.queuePosition === snapshot.queuePosition) {
      this.touch(snapshot.id, entry);
      return entry;
    }
    const frame = Frame.snapshot(snapshot);
    this.put({ snapshot, frame, bytes: costOf(frame) });
    return { snapshot, frame };
  }

  /** Forgets a job (deleted: a cached finished snapshot would outlive it). */
  delete(job: string): void {
    const entry = this.entries.get(job);
    if (entry === undefined) return;
    this.entries.delete(job);
    this.bytes -= entry.bytes;
  }

  /** What the entries cost now, in bytes (for tests and metrics). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private put(entry: Entry): void {
    this.delete(entry.snapshot.id);
    if (entry.bytes > this.maxBytes / 4) return;
    this.entries.set(entry.snapshot.id, entry);
    this.bytes += entry.bytes;
    for (const [job, oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(job);
      this.bytes -= oldest.bytes;
    }
  }

  private touch(job: string, entry: Entry): void {
    this.entries.delete(job);
    this.entries.set(job, entry);
  }
}
