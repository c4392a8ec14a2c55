// What an engine is: the one part of the server that touches a server library. It
// listens, turns each request into an HttpRequest (server/http/request.ts) and each
// Reply into bytes on the wire (server/http/reply.ts), carries WebSockets to the hub,
// counts connections, and shuts down. Everything above it is written against these
// types only. One folder per engine: node/ (`--engine ws`: node:http and ws) and uws/
// (`--engine uws`: uWebSockets.js); select.ts picks one.

import type { Config } from '../config.js';
import type { ClientAddresses } from '../client-address.js';
import type { HttpService } from '../http/router.js';
import type { Logger } from '../logger.js';
import type { WebSocketService } from '../transport/websocket.js';

export type EngineName = Config['engine'];

/** What the server hands an engine to serve. */
export interface EngineServices {
  /** Every HTTP request goes here (the router): the engine writes the Reply it resolves with. */
  http: HttpService;
  /** The WebSocket side, feeding the hub; null where there is none (upgrades are then plain requests: 404). */
  webSocket: WebSocketService | null;
  logger: Logger;
}

/**
 * A refused request whose body is still arriving (Reply.closesConnection): the whole
 * answer goes out at once, but the connection stays open, reading and discarding the
 * body, until it ends or these bounds are reached, and only then closes. Closing a
 * socket with unread bytes makes the kernel send a reset, and a reset can destroy the
 * answer before the client has read it (or fail the client's next write first), so a
 * refused upload would look like a network error instead of its error code.
 */
export interface LingerLimits {
  /** Body bytes read and discarded after the answer before closing (default 8 MiB). */
  maxBytes: number;
  /** Longest linger in ms (default 2000). */
  maxMs: number;
}

/**
 * 8 MiB or 2 s: enough for a client that goes on writing at any usual rate to read its
 * answer, little enough that a refused client cannot hold the socket.
 */
export const DEFAULT_LINGER: LingerLimits = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxMs: 2000 });

/** A WebSocket closing that does not finish the close handshake (its client is not reading) is cut after this. */
export const CLOSE_TIMEOUT_MS = 2000;

/**
 * The same for a socket closed as too slow (1013), SPEC 3.3: "one that does not read that
 * close frame within a few seconds is cut (the client then sees 1006)". Its close frame
 * waits behind everything already queued for it (up to the hub's limits plus the kernel's
 * buffers, megabytes), so a reader that is slow, not dead, gets longer than the 2 s above
 * to reach it and see 1013. Either way the client reconnects and resumes with `since`
 * (the SDK does after 1013, 1001 and 1006). What the socket holds meanwhile is bounded by
 * the hard limit.
 */
export const DEFAULT_SLOW_CLOSE_TIMEOUT_MS = 10_000;

/** Pings a WebSocket may leave unanswered in a row (SPEC 3.3: dropped at the second). */
export const MAX_MISSED_PONGS = 2;

/** How an engine serves: the settings that are its business. */
export interface EngineSettings {
  /** Where to listen (--host, --port; 0 picks a free port). */
  host: string;
  port: number;
  /** Open connections in all (--max-connections); past it new ones get 503 too_many_connections. */
  maxConnections: number;
  /** Open connections from one address (--max-connections-per-ip). */
  maxConnectionsPerIp: number;
  /**
   * Who each request's client is (--trust-proxy; ../client-address.ts): it goes into
   * RequestHead.remoteAddress and is what --max-connections-per-ip counts. Default
   * NO_PROXIES: the TCP peer.
   */
  clientAddresses?: ClientAddresses;
  /** Largest inbound WebSocket message (--max-message-size); larger ones close the socket with 1009. */
  maxMessageSize: number;
  /** WebSocket ping interval (--heartbeat); a socket that misses MAX_MISSED_PONGS in a row is dropped. */
  heartbeatMs: number;
  /** Time a WebSocket closed with 1013 has to read its close frame before it is cut (default DEFAULT_SLOW_CLOSE_TIMEOUT_MS). */
  slowCloseTimeoutMs?: number;
  /** An HTTP connection whose client takes no byte of a waiting answer for this long is closed (default 60 s). */
  httpStallTimeoutMs?: number;
  /** The linger of a refused request whose body is still arriving (default DEFAULT_LINGER). */
  refusalLinger?: LingerLimits;
}

/** An engine that listens. */
export interface Engine {
  /** Which engine serves (the start-up log names it). */
  readonly name: EngineName;
  /** The port actually bound. */
  readonly port: number;
  /** Stops taking new connections; the open ones go on being served. Safe to call twice. */
  stopListening(): void;
  /**
   * Closes every connection left. Called after the hub has closed its WebSockets with
   * 1001, so that they see that code rather than a dropped connection. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Starts listening with `services`; rejects when it cannot (the port is taken, say). */
export type StartEngine = (services: EngineServices, settings: EngineSettings) => Promise<Engine>;
