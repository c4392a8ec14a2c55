// The caps on open connections, in total (--max-connections) and per remote address
// (--max-connections-per-ip), over HTTP, SSE and WebSocket alike: the counting and the
// refusal, engine-neutral. Each engine counts what its library lets it see (the node
// engine every TCP connection; an engine without a connection hook, requests in flight
// and WebSockets) and answers a refusal with 503 `too_many_connections`.
//
// Behind a reverse proxy (--trust-proxy, ../client-address.ts) every TCP connection
// comes from the proxy, so counting connections by peer would cap the whole site at
// --max-connections-per-ip. An engine that counts TCP connections counts a listed proxy's
// against the total only (admitProxy), and each request or WebSocket that comes through
// it against its client's address, for as long as it lasts (admitClient). An engine that
// counts requests and WebSockets anyway admits each with its client's address (admit).

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
    const refusal = this.refusalFor(this.byIp.get(ip) ?? 0);
    if (refusal !== null) return this.refused(ip, refusal);
    this.total++;
    this.countAddress(ip);
    return null;
  }

  /** An admitted connection from `ip` closed. */
  release(ip: string): void {
    this.total--;
    this.uncountAddress(ip);
  }

  /**
   * A listed proxy's connection (from `peer`): counted in the total only, since the
   * requests and WebSockets it carries are counted against their clients (admitClient).
   * Returns null, or the 503 to answer it with. Released with releaseProxy.
   */
  admitProxy(peer: string): JobcastError | null {
    const refusal = this.refusalFor(0);
    if (refusal !== null) return this.refused(peer, refusal);
    this.total++;
    return null;
  }

  /** An admitted proxy connection closed. */
  releaseProxy(): void {
    this.total--;
  }

  /**
   * One request or WebSocket from client `ip` that came through a proxy connection
   * (already in the total): counted against `ip` until releaseClient. Returns null, or the
   * 503 to answer it with.
   */
  admitClient(ip: string): JobcastError | null {
    const fromIp = this.byIp.get(ip) ?? 0;
    if (fromIp >= this.opts.maxConnectionsPerIp) return this.refused(ip, this.perIpRefusal());
    this.countAddress(ip);
    return null;
  }

  /** A proxied request or WebSocket of `ip` has ended. */
  releaseClient(ip: string): void {
    this.uncountAddress(ip);
  }

  /** Open admitted connections: in all, or from `ip`. */
  openCount(ip?: string): number {
    return ip === undefined ? this.total : (this.byIp.get(ip) ?? 0);
  }

  private countAddress(ip: string): void {
    this.byIp.set(ip, (this.byIp.get(ip) ?? 0) + 1);
  }

  private uncountAddress(ip: string): void {
    const left = (this.byIp.get(ip) ?? 1) - 1;
    if (left === 0) this.byIp.delete(ip);
    else this.byIp.set(ip, left);
  }

  private refusalFor(fromIp: number): JobcastError | null {
    const { maxConnections } = this.opts;
    if (this.total >= maxConnections) {
      return new JobcastError(
        'too_many_connections',
        `the server already holds --max-connections (${maxConnections}) connections; close idle ones or retry later`,
        { 'retry-after': RETRY_AFTER_S },
      );
    }
    return fromIp >= this.opts.maxConnectionsPerIp ? this.perIpRefusal() : null;
  }

  private perIpRefusal(): JobcastError {
    return new JobcastError(
      'too_many_connections',
      `your address already holds --max-connections-per-ip (${this.opts.maxConnectionsPerIp}) connections; close some before opening more`,
      { 'retry-after': RETRY_AFTER_S },
    );
  }

  /** Counts and logs a refusal (at most one line per WARN_INTERVAL_MS), and returns it. */
  private refused(ip: string, refusal: JobcastError): JobcastError {
    this.refusedCount++;
    const now = Date.now();
    if (now - this.lastWarnAt >= WARN_INTERVAL_MS) {
      this.lastWarnAt = now;
      this.opts.logger.warn({ remoteAddress: ip, refused: this.refusedCount, open: this.total }, refusal.message);
    }
    return refusal;
  }
}
