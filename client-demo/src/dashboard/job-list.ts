// The dashboard's jobs: those of the live `*` view and those read page by page from
// `GET /jobs`, one list whatever their source, filtered and ordered. No DOM here.
//
// A job can be known both ways (a page read while it ran, then its live events): the
// copy with the higher seq is the newer one. Paging only ever adds finished jobs that
// `*` no longer carries, since `*` holds every queued and running job.

import { normaliseSearch, searchTextMatches, searchTextOf } from '../../../server/protocol/search.js';
import { isFinalStatus, type JobStatus, type Snapshot } from '../../../server/protocol/types.js';

/** A status, or `active` (queued and running), or `all`. */
export type StatusFilter = JobStatus | 'active' | 'all';

export interface Filter {
  status: StatusFilter;
  /** What the search box holds (raw): matched as the server's `q` is (protocol/search.ts). */
  q: string;
}

/** Counts over the live view: what the header and the queue-depth chart show. */
export interface LiveCounts {
  queued: number;
  running: number;
  /** createdAt of the job waiting longest, or null. */
  oldestQueuedAt: number | null;
}

export class JobList {
  private readonly live = new Map<string, Snapshot>();
  private readonly paged = new Map<string, Snapshot>();
  /** Search texts by id: names and labels never change, so each is made once. */
  private readonly searchTexts = new Map<string, string>();
  private filter: { status: StatusFilter; search: string } = { status: 'all', search: '' };
  private ordered: string[] = [];
  private isOrderStale = true;

  /** The newest copy of a job, from either source. */
  get(id: string): Snapshot | undefined {
    const live = this.live.get(id);
    const paged = this.paged.get(id);
    if (live === undefined) return paged;
    return paged === undefined || live.seq >= paged.seq ? live : paged;
  }

  /**
   * A change from the live view; null when the job left it (a catch-up after a reconnect
   * no longer carries it). Such a job stays listed as last seen: it most likely just
   * aged out of the 100 finished jobs `*` carries. Returns whether the list's order or
   * membership may have changed (false for progress alone, the common case).
   */
  setLive(id: string, snapshot: Snapshot | null): boolean {
    const before = this.get(id);
    if (snapshot === null) {
      const last = this.live.get(id);
      this.live.delete(id);
      if (last !== undefined && !this.paged.has(id)) this.paged.set(id, last);
      return false;
    }
    this.live.set(id, snapshot);
    const moved = before === undefined || before.status !== snapshot.status || before.queuePosition !== snapshot.queuePosition;
    if (moved) this.isOrderStale = true;
    return moved;
  }

  /** Forgets every live job (a new connection re-reads them all). */
  clearLive(): void {
    for (const [id, snapshot] of this.live) if (!this.paged.has(id) && isFinalStatus(snapshot.status)) this.paged.set(id, snapshot);
    this.live.clear();
    this.isOrderStale = true;
  }

  /** Jobs read from a page of `GET /jobs`. */
  addPaged(snapshots: readonly Snapshot[]): void {
    for (const snapshot of snapshots) {
      const known = this.paged.get(snapshot.id);
      if (known === undefined || snapshot.seq >= known.seq) this.paged.set(snapshot.id, snapshot);
    }
    this.isOrderStale = true;
  }

  /** Removes a job the server no longer has (an opened job answered job_not_found). */
  forget(id: string): void {
    this.live.delete(id);
    this.paged.delete(id);
    this.isOrderStale = true;
  }

  setFilter(filter: Filter): void {
    this.filter = { status: filter.status, search: normaliseSearch(filter.q) };
    this.isOrderStale = true;
  }

  /** Ids of the jobs that pass the filter: running first, then the queue in order, then the rest newest first. */
  ids(): readonly string[] {
    if (!this.isOrderStale) return this.ordered;
    const shown: Snapshot[] = [];
    for (const id of new Set([...this.live.keys(), ...this.paged.keys()])) {
      const snapshot = this.get(id)!;
      if (this.matches(snapshot)) shown.push(snapshot);
    }
    shown.sort(order);
    this.ordered = shown.map((s) => s.id);
    this.isOrderStale = false;
    return this.ordered;
  }

  /** Every job known, from either source (for the duration figures). */
  *all(): IterableIterator<Snapshot> {
    for (const id of this.live.keys()) yield this.get(id)!;
    for (const [id, snapshot] of this.paged) if (!this.live.has(id)) yield snapshot;
  }

  liveCounts(): LiveCounts {
    const counts: LiveCounts = { queued: 0, running: 0, oldestQueuedAt: null };
    for (const snapshot of this.live.values()) {
      if (snapshot.status === 'running') counts.running++;
      if (snapshot.status !== 'queued') continue;
      counts.queued++;
      if (counts.oldestQueuedAt === null || snapshot.createdAt < counts.oldestQueuedAt) counts.oldestQueuedAt = snapshot.createdAt;
    }
    return counts;
  }

  private matches(snapshot: Snapshot): boolean {
    const { status, search } = this.filter;
    if (status === 'active' ? isFinalStatus(snapshot.status) : status !== 'all' && snapshot.status !== status) return false;
    if (search === '') return true;
    let text = this.searchTexts.get(snapshot.id);
    if (text === undefined) {
      text = searchTextOf(snapshot);
      this.searchTexts.set(snapshot.id, text);
    }
    return searchTextMatches(text, search);
  }
}

function rank(snapshot: Snapshot): number {
  return snapshot.status === 'running' ? 0 : snapshot.status === 'queued' ? 1 : 2;
}

/** Running (longest running first), queued (next to start first), then finished newest first, as `GET /jobs` pages. */
export function order(a: Snapshot, b: Snapshot): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (a.status === 'running') return (a.startedAt ?? 0) - (b.startedAt ?? 0) || (a.id < b.id ? -1 : 1);
  if (a.status === 'queued') {
    const position = (a.queuePosition ?? Number.MAX_SAFE_INTEGER) - (b.queuePosition ?? Number.MAX_SAFE_INTEGER);
    return position || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
  }
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1);
}
