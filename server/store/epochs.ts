// The fence of the stores kept by one process (memory, SQLite): each job's epoch, in
// memory. That process is the only writer of its store, so a token can only come from
// it and never outlives it; a store shared by processes (Redis) keeps epochs with the
// job and checks them in the same script as the append.

import { fencedError } from './store-checks.js';
import type { Fence } from './store.js';

/** Epochs of the jobs that have had an owner or an ownerless append; none for the others. */
export class Epochs {
  private readonly byJob = new Map<string, number>();

  /** Bumps the job's epoch and returns it: the token of a new claim. */
  issue(id: string): Fence {
    const next = (this.byJob.get(id) ?? 0) + 1;
    this.byJob.set(id, next);
    return next;
  }

  /** Throws JobcastError('fenced') unless `fence` is absent or the job's current epoch. */
  check(id: string, fence: Fence | undefined): void {
    if (fence !== undefined && fence !== (this.byJob.get(id) ?? 0)) throw fencedError(id);
  }

  /**
   * After an append was written: one without a fence revokes the owner (Store.append).
   * A finished job takes no more appends, so its epoch is forgotten.
   */
  appended(id: string, fence: Fence | undefined, isFinal: boolean): void {
    if (isFinal) this.byJob.delete(id);
    else if (fence === undefined) this.issue(id);
  }

  /** The job was deleted. */
  forget(id: string): void {
    this.byJob.delete(id);
  }

  clear(): void {
    this.byJob.clear();
  }
}
