// Elapsed times are computed from the server's timestamps (SPEC 3.1). This estimates
// how far the local clock is from the server's, from the `ts` of events as they arrive:
// the smallest (local - ts) seen is the skew plus the shortest delivery delay.

let offsetMs: number | null = null;

/** Feeds the `ts` of an event that just arrived. */
export function observeServerTime(ts: number): void {
  const offset = Date.now() - ts;
  if (offsetMs === null || offset < offsetMs) offsetMs = offset;
}

/** The server's "now", as well as it can be told. */
export function serverNow(): number {
  return Date.now() - (offsetMs ?? 0);
}
