// The store reads one connection's catch-ups cost, kept to what its client can take
// (SPEC 7 "one client cannot take the server down"):
// - one read per key (a job id, or `*`) at a time: a request for a key that waits
//   replaces the waiting one (the latest request wins, and the earlier one costs no
//   read); a request for a key being read waits until that read is over;
// - at most `maxRunning` reads at once;
// - a read starts only while `canStart()` (the client's send buffer is under its soft
//   limit): an answer the client cannot take yet is not read yet. The owner calls
//   pump() when that changes (a drain).

/** A read and what is done with it; resolves when all of it is done (a rejection is a bug, reported to onError). */
export type ReadTask = () => Promise<void>;

export class ReadQueue {
  /** Requests not started, by key; Map order is request order. */
  private readonly waiting = new Map<string, ReadTask>();
  private readonly running = new Set<string>();

  constructor(
    private readonly maxRunning: number,
    private readonly canStart: () => boolean,
    /** Called after a read is over, once the queue has started what it could. */
    private readonly onReadDone: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Requests not started yet (the owner stops taking messages past a few). */
  get backlog(): number {
    return this.waiting.size;
  }

  /** Whether a read of `key` waits or runs. */
  has(key: string): boolean {
    return this.waiting.has(key) || this.running.has(key);
  }

  /** Asks for `task` under `key`, replacing a request of that key that has not started. */
  request(key: string, task: ReadTask): void {
    this.waiting.set(key, task);
    this.pump();
  }

  /** Drops the request of `key` that has not started (one that runs finds itself superseded). */
  cancel(key: string): void {
    this.waiting.delete(key);
  }

  /** Drops every request not started (the connection is closing). */
  clear(): void {
    this.waiting.clear();
  }

  /** Starts what may start now. */
  pump(): void {
    for (const [key, task] of this.waiting) {
      if (this.running.size >= this.maxRunning || !this.canStart()) return;
      if (this.running.has(key)) continue;
      this.waiting.delete(key);
      this.running.add(key);
      const done = (): void => {
        this.running.delete(key);
        this.pump();
        this.onReadDone();
      };
      task().then(done, (err: unknown) => {
        this.onError(err);
        done();
      });
    }
  }
}
