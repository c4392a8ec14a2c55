// The uws engine's WebSockets: uWS's WebSocket behaviour, with each socket adapted to
// the hub's Connection. Which upgrades are taken and who may come in is the WebSocket
// service's (server/transport/websocket.ts); protocol logic is the hub's; this file only
// moves frames and keeps connections honest with pings.
//
// What this build of uWS does that the adapter answers for:
// - a socket may not be touched after its close handler ran (uWS throws): every call
//   goes through `isOpen`;
// - `send` drops a message silently once a socket holds `maxBackpressure` bytes: it is
//   set far above any limit of the hub, which closes slow readers itself (SPEC 3.3);
// - a frame over `maxPayloadLength` makes uWS drop the connection without a close code:
//   the limit is set above --max-message-size and the check that answers 1009 is ours;
// - uWS cannot stop reading one socket: pauseReading does nothing, and the hub's inbox
//   closes a client that sends faster than it reads (--max-messages-per-second);
// - sends made outside uWS's own callbacks each cost a syscall: the frames sent to one
//   socket in one turn of the event loop are written together, in one cork;
// - uWS calls the message handler once per frame and Node runs the microtasks after each
//   call, so a store read the hub starts for one message (which resolves at once on
//   SQLite) would finish, whole, before the next message of the same socket read is seen:
//   200 `*` subscribes in one write would be 200 catch-ups instead of one. The messages of
//   a turn are handed to the hub together at its end, as node's ws hands over those of
//   one socket read, so that repeated requests coalesce there (SPEC 7);
// - `end(code)` runs the close handler at once, after which the socket cannot be cut: a
//   socket closed while uWS still holds bytes for it is ended only once they have gone
//   out (its close frame would wait behind them anyway), and cut (1006) if they have not
//   within the close timeout: SPEC 3.3's "does not read its close frame in time".

