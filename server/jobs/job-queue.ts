// The waiting line of jobs (SPEC 1: jobs run in the order they were queued).
// Kept in memory by the process that owns the store; rebuilt from the store at start.

interface Waiting {
  id: string;
  /** Creation order: a job put back after a stop regains its place ahead of newer jobs. */
  order: number;
  enqueuedAt: number;
}

/** FIFO by creation order, with O(1) membership and O(n) positions (n is bounded by --max-queued-jobs). */
export class JobQueue {
  private readonly waiting: Waiting[] = [];
  private readonly byId = new Map<string, Waiting>();
  private nextOrder = 0;
  private readonly onChange: () => void;

  /** `onChange` runs after every change of membership or order (positions may have moved). */
  constructor(onChange: () => void = () => {}) {
    this.onChange = onChange;
  }

  get size(): number {
    return this.waiting.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Adds a job behind every job created before it; returns its 1-based position. */
  add(id: string, enqueuedAt = Date.now()): number {
    if (this.byId.has(id)) return this.position(id)!;
    const entry: Waiting = { id, order: this.nextOrder++, enqueuedAt };
    this.waiting.push(entry);
    this.byId.set(id, entry);
    this.onChange();
    return this.waiting.length;
  }

  /**
   * Puts a job back at the place its creation order gives it (a job stopped by a
   * shutdown returns ahead of the jobs queued after it). Returns its position.
   */
  putBack(id: string, order: number, enqueuedAt = Date.now()): number {
    if (this.byId.has(id)) return this.position(id)!;
    const entry: Waiting = { id, order, enqueuedAt };
    let at = this.waiting.findIndex((w) => w.order > order);
    if (at === -1) at = this.waiting.length;
    this.waiting.splice(at, 0, entry);
    this.byId.set(id, entry);
    this.onChange();
    return at + 1;
  }

  /** Removes a waiting job (cancel); false when it was not waiting. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    this.waiting.splice(this.waiting.indexOf(entry), 1);
    this.byId.delete(id);
    this.onChange();
    return true;
  }

  /** Takes the next job to run, with the order it should keep if it is ever put back. */
  shift(): { id: string; order: number } | undefined {
    const entry = this.waiting.shift();
    if (entry === undefined) return undefined;
    this.byId.delete(entry.id);
    this.onChange();
    return { id: entry.id, order: entry.order };
  }

  /** 1 for the next job to start; null when not waiting. */
  position(id: string): number | null {
    const entry = this.byId.get(id);
    return entry === undefined ? null : this.waiting.indexOf(entry) + 1;
  }

  /** Every waiting job with its position, front first. */
  *positions(): IterableIterator<[id: string, position: number]> {
    for (let i = 0; i < this.waiting.length; i++) yield [this.waiting[i]!.id, i + 1];
  }

  /** When the job at the front was queued, or null when nothing waits. */
  oldestEnqueuedAt(): number | null {
    let oldest: number | null = null;
    for (const w of this.waiting) if (oldest === null || w.enqueuedAt < oldest) oldest = w.enqueuedAt;
    return oldest;
  }
}
