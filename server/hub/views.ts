// What a session knows per job it shows its client (see session.ts for the states), the
// table of them, and a `*` catch-up under way. Thousands of idle connections each hold
// one: every field here is paid for 5,000 times, so what only a catch-up needs lives in
// a CatchUp that exists only while one runs.

import type { Snapshot } from '../protocol/types.js';
import type { Frame } from './frame.js';

/**
 * What waits while a view catches up: live events and the latest queue position that
 * arrived while the store was read. A new catch-up gets a new CatchUp, so an older one
 * still awaiting the store can tell it was superseded. What a superseded one held is
 * dropped: the read that supersedes it starts later and holds all of it.
 */
export class CatchUp {
  /** Live events that arrived meanwhile, each with the job's snapshot right after it; in arrival order. */
  readonly pending: Array<[Frame, Snapshot]> = [];
  /** The latest queue position that arrived meanwhile: positions are not replayed (SPEC 3.2), and the store may have read an older one. */
  private position: Frame | null = null;

  hold(frame: Frame, snapshot: Snapshot): void {
    this.pending.push([frame, snapshot]);
    // Every job.* event sets queuePosition itself (SPEC 3.2), so a position from before it is stale.
    if (frame.name.startsWith('job.')) this.position = null;
  }

  holdPosition(frame: Frame): void {
    this.position = frame;
  }

  /** The latest position held, or null. */
  get heldPosition(): Frame | null {
    return this.position;
  }
}

export class View {
  /** Seq of the last event or snapshot given to the client; 0 before any. */
  lastSeq = 0;
  /**
   * A CatchUp while the store is read (live events wait in it); live; or behind: nothing
   * goes out until a catch-up read refreshes the view (the send buffer passed the soft
   * limit, or a subscribe asked for a catch-up whose read has not started).
   */
  state: CatchUp | 'live' | 'behind';

  constructor(
    /** The job's id; the hub's copy of the string where there is one, shared by every watcher. */
    readonly job: string,
    /** Subscribed by name (not only through `*`). */
    public isExplicit: boolean,
    state: CatchUp | 'live' | 'behind',
  ) {
    this.state = state;
  }

  /** The catch-up under way, or null. */
  get catchUp(): CatchUp | null {
    return this.state instanceof CatchUp ? this.state : null;
  }
}

/**
 * A `*` catch-up under way (SPEC 3.3): the jobs to show, read first as a list of ids, then
 * one snapshot at a time while the client reads them. A job still ahead in the list has
 * no view yet: its events and positions are not sent, since its snapshot, read later,
 * holds them. A new `*` request makes a new walk; the old one stops at its next step.
 */
export class DashboardWalk {
  constructor(
    /** A live `*` walking its jobs again after a resync: it ends without a second `subscribed`. */
    readonly isRefresh = false,
  ) {}

  /** The ids still to show, in order; null until the list is read. */
  private ahead: string[] | null = null;
  private aheadSet: Set<string> | null = null;
  private index = 0;

  get isListed(): boolean {
    return this.ahead !== null;
  }

  start(ids: readonly string[]): void {
    const unique = [...new Set(ids)];
    this.ahead = unique;
    this.aheadSet = new Set(unique);
  }

  /** The next job to show, now no longer ahead; undefined at the end. */
  next(): string | undefined {
    const job = this.ahead?.[this.index++];
    if (job !== undefined) this.aheadSet!.delete(job);
    return job;
  }

  /** True for a job whose snapshot this walk is still to read. */
  isAhead(job: string): boolean {
    return this.aheadSet?.has(job) ?? false;
  }
}

/**
 * A session's views by job. Most connections watch one job (an SDK client, an SSE stream,
 * a job page), so that one is held inline and a Map is made only for a second one.
 */
export class ViewTable {
  private first: View | null = null;
  private more: Map<string, View> | null = null;

  get(job: string): View | undefined {
    return this.first?.job === job ? this.first : this.more?.get(job);
  }

  add(view: View): View {
    if (this.first === null) this.first = view;
    else (this.more ??= new Map()).set(view.job, view);
    return view;
  }

  delete(view: View): void {
    if (this.first === view) this.first = null;
    else if (this.more?.get(view.job) === view) this.more.delete(view.job);
  }

  /** Every view; deleting the current one while iterating is allowed. */
  *[Symbol.iterator](): IterableIterator<View> {
    if (this.first !== null) yield this.first;
    if (this.more !== null) yield* this.more.values();
  }
}
