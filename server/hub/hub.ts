// The fan-out hub: who watches which job, one serialisation per event for all of them
// (and per snapshot, through a cache shared by every connection), and the check of every
// connection against the slow-reader limits. Engine-neutral: transports hand it
// Connections and forward what they hear.

import { CLOSE_CODES } from '../errors.js';
import type { Feed } from '../feed/feed.js';
import type { Logger } from '../logger.js';
import type { JobEvent, PositionMessage, Snapshot } from '../protocol/types.js';
import type { Connection } from '../transport/connection.js';
import { Frame } from './frame.js';
import { Session, type SessionHandlers, type SessionHost } from './session.js';
import { SnapshotCache, type SnapshotRead } from './snapshot-cache.js';

export type { SessionHandlers } from './session.js';

/** This process's queue position messages (not on the feed: each process computes its own). */
export interface PositionSource {
  on(name: 'position', listener: (message: PositionMessage) => void): unknown;
  off(name: 'position', listener: (message: PositionMessage) => void): unknown;
}

export interface HubOptions {
  /** Every job's events, and resyncs when entries may have been missed. */
  feed: Feed;
  positions: PositionSource;
  logger: Logger;
  /** The job's snapshot with its live queue position; rejects job_not_found. */
  getSnapshot(job: string): Promise<Snapshot>;
  /** Events after `since` when the log covers them, else null. */
  eventsSince(job: string, since: number): Promise<JobEvent[] | null>;
  /** Ids of the queued and running jobs, then of up to 100 recently finished ones. */
  dashboardIds(): Promise<string[]>;
  withPosition(snapshot: Snapshot): Snapshot;
  /** --max-subscriptions per connection. */
  maxSubscriptions: number;
  /** --max-messages-per-second per connection (default 100). */
  maxMessagesPerSecond?: number;
  /**
   * Past this many buffered bytes a connection stops getting events, its messages wait and
   * it is no longer read, and its catch-up reads wait (default 1 MiB).
   */
  softLimitBytes?: number;
  /** Past this many it is closed with 1013 (default 8 MiB). */
  hardLimitBytes?: number;
  /** Behind for longer than this, it is closed with 1013 (default 30 s). */
  maxBehindMs?: number;
  /** What the serialised snapshots shared by all connections may cost (default 32 MiB). */
  snapshotCacheBytes?: number;
}

export interface HubStats {
  connections: number;
  behind: number;
  paused: number;
  maxBufferedBytes: number;
  cachedSnapshots: number;
  cachedSnapshotBytes: number;
}

/** For a connection refused at shutdown: it hears nothing. */
const IGNORED: SessionHandlers = Object.freeze({ onMessage() {}, onDrain() {}, onClose() {}, subscribe() {} });

/**
 * A job's watchers, with the one copy of its id they all share: ids arrive in each client's
 * own message, and 5,000 subscribers of a job would otherwise keep 5,000 copies of it.
 */
class Watchers extends Set<Session> {
  constructor(readonly job: string) {
    super();
  }
}

const DEFAULT_SOFT_LIMIT = 1024 * 1024;
const DEFAULT_HARD_LIMIT = 8 * 1024 * 1024;
const DEFAULT_MAX_BEHIND_MS = 30_000;
const DEFAULT_MAX_MESSAGES_PER_SECOND = 100;
const DEFAULT_SNAPSHOT_CACHE_BYTES = 32 * 1024 * 1024;
/** How often every connection is checked against the limits (what a session writes is checked as it writes). */
const SLOW_CHECK_MS = 500;

export class Hub implements SessionHost {
  readonly maxSubscriptions: number;
  readonly messageRate: { readonly perSecond: number; readonly burst: number };
  readonly softLimitBytes: number;
  readonly hardLimitBytes: number;
  private readonly maxBehindMs: number;
  private readonly snapshots: SnapshotCache;
  /** Counts deletions, so that a read that was under way when its job was deleted is not cached. */
  private deletions = 0;
  private readonly byJob = new Map<string, Watchers>();
  private readonly dashboards = new Set<Session>();
  private readonly sessions = new Set<Session>();
  private readonly behind = new Set<Session>();
  private readonly timer: NodeJS.Timeout;
  private isClosed = false;

  constructor(private readonly opts: HubOptions) {
    this.maxSubscriptions = opts.maxSubscriptions;
    const perSecond = opts.maxMessagesPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND;
    // A client re-subscribing every watch after a reconnect sends up to --max-subscriptions at once.
    this.messageRate = Object.freeze({ perSecond, burst: opts.maxSubscriptions + perSecond });
    this.softLimitBytes = opts.softLimitBytes ?? DEFAULT_SOFT_LIMIT;
    this.hardLimitBytes = opts.hardLimitBytes ?? DEFAULT_HARD_LIMIT;
    this.maxBehindMs = opts.maxBehindMs ?? DEFAULT_MAX_BEHIND_MS;
    this.snapshots = new SnapshotCache(opts.snapshotCacheBytes ?? DEFAULT_SNAPSHOT_CACHE_BYTES);
    opts.feed.on('event', this.feedOnEvent);
    opts.feed.on('resync', this.feedOnResync);
    opts.feed.on('deleted', this.feedOnDeleted);
    opts.positions.on('position', this.positionsOnPosition);
    this.timer = setInterval(() => this.closeTooSlow(), SLOW_CHECK_MS);
    this.timer.unref();
  }

