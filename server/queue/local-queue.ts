// The in-process Queue, for the stores kept by one process (memory, SQLite): arrays in
// memory, rebuilt from the store at start (jobs/recovery.ts). FIFO by creation order,
// with O(1) membership and O(n) positions (n is bounded by --max-queued-jobs).

import type { Fence } from '../store/store.js';
import type { Claim, ExpiredClaim, Queue, Released } from './queue.js';

export interface LocalQueueOptions {
  /** Bumps the job's epoch for a claim: Store.issueFence. */
  issueFence(id: string): Promise<Fence>;
  /** Called after every change of the waiting line: publishes the Feed's `queueMoved`. */
  onMoved(): void;
  /** The clock leases are measured on (default Date.now). */
  now?: () => number;
}

interface Waiting {
  id: string;
  /** Creation order: a job put back regains its place ahead of newer jobs. */
  order: number;
  enqueuedAt: number;
}

interface Active {
  id: string;
  order: number;
  fence: Fence;
  owner: string;
  leaseUntil: number;
}

export class LocalQueue implements Queue {
  private readonly waitingLine: Waiting[] = [];
  private readonly byId = new Map<string, Waiting>();
  private readonly active = new Map<string, Active>();
  private nextOrder = 0;
  private readonly now: () => number;

  constructor(private readonly opts: LocalQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  async enqueue(id: string, enqueuedAt: number): Promise<number> {
    if (this.active.has(id)) throw new Error(`job ${id} is claimed: it comes back through putBack`);
    const known = this.positionNow(id);
    if (known !== null) return known;
    return this.insert({ id, order: this.nextOrder++, enqueuedAt });
  }

  async claim(owner: string, leaseMs: number): Promise<Claim | null> {
    const next = this.waitingLine.shift();
    if (next === undefined) return null;
    this.byId.delete(next.id);
    let fence: Fence;
    try {
      // Called before any await: nothing else can take the job or bump its epoch in between.
      fence = await this.opts.issueFence(next.id);
    } catch (err) {
      this.insert(next);
      throw err;
    }
    this.active.set(next.id, { id: next.id, order: next.order, fence, owner, leaseUntil: this.now() + leaseMs });
    this.opts.onMoved();
    return { id: next.id, fence };
  }

  async renew(claim: Claim, leaseMs: number): Promise<boolean> {
    const active = this.current(claim);
    if (active === null) return false;
    active.leaseUntil = this.now() + leaseMs;
    return true;
  }

  async ack(claim: Claim): Promise<boolean> {
    return this.current(claim) !== null && this.active.delete(claim.id);
  }

  async putBack(claim: Claim): Promise<number | null> {
    const active = this.current(claim);
    if (active === null) return null;
    this.active.delete(claim.id);
    return this.insert({ id: claim.id, order: active.order, enqueuedAt: this.now() });
  }

  async remove(id: string): Promise<boolean> {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    this.waitingLine.splice(this.waitingLine.indexOf(entry), 1);
    this.byId.delete(id);
    this.opts.onMoved();
    return true;
  }

  async position(id: string): Promise<number | null> {
    return this.positionNow(id);
  }

  async size(): Promise<number> {
    return this.waitingLine.length;
  }

  async waiting(limit = Number.POSITIVE_INFINITY): Promise<string[]> {
    return this.waitingLine.slice(0, limit).map((w) => w.id);
  }

  async oldestEnqueuedAt(): Promise<number | null> {
    let oldest: number | null = null;
    for (const w of this.waitingLine) if (oldest === null || w.enqueuedAt < oldest) oldest = w.enqueuedAt;
    return oldest;
  }

  async expired(): Promise<ExpiredClaim[]> {
    const now = this.now();
    const expired: ExpiredClaim[] = [];
    for (const a of this.active.values()) {
      if (a.leaseUntil < now) expired.push({ id: a.id, fence: a.fence, owner: a.owner, expiredAt: a.leaseUntil });
    }
    return expired.sort((a, b) => a.expiredAt - b.expiredAt);
  }

  async release(expired: ExpiredClaim): Promise<Released | null> {
    const active = this.current(expired);
    if (active === null || active.leaseUntil >= this.now()) return null;
    this.active.delete(expired.id);
    const position = this.insert({ id: expired.id, order: active.order, enqueuedAt: this.now() });
    // The old owner's token dies with its claim (Store.append then refuses it).
    const fence = await this.opts.issueFence(expired.id);
    return { position, fence };
  }

  async close(): Promise<void> {}

  /** The claim's entry while it is the job's current claim, else null. */
  private current(claim: Claim): Active | null {
    const active = this.active.get(claim.id);
    return active !== undefined && active.fence === claim.fence ? active : null;
  }

  private positionNow(id: string): number | null {
    const entry = this.byId.get(id);
    return entry === undefined ? null : this.waitingLine.indexOf(entry) + 1;
  }

  /** Puts the entry at the place its creation order gives it; returns its position. */
  private insert(entry: Waiting): number {
    let at = this.waitingLine.findIndex((w) => w.order > entry.order);
    if (at === -1) at = this.waitingLine.length;
    this.waitingLine.splice(at, 0, entry);
    this.byId.set(entry.id, entry);
    this.opts.onMoved();
    return at + 1;
  }
}
