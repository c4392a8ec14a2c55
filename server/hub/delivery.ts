// What one connection is sent: per-job views, catch-up reads, live events, and the limits
// every write counts against (SPEC 3.3, 7). Engine-neutral: it writes Frames to a
// Connection and nothing else. Session (session.ts) adds what the client asks for.
//
// Per job a view (views.ts) holds the last seq the client was given and a state.
// - catchup: a snapshot or the missed events are being read; live events wait in its CatchUp.
// - live: events go out in seq order; one already given is skipped, a gap is bridged by a snapshot.
// - behind: nothing goes out until a catch-up read refreshes the view. The send buffer
//   passed the soft limit (then, once it drains, one fresh snapshot goes out and the view
//   is live again), or a subscribe asked for a catch-up whose read has not started.
// The store answers asynchronously (a remote one, later), so anything can happen while a
// catch-up awaits it: events, positions, another subscribe, an unsubscribe, a close. Each
// catch-up checks it is still the current one before it writes, and what arrived meanwhile
// waits in its CatchUp. A superseding request marks the view behind at once: the read it
// makes later holds everything the superseded one would have sent.
//
// Every write goes through write(): events, snapshots and replies alike count against the
// soft limit (the behind clock starts, messages and reads wait), the hard limit (1013) and
// maxBehindMs (1013, checked by the hub).

import { CLOSE_CODES, isJobcastError } from '../errors.js';
import { isFinalStatus, type JobEvent, type Snapshot } from '../protocol/types.js';
import type { Connection } from '../transport/connection.js';
import { Frame } from './frame.js';
import type { SnapshotRead } from './snapshot-cache.js';
import { CatchUp, DashboardWalk, View, ViewTable } from './views.js';

/** What a session needs from its hub. */
export interface SessionHost {
  readonly maxSubscriptions: number;
  /** --max-messages-per-second, and how many messages may come at once. */
  readonly messageRate: { readonly perSecond: number; readonly burst: number };
  readonly softLimitBytes: number;
  readonly hardLimitBytes: number;
  /** The job's current snapshot and its Frame (a finished one from the cache); rejects JobcastError('job_not_found'). */
  readSnapshot(job: string): Promise<SnapshotRead>;
  /** The Frame of a snapshot the session already holds (taken from an event), made once for all sessions. */
  snapshotFrame(snapshot: Snapshot): Frame;
  /** Events after `since`, or null when the log does not cover them (SPEC 3.3 subscribe rules). */
  eventsSince(job: string, since: number): Promise<JobEvent[] | null>;
  /** Ids of the jobs a new `*` subscriber is shown: queued, running and recently finished. */
  dashboardIds(): Promise<string[]>;
  /** Adds the live queue position to a snapshot taken from an event. */
  withPosition(snapshot: Snapshot): Snapshot;
  /** Sends the job's events to the session from now on; returns the hub's copy of the id, to share. */
  watchJob(session: Delivery, job: string): string;
  unwatchJob(session: Delivery, job: string): void;
  watchAll(session: Delivery, isOn: boolean): void;
  setBehind(session: Delivery, isBehind: boolean): void;
  /** The connection is gone; the session has already let go of its jobs. */
  onSessionClosed(session: Delivery): void;
  /** Something failed that the client could not cause (a store error): logged. */
  onSessionError(session: Delivery, err: unknown, job?: string): void;
}

export abstract class Delivery {
  protected readonly views = new ViewTable();
  /** The `*` subscription: off, live, or the walk of its catch-up. */
  protected dashboard: DashboardWalk | 'off' | 'live' = 'off';
  protected explicitCount = 0;
  /** ending: the server is closing the connection; closed: onClose has run and the hub has forgotten it. */
  protected phase: 'open' | 'ending' | 'closed' = 'open';
  /** When the send buffer last went over the soft limit (for maxBehindMs), or null since it drained. */
  behindSince: number | null = null;

  constructor(
    readonly connection: Connection,
    protected readonly host: SessionHost,
  ) {}

  /** Closing or closed: nothing more is handled, read from the store or written. */
  protected get isEnding(): boolean {
    return this.phase !== 'open';
  }

