// Progress throttling (SPEC 3.2): at most one report per interval, the latest value
// winning. Used in worker threads before a value leaves the thread, and on the main
// thread for the lines of command processors.

export interface ProgressThrottle {
  /** Offers a value; it goes out now, later (if nothing supersedes it), or never (if something does). */
  report(done: number, total: number | null): void;
  /** Drops the pending value and the timer; later reports are still taken. */
  end(): void;
}

/**
 * At most one `send` per `intervalMs`: the first value goes out at once, later ones
 * wait for the interval and only the latest survives (trailing). A value superseded
 * before its turn is never sent.
 *
 * This is the one throttle of progress (SPEC 3.2: "throttled where it is produced"), and
 * it stamps each value with the `ts` its event will carry. The spacing is promised on the
 * events' `ts`: stamping later, when the main thread reads the message, would let a busy
 * main loop read two messages back to back and give them `ts` closer than the interval.
 * Date.now() is the clock of every other `ts` (same process, same clock), in whole
 * milliseconds, so the check below is exactly the one a client can make.
 */
export function createProgressThrottle(
  intervalMs: number,
  send: (done: number, total: number | null, ts: number) => void,
): ProgressThrottle {
  let lastTs = -Infinity;
  let pending: { done: number; total: number | null } | null = null;
  let timer: NodeJS.Timeout | null = null;
  /** Ms until the next value may go out; 0 when it may go now. */
  const waitMs = (now: number): number => {
    const sinceLastMs = now - lastTs;
    // A wall clock set back would otherwise hold progress until it catches up.
    return sinceLastMs >= intervalMs || sinceLastMs < 0 ? 0 : intervalMs - sinceLastMs;
  };
  const sendNow = (done: number, total: number | null, ts: number): void => {
    lastTs = ts;
    send(done, total, ts);
  };
  const cancelTimer = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const timerOnFire = (): void => {
    timer = null;
    if (pending === null) return;
    const now = Date.now();
    const leftMs = waitMs(now);
    // Timers run on the loop's cached clock, which may lag Date.now() at the time the timer
    // was set: it can fire a little early by Date.now(). Then it waits out the rest.
    if (leftMs > 0) {
      timer = setTimeout(timerOnFire, leftMs);
      return;
    }
    const { done, total } = pending;
    pending = null;
    sendNow(done, total, now);
  };
  return {
    report(done, total) {
      const now = Date.now();
      const leftMs = waitMs(now);
      if (leftMs === 0) {
        // Also the path for synchronous CPU-bound processors, whose timers cannot fire
        // until they yield: their progress still goes out once per interval.
        cancelTimer();
        pending = null;
        sendNow(done, total, now);
        return;
      }
      pending = { done, total };
      timer ??= setTimeout(timerOnFire, leftMs);
    },
    end() {
      pending = null;
      cancelTimer();
    },
  };
}
