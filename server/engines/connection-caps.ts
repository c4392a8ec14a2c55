// The caps on open connections, in total (--max-connections) and per remote address
// (--max-connections-per-ip), over HTTP, SSE and WebSocket alike: the counting and the
// refusal, engine-neutral. Each engine counts what its library lets it see (the node
// engine every TCP connection; an engine without a connection hook, requests in flight
// and WebSockets) and answers a refusal with 503 `too_many_connections`.

import { JobcastError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface ConnectionCapsOptions {
  /** Open connections in all (--max-connections, default 10000). */
  maxConnections: number;
  /** Open connections from one remote address (--max-connections-per-ip, default 256). */
  maxConnectionsPerIp: number;
  logger: Logger;
}

/** At most one warning per this interval, however many connections are refused. */
const WARN_INTERVAL_MS = 10_000;
const RETRY_AFTER_S = '1';

/** Counts admitted connections by address and refuses past either cap. */
export class ConnectionCaps {
  /** Connections admitted and still open. */
  private total = 0;
  private readonly byIp = new Map<string, number>();
  /** Connections refused since start (logged, at most once per WARN_INTERVAL_MS). */
  refusedCount = 0;
  private lastWarnAt = 0;

  constructor(private readonly opts: ConnectionCapsOptions) {}

  /** The total cap, for an engine that bounds its library's own count beyond it. */
  get maxConnections(): number {
    return this.opts.maxConnections;
  }

  /**
   * Counts a connection from `ip` and returns null, or returns the 503 to answer it with
   * (counted nowhere, logged at most once per 10 s). A counted connection is released once.
   */
  admit(ip: string): JobcastError | null {
    const fromIp = this.byIp.get(ip) ?? 0;
    const refusal = this.refusalFor(fromIp);
    if (refusal !== null) {
      this.warnRefused(ip, refusal);
      return refusal;
    }
    this.total++;
    this.byIp.set(ip, fromIp + 1);
    return null;
  }

  /** An admitted connection from `ip` closed. */
  release(ip: string): void {
    this.total--;
    const left = (this.byIp.get(ip) ?? 1) - 1;
    if (left === 0) this.byIp.delete(ip);
    else this.byIp.set(ip, left);
  }

  /** Open admitted connections: in all, or from `ip`. */
  openCount(ip?: string): number {
    return ip === undefined ? this.total : (this.byIp.get(ip) ?? 0);
  }

  private refusalFor(fromIp: number): JobcastError | null {
    const { maxConnections, maxConnectionsPerIp } = this.opts;
    const headers = { 'retry-after': RETRY_AFTER_S };
    if (this.total >= maxConnections) {
      return new JobcastError(
        'too_many_connections',
        `the server already holds --max-connections (${maxConnections}) connections; close idle ones or retry later`,
        headers,
      );
    }
    if (fromIp >= maxConnectionsPerIp) {
      return new JobcastError(
        'too_many_connections',
        `your address already holds --max-connections-per-ip (${maxConnectionsPerIp}) connections; close some before opening more`,
        headers,
      );
    }
    return null;
  }

  private warnRefused(ip: string, refusal: JobcastError): void {
    this.refusedCount++;
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.opts.logger.warn({ remoteAddress: ip, refused: this.refusedCount, open: this.total }, refusal.message);
  }
}
