// Who may open a push connection (SPEC 3.3, 5): the Origin rule for browsers and the
// token rule for `*`. Engine-neutral, so every transport applies the same policy.

import type { IncomingMessage } from 'node:http';

export interface DoorPolicy {
  /** Origins allowed besides same-origin (--allowed-origins). */
  allowedOrigins: readonly string[];
  /** Checks the token from `?token=` or `Authorization: Bearer`; true when no token is configured. */
  isAuthorized(req: IncomingMessage, url: URL): boolean;
  /** Whether a token is configured at all. */
  hasToken: boolean;
}

export type DoorResult = { ok: true; mayWatchAll: boolean } | { ok: false; reason: string };

/**
 * A request with an Origin (a browser) must come from the server's own origin or an
 * allowed one. A token that is given must be right; without one, single jobs may
 * still be watched (their id is the capability) but `*` may not.
 */
export function checkDoor(req: IncomingMessage, url: URL, policy: DoorPolicy): DoorResult {
  const origin = req.headers.origin;
  if (origin !== undefined && !isSameOrigin(origin, req.headers.host) && !policy.allowedOrigins.includes(origin)) {
    return { ok: false, reason: 'origin not allowed' };
  }
  if (!policy.hasToken) return { ok: true, mayWatchAll: true };
  const isGiven = url.searchParams.has('token') || req.headers.authorization !== undefined;
  if (!isGiven) return { ok: true, mayWatchAll: false };
  return policy.isAuthorized(req, url) ? { ok: true, mayWatchAll: true } : { ok: false, reason: 'wrong token' };
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
