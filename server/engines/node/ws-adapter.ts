// The ws engine's WebSockets: upgrades on the node:http server, with `ws`, and adapts
// each socket to the hub's Connection. Which upgrades are taken and who may come in is
// the WebSocket service's (server/transport/websocket.ts); protocol logic is the hub's;
// this file only moves frames and keeps connections honest with pings.
//
// Memory per idle socket is what bounds how many subscribers one process holds, so the
// adapter is a class and the listeners are module functions shared by every socket: they
// find their connection through `this` (ws calls a listener with the emitter as `this`),
// as ws's own `socketOnData` does. Eight closures, a WeakMap entry and ws's client tracking
// per socket came to ~0.7 KiB of heap per idle connection (bench/fanout.ts).

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CLOSE_CODES } from '../../errors.js';
import type { Connection, ConnectionHandlers } from '../../hub/connection.js';
import type { Frame } from '../../hub/frame.js';
import type { ClientAddresses } from '../../client-address.js';
import type { Logger } from '../../logger.js';
import type { WebSocketService } from '../../transport/websocket.js';
import { CLOSE_TIMEOUT_MS, DEFAULT_SLOW_CLOSE_TIMEOUT_MS } from '../engine.js';
import { Heartbeat, type Beating } from '../heartbeat.js';
import { NodeRequestHead } from './node-request.js';
import { rawErrorResponse } from './raw-response.js';
import { textFrame } from './ws-frame.js';

export interface WsAdapterOptions {
  service: WebSocketService;
  logger: Logger;
  /** Largest inbound frame (--max-message-size); larger ones close the socket with 1009. */
  maxMessageSize: number;
  /** Ping interval (--heartbeat); a socket that misses two pongs in a row is dropped. */
  heartbeatMs: number;
  /** Time a socket closed with 1013 has to read its close frame before it is cut; default DEFAULT_SLOW_CLOSE_TIMEOUT_MS. */
  slowCloseTimeoutMs?: number;
  /** Answers an upgrade the engine refuses itself (a connection cap) with its HTTP error and returns true; the upgrade stops there. */
  refuseUpgrade(req: IncomingMessage, socket: Duplex): boolean;
  /** Who the client is (--trust-proxy). */
  addresses: ClientAddresses;
}
/** Where a socket (the ws one, and the TCP one under it for 'drain') keeps its connection. */
const kConnection = Symbol('jobcast.connection');
type Linked<T> = T & { [kConnection]?: WsConnection };

/** Until the hub has adopted the connection (and after it refused one): nothing to tell. */
const NOBODY: ConnectionHandlers = Object.freeze({ onMessage() {}, onDrain() {}, onClose() {} });

/** One socket as the hub sees it. A class, not closures: 5,000 idle sockets each paid for eight closures. */
class WsConnection implements Connection, Beating {
  /** Pings sent since the last pong; the heartbeat drops the socket at MAX_MISSED_PONGS. */
  missedPongs = 0;
  /** The hub's side of this connection. */
  handlers: ConnectionHandlers = NOBODY;
  /** Its heartbeat group (../heartbeat.ts); it leaves it on close. */
  group: Set<WsConnection> | null = null;

  constructor(
    readonly ws: WebSocket,
    /** The TCP socket under `ws`. */
    readonly socket: Duplex,
    /** Shared by every socket: a number, not a closure. */
    readonly slowCloseTimeoutMs: number,
  ) {}

  ping(): void {
    this.ws.ping();
  }

  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Writes the message's frame, made once for all subscribers (ws-frame.ts), straight to the
   * socket. ws writes its own frames (pings, close) there too, synchronously since compression
   * is off, so the order holds; and ws.bufferedAmount counts these bytes.
   */
  send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.socket.write(frame.wire(messageFrame));
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    closeSoon(this.ws, code, reason, code === CLOSE_CODES.tryAgainLater ? this.slowCloseTimeoutMs : CLOSE_TIMEOUT_MS);
  }

  // ws pauses the socket: frames already read from it are still parsed and delivered.
  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }
}

export interface WsAdapter {
  /** Stops the heartbeat and the server; the hub closes the sockets. */
  close(): void;
}

/** Serves the WebSocket protocol of SPEC 3.3 on `server`, for the upgrades `opts.service` takes. */
export function attachWebSockets(server: Server, opts: WsAdapterOptions): WsAdapter {
  // The heartbeat's list is kept there: ws's own (clientTracking) costs a closure and its context per socket.
  // perMessageDeflate must stay off: WsConnection.send writes uncompressed frames to the socket itself.
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageSize, perMessageDeflate: false, clientTracking: false });
  const heartbeat = new Heartbeat<WsConnection>(opts.heartbeatMs);
  // One per transport, shared by its sockets (it needs the logger, which a module function has not).
  const wsOnError = (err: Error): void => opts.logger.debug({ err }, 'websocket error');

  const serverOnUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (opts.refuseUpgrade(req, socket)) return;
    const requestHead = new NodeRequestHead(req, opts.addresses);
    const refusal = opts.service.refuse(requestHead);
    if (refusal !== null) return void socket.end(rawErrorResponse(refusal));
    wss.handleUpgrade(req, socket, head, (ws) => wsOnOpen(ws, req, requestHead));
  };

  const wsOnOpen = (ws: Linked<WebSocket>, req: IncomingMessage, requestHead: NodeRequestHead): void => {
    ws.on('error', wsOnError);
    // Refusals happen after the upgrade, so that a browser sees the close code (1008).
    const door = opts.service.door(requestHead);
    if (!door.ok) return void closeSoon(ws, CLOSE_CODES.policy, door.reason, CLOSE_TIMEOUT_MS);
    const socket: Linked<typeof req.socket> = req.socket;
    const connection = new WsConnection(ws, socket, opts.slowCloseTimeoutMs ?? DEFAULT_SLOW_CLOSE_TIMEOUT_MS);
    connection.group = heartbeat.join(connection);
    ws[kConnection] = socket[kConnection] = connection;
    connection.handlers = opts.service.open(connection, door.mayWatchAll);
    ws.on('message', wsOnMessage);
    ws.on('pong', wsOnPong);
    ws.on('close', wsOnClose);
    // ws writes straight to the socket when compression is off, so the socket's drain is ours.
    socket.on('drain', socketOnDrain);
  };

  server.on('upgrade', serverOnUpgrade);
  return {
    close() {
      heartbeat.stop();
      server.off('upgrade', serverOnUpgrade);
      wss.close();
    },
  };
}

// The listeners every socket shares; `this` is the emitter they are registered on.

function wsOnMessage(this: Linked<WebSocket>, data: RawData, isBinary: boolean): void {
  this[kConnection]!.handlers.onMessage(isBinary ? null : data.toString());
}

function wsOnPong(this: Linked<WebSocket>): void {
  this[kConnection]!.missedPongs = 0;
}

function wsOnClose(this: Linked<WebSocket>): void {
  // ws emits 'close' once, so `on` does (`once` would add a wrapper and a bound function per socket).
  const connection = this[kConnection]!;
  connection.group?.delete(connection);
  connection.handlers.onClose();
}

function socketOnDrain(this: Linked<Duplex>): void {
  this[kConnection]!.handlers.onDrain();
}

/** The frame of a message, as Frame.wire makes it once for every connection. */
function messageFrame(frame: Frame): Buffer {
  return textFrame(frame.text);
}

function closeSoon(ws: WebSocket, code: number, reason: string, timeoutMs: number): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), timeoutMs).unref();
}
