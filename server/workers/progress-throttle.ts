// Progress throttling (SPEC 3.2): at most one report per interval, the latest value
// winning. Used in worker threads before a value leaves the thread, and on the main
// thread for the lines of command processors.

import { performance } from 'node:perf_hooks';

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
 */
export function createProgressThrottle(intervalMs: number, send: (done: number, total: number | null) => void): ProgressThrottle {
  let lastSentAt = -Infinity;
  let pending: { done: number; total: number | null } | null = null;
  let timer: NodeJS.Timeout | null = null;
  const sendNow = (done: number, total: number | null): void => {
    lastSentAt = performance.now();
    send(done, total);
  };
  const cancelTimer = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const timerOnFire = (): void => {
    timer = null;
    if (pending === null) return;
    const { done, total } = pending;
    pending = null;
    sendNow(done, total);
  };
  return {
    report(done, total) {
      const waitMs = lastSentAt + intervalMs - performance.now();
      if (waitMs <= 0) {
        // Also the path for synchronous CPU-bound processors, whose timers cannot fire
        // until they yield: their progress still goes out once per interval.
        cancelTimer();
        pending = null;
        sendNow(done, total);
        return;
      }
      pending = { done, total };
      timer ??= setTimeout(timerOnFire, waitMs);
    },
    end() {
      pending = null;
      cancelTimer();
    },
  };
}
