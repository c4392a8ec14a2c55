// Who may come in (SPEC 3.3, 5): the Host rule for every request and WebSocket upgrade
// (DNS rebinding), the Origin rule for browsers on the push connection, and the token
// rule for `*`. Policy only, on header values: every engine applies the same rules.

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

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
  if (origin !== undefined && !isAllowedOrigin(origin, req.headers.host, policy.allowedOrigins)) {
    return { ok: false, reason: 'origin not allowed' };
  }
  if (!policy.hasToken) return { ok: true, mayWatchAll: true };
  const isGiven = url.searchParams.has('token') || req.headers.authorization !== undefined;
  if (!isGiven) return { ok: true, mayWatchAll: false };
  return policy.isAuthorized(req, url) ? { ok: true, mayWatchAll: true } : { ok: false, reason: 'wrong token' };
}

/**
 * Same-origin means scheme, host and port all equal: this server speaks plain HTTP, so
 * only `http://` + the Host the request was sent to (already checked against the Host
 * rule) is its own origin. An `https://` page is another origin, even on the same name:
 * behind a TLS proxy, list it in --allowed-origins.
 */
export function isAllowedOrigin(origin: string, host: string | undefined, allowedOrigins: readonly string[]): boolean {
  const normalised = normaliseOrigin(origin);
  if (normalised === null) return false;
  if (allowedOrigins.some((allowed) => normaliseOrigin(allowed) === normalised)) return true;
  return host !== undefined && normaliseOrigin(`http://${host}`) === normalised;
}

/** `scheme://host[:port]` as a browser serialises it (default port dropped, lower case), or null. */
function normaliseOrigin(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** Which Host header values the server answers (--host, --allowed-hosts). */
export interface HostPolicy {
  /** True when every Host is accepted (`*` in --allowed-hosts). */
  readonly isOpen: boolean;
  /** True when any IP-address Host is accepted (listening on 0.0.0.0 or ::). */
  readonly acceptsAnyAddress: boolean;
  /** Names (lower case, IPv6 in brackets) accepted on any port. */
  readonly anyPort: ReadonlySet<string>;
  /** `name:port` pairs accepted on that port only. */
  readonly exact: ReadonlySet<string>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The Host values a server listening on `listenHost` answers as, plus `extra`:
 * - loopback (`127.x`, `::1`, `localhost`): `localhost`, `127.0.0.1`, `[::1]`, any port;
 * - every address (`0.0.0.0`, `::`): any IP address, and `localhost`;
 * - one other address or name: that one.
 * A DNS-rebinding page always sends its own name as Host, never an IP address, so IP
 * addresses are safe to accept; names must be listed with --allowed-hosts.
 */
export function hostPolicy(listenHost: string, extra: readonly string[]): HostPolicy {
  const anyPort = new Set<string>();
  const exact = new Set<string>();
  const listen = listenHost.toLowerCase();
  const isWildcard = listen === '0.0.0.0' || listen === '::' || listen === '[::]';
  if (isWildcard || isLoopback(listen)) LOOPBACK_NAMES.forEach((name) => anyPort.add(name));
  else anyPort.add(isIP(listen) === 6 ? `[${listen}]` : listen);
  for (const entry of extra) {
    const parsed = splitHost(entry.toLowerCase());
    if (parsed === null) continue;
    if (parsed.port === null) anyPort.add(parsed.name);
    else exact.add(`${parsed.name}:${parsed.port}`);
  }
  return { isOpen: extra.includes('*'), acceptsAnyAddress: isWildcard, anyPort, exact };
}

/**
 * Whether a request for `host` (its Host header, or the authority of an absolute-form
 * target) is answered. A request without one (HTTP/1.0) comes from no browser, so it
 * cannot be a rebinding attack; Node already refuses an HTTP/1.1 request without Host.
 */
export function isAllowedHost(host: string | undefined, policy: HostPolicy): boolean {
  if (host === undefined || policy.isOpen) return true;
  const parsed = splitHost(host.toLowerCase());
  if (parsed === null) return false;
  // `localhost.` is `localhost`: the trailing dot only makes the name absolute.
  const name = parsed.name.endsWith('.') ? parsed.name.slice(0, -1) : parsed.name;
  if (policy.anyPort.has(name)) return true;
  if (parsed.port !== null && policy.exact.has(`${name}:${parsed.port}`)) return true;
  return policy.acceptsAnyAddress && (isIP(name) === 4 || (name.startsWith('[') && isIP(name.slice(1, -1)) === 6));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `name[:port]` or `[v6][:port]`; null when it is neither. */
function splitHost(text: string): { name: string; port: string | null } | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  return match === null ? null : { name: match[1]!, port: match[2] ?? null };
}