import type { TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { CLOSE_CODES, JobcastError } from '../../errors.js';
import type { Connection, ConnectionHandlers } from '../../hub/connection.js';
import type { Frame } from '../../hub/frame.js';
import type { ClientAddresses } from '../../client-address.js';
import { errorReply } from '../../http/reply.js';
import type { Logger } from '../../logger.js';
import type { WebSocketService } from '../../transport/websocket.js';
import type { ConnectionCaps } from '../connection-caps.js';
import { CLOSE_TIMEOUT_MS, DEFAULT_SLOW_CLOSE_TIMEOUT_MS } from '../engine.js';
import { Heartbeat, type Beating } from '../heartbeat.js';
import { writeHead } from './uws-reply.js';
import { MAX_HEADER_BYTES, UwsRequestHead } from './uws-request.js';

export interface UwsWebSocketOptions {
  service: WebSocketService;
  caps: ConnectionCaps;
  logger: Logger;
  /** Largest inbound message (--max-message-size); larger ones close the socket with 1009. */
  maxMessageSize: number;
  /** Ping interval (--heartbeat); a socket that misses two pongs in a row is dropped. */
  heartbeatMs: number;
  /** Time a socket closed with 1013 has to take what it was sent and its close frame; default DEFAULT_SLOW_CLOSE_TIMEOUT_MS. */
  slowCloseTimeoutMs?: number;
  /** Who the client is (--trust-proxy). */
  addresses: ClientAddresses;
}

/**
 * uWS buffers a whole frame before handing it over, up to this; a larger one makes it drop
 * the connection without a close code (1006). Frames between --max-message-size and this
 * get 1009 from us. 1 MiB and a bit at least: clients that send a megabyte by mistake
 * learn why they were closed.
 */
const MIN_PAYLOAD_READ = 1024 * 1024 + 64 * 1024;
/** Far above the hub's hard limit (8 MiB by default): the hub closes slow readers, never uWS's silent drop. */
const MAX_BACKPRESSURE = 1024 * 1024 * 1024;
/** Frames waiting for the end of the loop turn past which a socket's batch is written at once. */
const FLUSH_AT_BYTES = 16 * 1024;
/** Close reasons are at most 123 bytes (RFC 6455 5.5: control frames carry 125 with the code). */
const MAX_REASON_BYTES = 123;

/** What uWS keeps for each socket, from the upgrade on. */
interface SocketData {
  /** The upgrade request's head, until the door has seen it (let go then: idle sockets are many). */
  head: UwsRequestHead | null;
  /** The client's address, which the caps count the socket against. */
  readonly address: string;
  connection: UwsConnection | null;
}

/** Until the hub has adopted the socket: nothing to tell. */
const NOBODY: ConnectionHandlers = Object.freeze({ onMessage() {}, onDrain() {}, onClose() {} });

/** One socket, as the hub sees it. */
class UwsConnection implements Connection, Beating {
  missedPongs = 0;
  isOpen = true;
  handlers: ConnectionHandlers = NOBODY;
  /** Frames sent in this turn of the loop, written together at its end (or at FLUSH_AT_BYTES). */
  pending: Buffer[] | null = null;
  /** Messages received in this turn of the loop, handed to the hub together at its end. */
  inbound: Array<string | null> | null = null;
  pendingBytes = 0;
  /** A close waiting for uWS to hand on what it holds (see the top of this file). */
  closing: { code: number; reason: string; timer: NodeJS.Timeout } | null = null;

  /** Its heartbeat group (../heartbeat.ts); it leaves it on close. */
  group: Set<UwsConnection> | null = null;

  constructor(
    readonly ws: WebSocket<SocketData>,
    private readonly batch: SendBatch,
  ) {}

  ping(): void {
    if (this.isOpen) this.ws.ping();
  }

  /** uWS's close() drops the connection without a close frame: the client sees 1006. */
  terminate(): void {
    if (this.isOpen) this.ws.close();
  }

  send(frame: Frame): void {
    if (!this.isOpen) return;
    const bytes = frame.buffer;
    if (this.pending === null) {
      this.pending = [bytes];
      this.batch.add(this);
    } else this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
  }

  /** Hands the hub the messages of this turn, in order, unless the socket is gone meanwhile. */
  deliver(): void {
    const messages = this.inbound;
    this.inbound = null;
    if (messages === null) return;
    for (const text of messages) {
      if (!this.isOpen) return;
      this.handlers.onMessage(text);
    }
  }

  /** Writes the frames of this turn in one cork. */
  flush(): void {
    const frames = this.pending;
    if (frames === null) return;
    this.pending = null;
    this.pendingBytes = 0;
    if (!this.isOpen) return;
    this.ws.cork(() => {
      for (const bytes of frames) this.ws.send(bytes, false);
    });
  }

  bufferedAmount(): number {
    return this.isOpen ? this.ws.getBufferedAmount() + this.pendingBytes : 0;
  }

  close(code: number, reason: string): void {
    if (!this.isOpen || this.closing !== null) return;
    // What was sent before the close goes out before it.
    this.flush();
    if (this.ws.getBufferedAmount() === 0) return this.ws.end(code, truncateReason(reason));
    const timeoutMs = code === CLOSE_CODES.tryAgainLater ? this.batch.slowCloseTimeoutMs : CLOSE_TIMEOUT_MS;
    const timer = setTimeout(() => this.terminate(), timeoutMs);
    timer.unref();
    this.closing = { code, reason: truncateReason(reason), timer };
  }

  /** uWS has handed everything on: a close that waited for it goes ahead. */
  drained(): void {
    if (this.closing === null) return this.handlers.onDrain();
    clearTimeout(this.closing.timer);
    this.ws.end(this.closing.code, this.closing.reason);
  }

  // This build of uWS cannot stop reading one socket (see the top of this file).
  pauseReading(): void {}

  resumeReading(): void {}
}

/** The sockets with frames waiting, written at the end of the loop turn. */
class SendBatch {
  constructor(
    /** Shared by every socket: a number, not a field per socket. */
    readonly slowCloseTimeoutMs: number,
  ) {}

  private connections: UwsConnection[] = [];
  private isScheduled = false;

  add(connection: UwsConnection): void {
    this.connections.push(connection);
    if (this.isScheduled) return;
    this.isScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.isScheduled = false;
    const connections = this.connections;
    this.connections = [];
    for (const connection of connections) connection.flush();
  };
}

/**
 * Hands a socket's messages of this turn to the hub. One immediate per socket: Node runs
 * the microtasks between two of them, as between the reads of two sockets on node's ws,
 * so a store read one socket's message starts is over before the next socket asks for the
 * same job (and finds it cached).
 */
function deliverInbound(connection: UwsConnection): void {
  connection.deliver();
}

export interface UwsWebSockets {
  /** Stops the heartbeat; the hub closes the sockets. */
  close(): void;
}

/** Serves the WebSocket protocol of SPEC 3.3 on `app`, for the upgrades `opts.service` takes. */
export function attachWebSockets(app: TemplatedApp, opts: UwsWebSocketOptions): UwsWebSockets {
  const { service, caps, logger } = opts;
  const heartbeat = new Heartbeat<UwsConnection>(opts.heartbeatMs);
  const batch = new SendBatch(opts.slowCloseTimeoutMs ?? DEFAULT_SLOW_CLOSE_TIMEOUT_MS);

  const behavior: WebSocketBehavior<SocketData> = {
    maxPayloadLength: Math.max(opts.maxMessageSize * 2, MIN_PAYLOAD_READ),
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: 0,
    // The heartbeat below is the only idle rule (SPEC 3.3).
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade(res, req, context) {
      try {
        const head = new UwsRequestHead(res, req, opts.addresses);
        const refusal =
          head.headBytes > MAX_HEADER_BYTES ? new JobcastError('headers_too_large') : (caps.admit(head.remoteAddress) ?? refuseOrNull(service, head, caps));
        if (refusal !== null) {
          const reply = errorReply(refusal);
          const bytes = reply.body.kind === 'bytes' ? reply.body.bytes : undefined;
          writeHead(res, reply);
          res.end(bytes, true);
          return;
        }
        res.upgrade<SocketData>(
          { head, address: head.remoteAddress, connection: null },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      } catch (err) {
        logger.error({ err }, 'a WebSocket upgrade failed unexpectedly');
        res.close();
      }
    },
    open(ws) {
      const data = ws.getUserData();
      // Refusals happen after the upgrade, so that a browser sees the close code (1008).
      const door = service.door(data.head!);
      data.head = null;
      const connection = new UwsConnection(ws, batch);
      data.connection = connection;
      connection.group = heartbeat.join(connection);
      if (!door.ok) return void connection.close(CLOSE_CODES.policy, door.reason);
      connection.handlers = service.open(connection, door.mayWatchAll);
    },
    message(ws, message, isBinary) {
      const connection = ws.getUserData().connection!;
      if (message.byteLength > opts.maxMessageSize) return void connection.close(CLOSE_CODES.messageTooBig, 'message too big');
      // uWS neuters `message` when this returns; the text is decoded (a copy) first.
      const text = isBinary ? null : Buffer.from(message).toString('utf8');
      if (connection.inbound === null) {
        connection.inbound = [text];
        setImmediate(deliverInbound, connection);
      } else connection.inbound.push(text);
    },
    drain(ws) {
      const connection = ws.getUserData().connection;
      // Called after each writable turn; the hub hears of it once everything has gone out.
      if (connection !== null && ws.getBufferedAmount() === 0 && connection.pendingBytes === 0) connection.drained();
    },
    pong(ws) {
      const connection = ws.getUserData().connection;
      if (connection !== null) connection.missedPongs = 0;
    },
    close(ws) {
      const data = ws.getUserData();
      caps.release(data.address);
      const connection = data.connection;
      if (connection === null) return;
      connection.isOpen = false;
      if (connection.closing !== null) clearTimeout(connection.closing.timer);
      connection.pending = null;
      connection.pendingBytes = 0;
      connection.group?.delete(connection);
      // uWS calls this from inside end(): the hub hears of the close after the call that ended it returns.
      queueMicrotask(() => connection.handlers.onClose());
    },
  };
  app.ws<SocketData>('/*', behavior);

  return {
    close() {
      heartbeat.stop();
    },
  };
}

/** The service's refusal; an admitted connection that is refused is given back to the caps. */
function refuseOrNull(service: WebSocketService, head: UwsRequestHead, caps: ConnectionCaps) {
  const refusal = service.refuse(head);
  if (refusal !== null) caps.release(head.remoteAddress);
  return refusal;
}

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  return Buffer.from(reason).subarray(0, MAX_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}
