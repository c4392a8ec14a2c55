// The public shape of the client SDK: what createClient() returns and what its
// callbacks receive. Protocol types (Snapshot, JobEvent, ...) live in server/protocol.

import type { ErrorInfo, JobEvent, Snapshot } from '../server/protocol/types.js';

/**
 * `connecting`: the first socket, until the server has answered every subscription;
 * `live`: every subscription answered, events flow; `reconnecting`: after any close or
 * failed attempt, until a new socket's subscriptions are answered; `closed`: by close().
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** What comes with a connection state. */
export interface ConnectionDetail {
  /** The reconnect attempt under way (1, 2, ...) or, when live, the one that worked; 0 for the first connection. */
  attempt: number;
  /** True when `live` follows a reconnect: every watch resumed (or re-read its snapshot) on the new socket. */
  resumed: boolean;
}

/** What comes with a watched job's state. */
export interface WatchInfo {
  /** How the server caught this watch up on the current socket; null until it has acknowledged the subscription. */
  mode: 'snapshot' | 'resume' | null;
  /** The server's error for this job (`job_not_found` comes with a null snapshot and ends the watch). */
  error?: ErrorInfo;
  /** The event this change folded in, when the change came from one: `file.progress` carries `rate` and ETAs that no snapshot holds. */
  event?: JobEvent;
}

/** Called with the job's state after every change; `snapshot` is null only with an error. */
export type WatchListener = (snapshot: Snapshot | null, info: WatchInfo) => void;

/** Called with every known job (id -> snapshot) after every change, once the first catch-up is over. */
export type WatchAllListener = (jobs: ReadonlyMap<string, Snapshot>) => void;

/**
 * Called for one job of the `*` view that changed: its snapshot, or null when it left the
 * view (a new catch-up after a reconnect did not mention it, or the server no longer has
 * it); `event` is the event folded in, when the change came from one.
 */
export type WatchAllChangeListener = (jobId: string, snapshot: Snapshot | null, event?: JobEvent) => void;

/** Called when the server refuses `*`: `unauthorized` (connect with the token) or `too_many_subscriptions`. */
export type WatchAllErrorListener = (error: ErrorInfo) => void;

/** Called with the new state and its detail. */
export type ConnectionStateListener = (state: ConnectionState, detail: ConnectionDetail) => void;

export interface JobcastClient {
  /**
   * Follows one job. `onState` gets the snapshot after the catch-up and after every
   * change. Returns the unwatch function (safe to call twice). Throws a TypeError for
   * an id that cannot be a job id (use watchAll for `*`).
   */
  watch(jobId: string, onState: WatchListener): () => void;
  /**
   * Follows every job: the `*` subscription (queued, running and recently finished
   * jobs, then every new one). `onError` (default: none) hears the server's refusal,
   * `unauthorized` when the server has a token and the client was not given it.
   * Returns the unwatch function (safe to call twice).
   */
  watchAll(onState: WatchAllListener, onError?: WatchAllErrorListener): () => void;
  /**
   * The `*` subscription, told job by job: once the first catch-up is over, `onChange` is
   * called for every known job, then for each job that changes. For views of many busy
   * jobs, where a whole map per event (watchAll) would cost more than the change itself.
   * Returns the unwatch function (safe to call twice).
   */
  watchAllChanges(onChange: WatchAllChangeListener, onError?: WatchAllErrorListener): () => void;
  /** The connection's state now. */
  readonly connectionState: ConnectionState;
  /** Called on every change of state, and on each new attempt while reconnecting. Returns the remove function. */
  onConnectionState(listener: ConnectionStateListener): () => void;
  /** Closes the socket and stops reconnecting; no listener is called afterwards. Safe to call twice. */
  close(): void;
}
