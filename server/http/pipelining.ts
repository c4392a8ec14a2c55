// Pipelined requests on one connection: the node:http engine's mechanism for SPEC 7
// "one client cannot take the server down". The policy is engine-neutral (one request's
// work at a time, bounded answer bytes); pausing a socket is Node's business, so it lives
// here and not in the routes.
//
// HTTP/1.1 lets a client send requests without waiting for answers, which go back in
// order. Node's parser hands over every request of a chunk it reads at once and emits
// 'request' for each before the first is answered; it stops reading only between
// chunks, once answers are already buffered (_http_server.js, parserOnIncoming). So
// 2,000 `GET /jobs/{id}` of a large job in one 110 KB write, never read, each built its
// large answer at once: gigabytes, and an event loop busy for seconds.
//
// Here, per connection:
// - one request's work runs at a time; the next starts once the previous answer has
//   been handed to the kernel ('finish'), so no work is done for an answer that could not
//   be sent, and the process holds at most one answer per connection;
// - the connection is not read while more than MAX_UNANSWERED requests wait for their
//   answers or more than MAX_PENDING_BYTES of answer wait for the client: what a burst
//   costs is one read (at most 64 KiB) of parsed requests, about 1.6 KB each, waiting;
// - a connection whose client takes no byte of a waiting answer for `stallTimeoutMs`
//   (60 s, nginx's send_timeout) is closed, so what it held is given back.
// Pausing uses Node's own flag, `socket._paused`, the one its parser and request bodies
// consult (parserOnIncoming pauses with it, socketOnDrain resumes): a plain
// socket.pause() would be undone by the next request body read. Node resumes on its own
// condition when the socket drains; the listeners here run after Node's and pause again.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

/** Requests waiting for their answers past which a connection is not read. */
export const MAX_UNANSWERED = 8;
/** Answer bytes waiting for the client past which a connection is not read and no new request starts. */
export const MAX_PENDING_BYTES = 1024 * 1024;
/** Default of ServeInOrderOptions.stallTimeoutMs. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface ServeInOrderOptions {
  logger: Logger;
  /** A connection whose client takes no byte of a waiting answer for this long is closed. Default 60 s. */
  stallTimeoutMs?: number;
}

const kLine = Symbol('jobcast.requestLine');

/** The Node internals used here (node 20: lib/_http_server.js). */
type HttpSocket = Socket & {
  _paused?: boolean;
  parser?: { resume(): void } | null;
  [kLine]?: RequestLine;
};

interface Waiting {
  req: IncomingMessage;
  res: ServerResponse;
}

/** Wraps the request listener so that each connection's requests run one at a time, as described above. */
export function serveInOrder(listener: RequestListener, options: ServeInOrderOptions): RequestListener {
  const watch = new StallWatch(options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, options.logger);
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as HttpSocket;
    // Parsed in the same read as a request that had the socket destroyed: nobody will read the answer.
    if (socket.destroyed) return;
    (socket[kLine] ??= new RequestLine(socket, listener, watch)).add(req, res);
  };
}

/** One connection's requests from arrival to answer. Exists only while it has requests (or holds the socket). */
class RequestLine {
  /** Requests parsed and not started, oldest first, from `head` on. */
  private waiting: Waiting[] = [];
  private head = 0;
  /** The answer being worked on or sent; null between requests. */
  private active: ServerResponse | null = null;
  /** Requests whose answers have not been handed to the kernel (the active one and the waiting ones). */
  unanswered = 0;
  private isHolding = false;
  /** Set while update() runs: a listener that answers at once must not start the next request inside it. */
  private isUpdating = false;
  /** Something changed while update() ran: it goes round again. */
  private isDirty = false;
  /** What the stall watch last saw: bytes handed to the kernel, and since when that has not moved. */
  sentAtLastLook = -1;
  stalledSince: number | null = null;

