// The store reads one connection's catch-ups cost, kept to what its client can take
// (SPEC 7 "one client cannot take the server down"):
// - one read per key (a job id, or `*`) at a time: a request for a key that waits
//   replaces the waiting one (the latest request wins, and the earlier one costs no
//   read); a request for a key being read waits until that read is over;
// - at most `maxRunning` reads at once;
// - a read starts only while the owner's canStartRead() (the client's send buffer is
//   under its soft limit): an answer the client cannot take yet is not read yet. The
//   owner calls pump() when that changes (a drain).
// Every connection has one and most are idle: its Map and Set exist only while in use.

/** A read and what is done with it; resolves when all of it is done (a rejection is a bug, reported to the owner). */
export type ReadTask = () => Promise<void>;

export interface ReadQueueOwner {
  canStartRead(): boolean;
  /** A read is over, and the queue has started what it could. */
  onReadDone(): void;
  onReadError(err: unknown): void;
}

export class ReadQueue {
  /** Requests not started, by key; Map order is request order. */
  private waiting: Map<string, ReadTask> | null = null;
  private running: Set<string> | null = null;

  constructor(
    private readonly owner: ReadQueueOwner,
    private readonly maxRunning: number,
  ) {}

  /** Requests not started yet (the owner stops taking messages past a few). */
  get backlog(): number {
    return this.waiting?.size ?? 0;
  }

  /** Nothing waits or runs: the owner may let the queue go. */
  get isIdle(): boolean {
    return this.waiting === null && this.running === null;
  }

  /** Whether a read of `key` waits or runs. */
  has(key: string): boolean {
    return (this.waiting?.has(key) ?? false) || (this.running?.has(key) ?? false);
  }

  /** Whether a read of `key` was asked for and has not started. */
  isWaiting(key: string): boolean {
    return this.waiting?.has(key) ?? false;
  }

  /** Asks for `task` under `key`, replacing a request of that key that has not started. */
  request(key: string, task: ReadTask): void {
    (this.waiting ??= new Map()).set(key, task);
    this.pump();
  }

  /** Drops the request of `key` that has not started (one that runs finds itself superseded). */
  cancel(key: string): void {
    this.waiting?.delete(key);
    if (this.waiting?.size === 0) this.waiting = null;
  }

  /** Drops every request not started (the connection is closing). */
  clear(): void {
    this.waiting = null;
  }

  /** Starts what may start now. */
  pump(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    for (const [key, task] of waiting) {
      // A task may end the connection as it starts (clear()): then nothing more starts.
      if (this.waiting !== waiting || (this.running?.size ?? 0) >= this.maxRunning || !this.owner.canStartRead()) break;
      if (this.running?.has(key) === true) continue;
      waiting.delete(key);
      (this.running ??= new Set()).add(key);
      task().then(
        () => this.done(key),
        (err: unknown) => {
          this.owner.onReadError(err);
          this.done(key);
        },
      );
    }
    if (this.waiting === waiting && waiting.size === 0) this.waiting = null;
  }

  private done(key: string): void {
    this.running!.delete(key);
    if (this.running!.size === 0) this.running = null;
    this.pump();
    this.owner.onReadDone();
  }
}
