// Reads of jobs: snapshots with their live queue position (which events do not carry:
// SPEC 3.2), pages of the list, the dashboard's snapshots, and waiting for a job's end.

import { JobcastError } from '../errors.js';
import type { Feed } from '../feed/feed.js';
import { isFinalStatus, type JobEvent, type Snapshot } from '../protocol/types.js';
import type { Queue } from '../queue/queue.js';
import type { ListPage, ListQuery, Store } from '../store/store.js';

export interface JobReaderOptions {
  store: Store;
  queue: Queue;
  feed: Feed;
  /** The position this process last told subscribers for a waiting job (PositionNotifier), or null. */
  knownPosition(id: string): number | null;
}

/** Most finished jobs a new `*` subscriber gets snapshots of (SPEC 3.3). */
const DASHBOARD_RECENT = 100;

export class JobReader {
  constructor(private readonly opts: JobReaderOptions) {}

  /** The job's snapshot with its current queue position; rejects job_not_found. */
  async get(id: string): Promise<Snapshot> {
    const snapshot = await this.opts.store.getSnapshot(id);
    if (snapshot === null) throw new JobcastError('job_not_found');
    const position = snapshot.status === 'queued' ? await this.opts.queue.position(id) : null;
    return withPosition(snapshot, position);
  }

  /** A page of the list (Store.list: newest first), with current queue positions. */
  async list(query: ListQuery): Promise<ListPage> {
    const page = await this.opts.store.list(query);
    return { jobs: await this.withPositions(page.jobs), next: page.next };
  }

  /** The snapshots with their current queue positions: one read of the waiting line for all of them. */
  async withPositions(snapshots: Snapshot[]): Promise<Snapshot[]> {
    if (!snapshots.some((s) => s.status === 'queued')) return snapshots.map((s) => withPosition(s, null));
    const waiting = await this.opts.queue.waiting();
    const positions = new Map(waiting.map((id, i) => [id, i + 1]));
    return snapshots.map((s) => withPosition(s, s.status === 'queued' ? (positions.get(s.id) ?? null) : null));
  }

  /**
   * The snapshot with the position last told for it, for a caller that cannot wait for
   * the queue (the hub bridging a gap in the live path): position messages correct it.
   */
  withKnownPosition(snapshot: Snapshot): Snapshot {
    if (snapshot.status !== 'queued') return withPosition(snapshot, null);
    return withPosition(snapshot, this.opts.knownPosition(snapshot.id) ?? snapshot.queuePosition);
  }

  /**
   * Every queued and running job, oldest first, then the most recently finished ones: ids
   * only. The hub reads their snapshots one at a time, as fast as the subscriber takes them.
   */
  async dashboardIds(): Promise<string[]> {
    const { store } = this.opts;
    const active = await store.idsByStatus(['queued', 'running']);
    return [...active, ...(await store.recentlyFinished(DASHBOARD_RECENT))];
  }

  /** Resolves with the final snapshot once the job ends, or null after `timeoutMs`. */
  waitForEnd(id: string, timeoutMs: number): Promise<Snapshot | null> {
    const { feed } = this.opts;
    return new Promise((resolve, reject) => {
      const onEvent = (_event: JobEvent, snapshot: Snapshot): void => {
        if (snapshot.id === id && isFinalStatus(snapshot.status)) finish(snapshot);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (value: Snapshot | null): void => {
        clearTimeout(timer);
        feed.off('event', onEvent);
        resolve(value);
      };
      // Listen first, then look: an end between the two cannot be missed.
      feed.on('event', onEvent);
      this.get(id).then((s) => isFinalStatus(s.status) && finish(s), reject);
    });
  }
}

function withPosition(snapshot: Snapshot, position: number | null): Snapshot {
  return position === snapshot.queuePosition ? snapshot : { ...snapshot, queuePosition: position };
}
