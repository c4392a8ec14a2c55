// One WebSocket at a time, replaced after ANY close (1001 shutdown, 1013 slow reader,
// 1006 for a network drop or a slow reader cut before it read its 1013 (SPEC 3.3), a
// refused connect) once a backoff delay has passed. It also pings:
// browsers cannot send ping frames and may take minutes to notice a dead TCP
// connection, so an application `ping` that gets no answer before the next one is due
// counts as a dead connection. What a message means is the client's business.

import type { ClientMessage, ServerMessage } from '../server/protocol/types.js';
import type { Backoff } from './backoff.js';
import { callSafely } from './listeners.js';
import { parseServerMessage } from './server-message.js';
import { OPEN, type WebSocketConstructorLike, type WebSocketLike } from './websocket-like.js';

/** What the owner of the socket hears. */
export interface SocketHandlers {
  /** A socket is open: subscribe now. */
  onOpen(): void;
  /** A well-formed server message (malformed ones never get here). */
  onMessage(message: ServerMessage): void;
  /** The socket is gone; attempt number `attempt` is scheduled after a backoff delay. */
  onDown(attempt: number): void;
}

export interface ReconnectingSocketOptions {
  /** The ws(s):// URL, token included. */
  url: string;
  WebSocket: WebSocketConstructorLike;
  /** Delays between attempts; reset by markHealthy(). */
  backoff: Backoff;
  /** How often an open socket sends `{"op":"ping"}`. */
  pingIntervalMs: number;
  handlers: SocketHandlers;
}

/** Close code for a socket given up on because it stopped answering (4000-4999: private use). */
const CLOSE_NO_ANSWER = 4000;
const NOOP = (): void => {};

/** Keeps one socket open: reconnects after any close with backoff, pings, hands on parsed messages. */
export class ReconnectingSocket {
  private socket: WebSocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  /** Gives up on a socket still connecting after pingIntervalMs (a black-holed SYN can hang for minutes). */
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private isAwaitingPong = false;
  private isClosed = false;

  constructor(private readonly opts: ReconnectingSocketOptions) {}

  /** Whether a socket is open now (messages sent now reach the server). */
  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  /** Opens the first socket. */
  start(): void {
    if (!this.isClosed && this.socket === null && this.reconnectTimer === null) this.connect();
  }

  /** Sends one message if a socket is open; false otherwise (the next open resubscribes anyway). */
  send(message: ClientMessage): boolean {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(message));
      return true;
    } catch {
      // A socket closing under us: its close event follows and the reconnect takes over.
      return false;
    }
  }

  /** The connection works (every subscription was acknowledged): the next drop starts the backoff over. */
  markHealthy(): void {
    this.opts.backoff.reset();
  }

  /** Closes the socket with 1000 and stops reconnecting. Safe to call twice. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopPing();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) closeQuietly(socket, 1000, 'client closed');
  }

  private connect(): void {
    this.reconnectTimer = null;
    let socket: WebSocketLike;
    try {
      socket = new this.opts.WebSocket(this.opts.url);
    } catch {
      // A browser refusing the URL at this moment (or a constructor that throws): try again later.
      return this.scheduleReconnect();
    }
    this.socket = socket;
    this.openTimer = setTimeout(() => this.dropSocket(socket, 'no answer to the opening handshake'), this.opts.pingIntervalMs);
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.startPing();
      callSafely(this.opts.handlers.onOpen, []);
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.isAwaitingPong = false;
      const message = parseServerMessage(event.data);
      if (message !== null) callSafely(this.opts.handlers.onMessage, [message]);
    };
    // An error is always followed by a close event, which does the work; the handler must
    // exist all the same (`ws` throws an 'error' event that has no listener).
    socket.onerror = NOOP;
    socket.onclose = () => {
      if (socket === this.socket) this.socketOnDown();
    };
  }

  private socketOnDown(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) detach(socket);
    this.stopPing();
    if (this.isClosed) return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = this.opts.backoff.next();
    callSafely(this.opts.handlers.onDown, [this.opts.backoff.attempt]);
    // onDown may have closed the client.
    if (this.isClosed) return;
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private startPing(): void {
    this.stopPing();
    this.isAwaitingPong = false;
    this.pingTimer = setInterval(() => this.pingOnTick(), this.opts.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.clearOpenTimer();
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== null) clearTimeout(this.openTimer);
    this.openTimer = null;
  }

  /** Gives up on `socket` now: its close handshake could take minutes on a dead connection, so it is not awaited. */
  private dropSocket(socket: WebSocketLike, reason: string): void {
    if (socket !== this.socket) return;
    closeQuietly(socket, CLOSE_NO_ANSWER, reason);
    this.socketOnDown();
  }

  private pingOnTick(): void {
    const socket = this.socket;
    if (socket === null) return;
    // Nothing at all came back within a whole interval: the connection is dead even if the browser has not noticed.
    if (this.isAwaitingPong) return this.dropSocket(socket, 'no answer to ping');
    this.isAwaitingPong = this.send({ op: 'ping' });
  }
}

/** Stops a socket from calling back; error stays handled (see connect). */
function detach(socket: WebSocketLike): void {
  socket.onopen = NOOP;
  socket.onmessage = NOOP;
  socket.onclose = NOOP;
  socket.onerror = NOOP;
}

function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  detach(socket);
  try {
    socket.close(code, reason);
  } catch {
    // Already closed, or an engine that refuses the code: either way it is gone for us.
  }
}
