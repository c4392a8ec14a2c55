// The Queue contract: the one waiting line of jobs (SPEC 1: jobs run in the order they
// were queued; SPEC 6: one FIFO for every process). Waiting jobs keep their creation
// order; a job is claimed with a lease and a fence token; its owner renews the lease,
// acks the job when done with it, or puts it back in its place. Every change of the
// waiting line is announced on the Feed (`queueMoved`) by the implementation, so that
// each process can recompute positions. test/contracts/queue-contract.ts holds every
// implementation to this.

import type { Fence } from '../store/store.js';

/** A job taken from the queue to run. */
export interface Claim {
  readonly id: string;
  /**
   * The fence token this claim got: the job's epoch, bumped by the claim in the same
   * step (in-process through Store.issueFence; Redis in one script). Every append of
   * the run carries it (Store.append).
   */
  readonly fence: Fence;
}

/** A claim whose lease ran out: its owner stopped renewing it (dead, paused, cut off). */
export interface ExpiredClaim extends Claim {
  /** Who claimed it (Queue.claim's `owner`). */
  readonly owner: string;
  /** When its lease ran out, in ms since the epoch. */
  readonly expiredAt: number;
}

/** What Queue.release returns: where the job waits now, and the epoch that ended the old claim. */
export interface Released {
  readonly position: number;
  readonly fence: Fence;
}

export interface Queue {
  /**
   * Adds a job behind every job created before it (creation order is the order of
   * enqueue calls); resolves with its 1-based position. A job already waiting keeps
   * its place. Rejects for a job that is claimed: it comes back through putBack.
   */
  enqueue(id: string, enqueuedAt: number): Promise<number>;
  /**
   * Takes the job at the front for `owner`, with a lease of `leaseMs`, and bumps the
   * job's epoch for the claim's fence token. Null when nothing waits.
   */
  claim(owner: string, leaseMs: number): Promise<Claim | null>;
  /** Extends the claim's lease to `leaseMs` from now; false once the claim is not current (acked, put back, released). */
  renew(claim: Claim, leaseMs: number): Promise<boolean>;
  /** The owner is done with the job (it finished, was cancelled or fenced off): forgets the claim. False when it was not current. */
  ack(claim: Claim): Promise<boolean>;
  /**
   * Returns a claimed job to the waiting line at the place its creation order gives it
   * (a job stopped by a shutdown or a store fault waits ahead of newer jobs); resolves
   * with its position, or null when the claim was not current. The epoch is not bumped:
   * the owner appends job.requeued with its own fence right after, and a claim by
   * another process in between bumps it and refuses that append.
   */
  putBack(claim: Claim): Promise<number | null>;
  /** Removes a waiting job (the cancel of a queued job); false when it was not waiting. */
  remove(id: string): Promise<boolean>;
  /** 1 for the next job to be claimed; null when not waiting. */
  position(id: string): Promise<number | null>;
  /** Jobs waiting. */
  size(): Promise<number>;
  /** Ids of the waiting jobs, front first, at most `limit` (all by default): position messages. */
  waiting(limit?: number): Promise<string[]>;
  /** When the job that has waited longest was queued (or put back), or null when none waits. */
  oldestEnqueuedAt(): Promise<number | null>;
  /** Claims whose lease ran out, the oldest expiry first: jobs to take over. */
  expired(): Promise<ExpiredClaim[]>;
  /**
   * Takes an expired claim from its owner and returns the job to the waiting line at its
   * place, bumping the job's epoch in the same step so the old owner can append nothing
   * more; resolves with its position and the new epoch. Null when the claim is no longer
   * that expired claim (renewed, acked, put back, released by another process).
   *
   * The caller appends job.requeued (reason "takeover") with that epoch as its fence, not
   * without one: a process that claims the job in between bumps the epoch again, the
   * requeue is refused, and the claimer records the takeover itself (it finds the job
   * still `running`). An ownerless requeue there would revoke that new owner instead.
   */
  release(expired: ExpiredClaim): Promise<Released | null>;
  /** Lets go of the queue's resources; safe to call twice. */
  close(): Promise<void>;
}