  protected get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** A live event of a job this session watches (by name or through `*`). */
  deliver(frame: Frame, snapshot: Snapshot): void {
    let view = this.views.get(frame.job!);
    if (view === undefined) {
      if (this.dashboard === 'off' || (this.dashboard instanceof DashboardWalk && this.dashboard.isAhead(frame.job!))) return;
      // A job `*` has not shown yet: from its first event on, or from a snapshot.
      view = this.views.add(new View(frame.job!, false, 'live'));
    }
    this.deliverToView(view, frame, snapshot);
  }

  /**
   * A queue position message. Not logged, not replayed: live views get it, and a catch-up
   * keeps the latest one for after its snapshot (which the store may have read before it).
   */
  deliverPosition(frame: Frame): void {
    const view = this.views.get(frame.job!);
    if (view === undefined) {
      const isShown = this.dashboard === 'live' || (this.dashboard instanceof DashboardWalk && !this.dashboard.isAhead(frame.job!));
      if (isShown) this.write(frame);
      return;
    }
    const catchUp = view.catchUp;
    if (catchUp !== null) catchUp.holdPosition(frame);
    else if (view.state === 'live') this.sendPosition(view, frame);
  }

  /** Closes the connection as too slow (SPEC 3.3: 1013, the client resumes with since); false if it was already closing. */
  closeAsSlow(): boolean {
    return this.end(CLOSE_CODES.tryAgainLater, 'the client reads too slowly');
  }

  isOverSoftLimit(): boolean {
    return this.connection.bufferedAmount() > this.host.softLimitBytes;
  }

  // Catch-ups.

  /**
   * Brings a view up to date: the events after `since` when the log covers them, else a
   * snapshot (with 'newer', only if it is newer than what the view sent); then whatever
   * arrived meanwhile. Resolves null when superseded or failed, without reading if already superseded.
   */
  protected async catchUp(view: View, since: number | undefined, snapshotIf: 'always' | 'newer'): Promise<'snapshot' | 'resume' | null> {
    if (this.isEnding || this.views.get(view.job) !== view) return null;
    const catchUp = new CatchUp();
    view.state = catchUp;
    let events: JobEvent[] | null;
    let read: SnapshotRead;
    try {
      events = since === undefined ? null : await this.host.eventsSince(view.job, since);
      // In resume mode too: queue positions are not replayed (SPEC 3.2), so a client resuming a
      // queued job would keep the position of its last event until the queue next moves.
      read = await this.host.readSnapshot(view.job);
    } catch (err) {
      if (this.isCurrent(view, catchUp)) this.failView(view, err);
      return null;
    }
    if (!this.isCurrent(view, catchUp)) return null;
    if (events === null) {
      if (snapshotIf === 'always' || read.snapshot.seq > view.lastSeq) this.sendSnapshot(view, read);
    } else if (this.replay(view, since!, events)) {
      this.fallBehind(view);
      return 'resume';
    } else if (read.snapshot.queuePosition !== null) {
      this.write(Frame.position(view.job, read.snapshot.queuePosition));
    }
    this.goLive(view, read.snapshot);
    return events === null ? 'snapshot' : 'resume';
  }

  protected isCurrent(view: View, catchUp: CatchUp): boolean {
    return !this.isEnding && view.state === catchUp && this.views.get(view.job) === view;
  }

  protected sendSnapshot(view: View, read: SnapshotRead): void {
    this.write(read.frame);
    view.lastSeq = read.snapshot.seq;
  }

  /** Sends the missed events; true when the soft limit cut the replay short. */
  protected replay(view: View, since: number, events: JobEvent[]): boolean {
    view.lastSeq = since;
    for (const event of events) {
      // A long log replayed to a client that does not read would queue all of it (up to
      // --log-size events per subscription) past every limit: stop at the soft limit like
      // live delivery does, and let the drain send a snapshot for the rest (SPEC 3.3).
      if (this.isOverSoftLimit()) return true;
      this.write(Frame.event(event));
      view.lastSeq = event.seq;
    }
    return false;
  }