  /** Connections open now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Slow-reader state, for metrics and tests: connections over the soft limit (behind),
   * connections not being read (paused), the most bytes any connection has buffered, and
   * what the shared snapshot cache holds.
   */
  stats(): HubStats {
    let maxBufferedBytes = 0;
    let paused = 0;
    for (const session of this.sessions) {
      maxBufferedBytes = Math.max(maxBufferedBytes, session.connection.bufferedAmount());
      if (session.isReadingPaused) paused++;
    }
    const cache = this.snapshots.size;
    return {
      connections: this.sessions.size,
      behind: this.behind.size,
      paused,
      maxBufferedBytes,
      cachedSnapshots: cache.entries,
      cachedSnapshotBytes: cache.bytes,
    };
  }

  /**
   * Adopts a connection; the transport forwards its messages, drains and close to the
   * handlers. They are the Session itself, not closures around it: one object per connection.
   */
  open(connection: Connection, options: { mayWatchAll: boolean }): SessionHandlers {
    if (this.isClosed) {
      connection.close(CLOSE_CODES.shutdown, 'the server is shutting down');
      return IGNORED;
    }
    const session = new Session(connection, this, options.mayWatchAll);
    this.sessions.add(session);
    return session;
  }

  /** Closes every connection with 1001 (SPEC 3.3: the clients resume elsewhere or later). Safe to call twice. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.timer);
    this.opts.feed.off('event', this.feedOnEvent);
    this.opts.feed.off('resync', this.feedOnResync);
    this.opts.feed.off('deleted', this.feedOnDeleted);
    this.opts.positions.off('position', this.positionsOnPosition);
    for (const session of this.sessions) session.connection.close(CLOSE_CODES.shutdown, 'the server is shutting down');
  }

  // The event path: one Frame per event, the same object for every subscriber.
  private readonly feedOnEvent = (event: JobEvent, snapshot: Snapshot): void => {
    const watchers = this.byJob.get(event.job);
    if (watchers === undefined && this.dashboards.size === 0) return;
    const frame = Frame.event(event);
    if (watchers !== undefined) for (const session of watchers) session.deliver(frame, snapshot);
    for (const session of this.dashboards) if (watchers === undefined || !watchers.has(session)) session.deliver(frame, snapshot);
  };

  /** The feed may have missed entries: every session brings its views up to date from the store. */
  private readonly feedOnResync = (): void => {
    for (const session of this.sessions) session.resync();
  };

  private readonly positionsOnPosition = (message: PositionMessage): void => {
    const watchers = this.byJob.get(message.job);
    if (watchers === undefined && this.dashboards.size === 0) return;
    const frame = Frame.position(message.job, message.position);
    if (watchers !== undefined) for (const session of watchers) session.deliverPosition(frame);
    for (const session of this.dashboards) if (watchers === undefined || !watchers.has(session)) session.deliverPosition(frame);
  };

  private readonly feedOnDeleted = (job: string): void => {
    this.deletions++;
    this.snapshots.delete(job);
  };

  /**
   * Every connection, not only those a session has seen pass the soft limit: bytes the
   * transport writes itself (heartbeats) count too. Over the hard limit, or over the soft
   * one for longer than maxBehindMs, it is closed with 1013.
   */
  private closeTooSlow(): void {
    const now = Date.now();
    for (const session of this.sessions) {
      const buffered = session.connection.bufferedAmount();
      if (buffered > this.softLimitBytes && session.behindSince === null) {
        session.behindSince = now;
        this.behind.add(session);
      }
      if (session.behindSince === null) continue;
      if (now - session.behindSince > this.maxBehindMs || buffered > this.hardLimitBytes) {
        this.behind.delete(session);
        if (session.closeAsSlow()) this.opts.logger.info({ buffered }, 'closing a connection that reads too slowly');
      }
    }
  }

  // SessionHost: what sessions ask of the hub.

  /** The job's snapshot and its Frame: a finished job's from the cache without a store read; rejects job_not_found. */
  async readSnapshot(job: string): Promise<SnapshotRead> {
    const cached = this.snapshots.finished(job);
    if (cached !== undefined) return cached;
    const deletions = this.deletions;
    const snapshot = await this.opts.getSnapshot(job);
    // Deleted while it was read: not kept, or the cache would serve a job that is gone.
    return deletions === this.deletions ? this.snapshots.read(snapshot) : { snapshot, frame: Frame.snapshot(snapshot) };
  }

  snapshotFrame(snapshot: Snapshot): Frame {
    return this.snapshots.read(snapshot).frame;
  }

  eventsSince(job: string, since: number): Promise<JobEvent[] | null> {
    return this.opts.eventsSince(job, since);
  }

  dashboardIds(): Promise<string[]> {
    return this.opts.dashboardIds();
  }

  withPosition(snapshot: Snapshot): Snapshot {
    return this.opts.withPosition(snapshot);
  }

  watchJob(session: Session, job: string): string {
    let watchers = this.byJob.get(job);
    if (watchers === undefined) this.byJob.set(job, (watchers = new Watchers(job)));
    watchers.add(session);
    return watchers.job;
  }

  unwatchJob(session: Session, job: string): void {
    const watchers = this.byJob.get(job);
    if (watchers === undefined) return;
    watchers.delete(session);
    if (watchers.size === 0) this.byJob.delete(job);
  }

  watchAll(session: Session, isOn: boolean): void {
    if (isOn) this.dashboards.add(session);
    else this.dashboards.delete(session);
  }

  setBehind(session: Session, isBehind: boolean): void {
    if (isBehind) this.behind.add(session);
    else this.behind.delete(session);
  }

  onSessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  onSessionError(_session: Session, err: unknown, job?: string): void {
    this.opts.logger.error({ err, job }, 'a subscription failed unexpectedly');
  }
}
