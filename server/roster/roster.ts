// The Roster contract: the processes that share a store, each known by the heartbeats it
// sends (SPEC 6). A process reports itself every few seconds (heartbeat.ts) with a time to
// live; a record not refreshed within it is gone, so a process that died leaves the list
// by itself, and one that stops cleanly removes its record. The memory and SQLite stores
// are kept by one process, whose roster is a list of one; Redis keeps the cluster's.
// test/contracts/roster-contract.ts holds every implementation to this.

import type { ProcessInfo } from '../protocol/types.js';

/** What a process says of itself in a heartbeat: everything `GET /queue` lists but the time of the heartbeat. */
export type ProcessReport = Omit<ProcessInfo, 'lastHeartbeatAt'>;

export interface Roster {
  /**
   * Records `report` (replacing the process's last one) and keeps it for `ttlMs` from
   * now, measured on the roster's clock (Redis's, for a shared roster).
   */
  report(report: ProcessReport, ttlMs: number): Promise<void>;
  /** Removes the process's record now (a clean stop). Removing a missing record does nothing. */
  remove(id: string): Promise<void>;
  /**
   * Every process whose record has not expired, oldest started first (ties by id), with
   * `lastHeartbeatAt` on this process's clock. At most MAX_LISTED. A roster on another
   * clock converts heartbeat times with the answer's trip, which it cannot know exactly:
   * a listed time is never later than the heartbeat, and earlier by at most the time this
   * call took, so a process never seems to leave the list before one ttl after it.
   */
  list(): Promise<ProcessInfo[]>;
}

/** The most processes a list holds: a bound on the answer, far beyond any deployment of one store. */
export const MAX_LISTED = 1000;

/** Orders a list as Roster.list promises: oldest started first, ties by id. */
export function byStart(a: ProcessInfo, b: ProcessInfo): number {
  return a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