  /**
   * Ends a catch-up: the view is live, what waited goes out in arrival order, and then the
   * latest position that came meanwhile if the job is still queued by the newest snapshot
   * known. A view shown through `*` only goes once its job has finished: nothing follows.
   */
  protected goLive(view: View, latest: Snapshot): void {
    const catchUp = view.catchUp;
    if (catchUp === null) return;
    view.state = 'live';
    for (const [frame, after] of catchUp.pending) {
      this.deliverToView(view, frame, after);
      if (after.seq > latest.seq) latest = after;
    }
    const position = catchUp.heldPosition;
    if (position !== null && view.state === 'live' && latest.status === 'queued') this.sendPosition(view, position);
    if (!view.isExplicit && isFinalStatus(latest.status) && view.state === 'live') this.views.delete(view);
  }

  /**
   * A catch-up read failed. The view is dropped, not left catching up with events piling up
   * behind it; the client is told, and may subscribe again.
   */
  protected failView(view: View, err: unknown): void {
    const wasExplicit = view.isExplicit;
    this.views.delete(view);
    if (wasExplicit) this.dropExplicit(view);
    if (isJobcastError(err) && err.code === 'job_not_found') {
      // By name, SPEC 3.3's answer. Through `*` only, the job was deleted: no event follows, nothing to say.
      if (wasExplicit) this.sendError('job_not_found', err.message, view.job);
      return;
    }
    // The store failed. Through `*`, the job's next event brings a new view and a snapshot; by name, the client may subscribe again.
    this.host.onSessionError(this, err, view.job);
    this.sendError('internal_error', 'reading the job failed; see the server log', view.job);
  }

  // Live delivery.

  protected deliverToView(view: View, frame: Frame, snapshot: Snapshot): void {
    if (view.state instanceof CatchUp) return view.state.hold(frame, snapshot);
    if (view.state === 'behind' || frame.seq! <= view.lastSeq) return;
    if (this.isOverSoftLimit()) return this.fallBehind(view);
    if (frame.seq === view.lastSeq + 1) {
      this.write(frame);
    } else {
      // The client has not seen this job's earlier events: bridge the gap with the snapshot at this event.
      this.write(this.host.snapshotFrame(this.host.withPosition(snapshot)));
    }
    view.lastSeq = frame.seq!;
    // Through `*` only: a finished job sends nothing more, so its view can go.
    if (frame.isFinal && !view.isExplicit) this.views.delete(view);
  }

  protected sendPosition(view: View, frame: Frame): void {
    if (this.isOverSoftLimit()) return this.fallBehind(view);
    this.write(frame);
  }

  protected dropExplicit(view: View): void {
    view.isExplicit = false;
    this.explicitCount--;
    this.host.unwatchJob(this, view.job);
  }

  // Writing, and the limits every write counts against.

  /** Every frame goes out here: events, snapshots and replies alike count against the limits (SPEC 7). */
  protected write(frame: Frame): void {
    if (this.isEnding) return;
    this.connection.send(frame);
    const buffered = this.connection.bufferedAmount();
    if (buffered <= this.host.softLimitBytes) return;
    this.noteBehind();
    if (buffered > this.host.hardLimitBytes) this.closeAsSlow();
  }

  protected fallBehind(view: View): void {
    view.state = 'behind';
    this.noteBehind();
  }

  /** Starts the behind clock (the hub checks the hard limit and maxBehindMs); the next drain stops it. */
  protected noteBehind(): void {
    if (this.behindSince === null) {
      this.behindSince = Date.now();
      this.host.setBehind(this, true);
    }
  }

  protected sendError(code: string, message: string, job?: string): void {
    this.write(Frame.control({ type: 'error', code, message, ...(job !== undefined && { job }) }));
  }

  protected end(code: number, reason: string): boolean {
    if (this.isEnding) return false;
    this.phase = 'ending';
    this.connection.close(code, reason);
    this.onEnd();
    return true;
  }

  /** The connection is closing: requests that wait are dropped. */
  protected abstract onEnd(): void;
}