  constructor(
    readonly socket: HttpSocket,
    private readonly listener: RequestListener,
    private readonly watch: StallWatch,
  ) {
    socket.on('drain', this.socketOnDrain);
    socket.on('close', this.socketOnClose);
    watch.add(this);
  }

  add(req: IncomingMessage, res: ServerResponse): void {
    this.unanswered++;
    let isAnswered = false;
    const answered = (): void => {
      if (isAnswered) return;
      isAnswered = true;
      this.unanswered--;
      if (this.active === res) this.active = null;
      this.update();
    };
    // 'finish': the whole answer is with the kernel; 'close' alone: it never will be.
    res.once('finish', answered);
    res.once('close', answered);
    this.waiting.push({ req, res });
    this.update();
  }

  /** Starts the next request when it may, pauses or resumes reading, and lets go of an idle socket. */
  private update(): void {
    if (this.isUpdating) {
      this.isDirty = true;
      return;
    }
    this.isUpdating = true;
    try {
      do {
        this.isDirty = false;
        this.step();
      } while (this.isDirty);
    } finally {
      this.isUpdating = false;
    }
  }

  private step(): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.active === null && this.head < this.waiting.length && socket.writableLength <= MAX_PENDING_BYTES) this.startNext();
    const shouldHold = this.unanswered > MAX_UNANSWERED || socket.writableLength > MAX_PENDING_BYTES;
    if (shouldHold) this.hold();
    else this.release();
    if (this.unanswered === 0 && !this.isHolding) this.detach();
  }

  private startNext(): void {
    const next = this.waiting[this.head]!;
    // The slot is cleared so that the request can be collected once answered.
    this.waiting[this.head++] = undefined as unknown as Waiting;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.active = next.res;
    this.listener(next.req, next.res);
  }

  private hold(): void {
    // Node may have resumed reading in its own 'drain' or 'finish' listener, which run first.
    this.socket._paused = true;
    this.socket.pause();
    this.isHolding = true;
  }

  private release(): void {
    if (!this.isHolding) return;
    this.isHolding = false;
    // As Node's socketOnDrain resumes a socket it paused.
    const socket = this.socket;
    socket._paused = false;
    socket.parser?.resume();
    socket.resume();
  }

  private detach(): void {
    this.watch.delete(this);
    this.socket.off('drain', this.socketOnDrain);
    this.socket.off('close', this.socketOnClose);
    delete this.socket[kLine];
  }

  private readonly socketOnDrain = (): void => this.update();

  private readonly socketOnClose = (): void => {
    this.waiting = [];
    this.head = 0;
    this.detach();
  };
}

/**
 * Closes connections whose client takes no byte of a waiting answer for `timeoutMs`. One
 * timer for every connection with requests in flight, running only while there are some;
 * a connection is seen stalled between `timeoutMs` and 1.5 times that after it stopped.
 */
class StallWatch {
  private readonly lines = new Set<RequestLine>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  add(line: RequestLine): void {
    this.lines.add(line);
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.look(), Math.max(10, this.timeoutMs / 2));
    this.timer.unref();
  }

  delete(line: RequestLine): void {
    this.lines.delete(line);
    if (this.lines.size > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private look(): void {
    const now = performance.now();
    for (const line of this.lines) {
      const socket = line.socket;
      const sent = socket.bytesWritten - socket.writableLength;
      if (socket.writableLength === 0 || sent !== line.sentAtLastLook) {
        line.sentAtLastLook = sent;
        line.stalledSince = null;
      } else if (line.stalledSince === null) {
        line.stalledSince = now;
      } else if (now - line.stalledSince >= this.timeoutMs) {
        this.logger.info(
          { remoteAddress: socket.remoteAddress, unanswered: line.unanswered, pendingBytes: socket.writableLength },
          `connection closed: its client took no byte of its answers for ${Math.round(this.timeoutMs / 1000)} s`,
        );
        socket.destroy();
      }
    }
  }
}
