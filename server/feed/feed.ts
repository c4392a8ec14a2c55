// The Feed contract: how every process hears what changed. Every appended event, in
// order per job, with the snapshot right after it; notices of deletes, cancels and queue
// moves; and a `resync` when a listener may have missed entries. Saving an event and
// publishing it are one step (the JobLog, as centrifuge's Broker publishes into history),
// so a listener hears exactly the events the store holds. test/contracts/feed-contract.ts
// holds every implementation to this.

import type { JobEvent, Snapshot } from '../protocol/types.js';
import type { Appended } from '../store/store.js';

/** What listeners hear, by name. Listeners must not throw: they run inside the append path. */
export interface FeedEvents {
  /**
   * A job's event was stored; `snapshot` is the job right after it. Per job, in seq order,
   * never twice. A feed between processes carries the event alone and rebuilds the
   * snapshot by folding it with the shared reducer, reading the store when it sees a gap.
   */
  event: [event: JobEvent, snapshot: Snapshot];
  /** A finished job was deleted (DELETE or --retention). */
  deleted: [job: string];
  /**
   * The job was cancelled while claimed: its owner, whichever process that is, aborts
   * its processor at once (SPEC 1). The job.cancelled event follows.
   */
  cancel: [job: string];
  /**
   * The waiting line changed (a job was queued, claimed, put back or removed). Positions
   * are not logged (SPEC 3.2): each process recomputes them from the Queue.
   */
  queueMoved: [];
  /**
   * Entries may have been missed (a reconnect, a trimmed stream, lag): what a listener
   * holds may be stale. The hub answers with fresh snapshots for its subscribers.
   */
  resync: [];
}

export type FeedEventName = keyof FeedEvents;
export type FeedListener<K extends FeedEventName> = (...args: FeedEvents[K]) => void;

/** A notice for every process: everything the feed carries except events and resyncs. */
export type FeedNotice = { kind: 'deleted'; job: string } | { kind: 'cancel'; job: string } | { kind: 'queueMoved' };

export interface Feed {
  /**
   * Delivers an event the store has just appended to every listener of every process.
   * The JobLog calls it right after each append. An implementation whose store puts the
   * event on the feed within the append itself (Redis: one script appends, trims and adds
   * to the stream) delivers it from there and does nothing here.
   */
  publishEvent(appended: Appended): void;
  /** Delivers a notice to every listener of every process, this one included. */
  publish(notice: FeedNotice): Promise<void>;
  on<K extends FeedEventName>(name: K, listener: FeedListener<K>): void;
  off<K extends FeedEventName>(name: K, listener: FeedListener<K>): void;
  /** Stops delivery and lets go of every listener; safe to call twice. */
  close(): Promise<void>;
}
