// The SSE transport (SPEC 3.4): one event stream is one hub connection, written as SSE
// text on an engine's reply stream. What a WebSocket gets, it gets: catch-up, resume, and
// the slow-reader policy (its buffered bytes are what the engine holds for it; past the
// limits it is ended, and cut if it does not take the end). Engine-neutral: any engine
// that can stream a reply with backpressure carries it.

import type { Connection } from '../hub/connection.js';
import type { Frame } from '../hub/frame.js';
import type { Hub, SessionHandlers } from '../hub/hub.js';
import type { ReplyStream, ReplyStreamListener } from '../http/reply.js';

export interface SseOptions {
  hub: Hub;
  /** Comment lines keep proxies from timing the stream out (--heartbeat). */
  heartbeatMs: number;
}

/** Messages of the socket protocol that have no place in an SSE stream. */
const SOCKET_ONLY: ReadonlySet<string> = new Set(['subscribed', 'unsubscribed', 'pong', 'error']);
/** A stream the hub closed whose reader does not take the end is cut after this (as the ws engine does). */
const CLOSE_TIMEOUT_MS = 2000;
/** Tells an EventSource to reconnect after 1 s when the stream breaks. */
const PREAMBLE = 'retry: 1000\n\n';
const HEARTBEAT = ': ping\n\n';

/** Until the hub has adopted the stream: nothing to tell. */
const NOBODY: SessionHandlers = Object.freeze({ onMessage() {}, onDrain() {}, onClose() {}, subscribe() {} });

/** One event stream as the hub sees it, and as its engine's stream listener. */
class SseConnection implements Connection, ReplyStreamListener {
  handlers: SessionHandlers = NOBODY;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly stream: ReplyStream,
    heartbeatMs: number,
  ) {
    // A stream with bytes still waiting is not idle: no comment is added to a buffer the
    // client is not reading. After the end (which can come while the reader stalls), nothing.
    this.heartbeat = setInterval(() => {
      if (!stream.isEnded && stream.bufferedBytes === 0) stream.write(HEARTBEAT);
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  send(frame: Frame): void {
    if (SOCKET_ONLY.has(frame.name) || this.stream.isEnded) return;
    this.stream.write(frame.sse);
    // The stream ends after the job's final event (SPEC 3.4).
    if (frame.isFinal) this.end();
  }

  bufferedAmount(): number {
    return this.stream.bufferedBytes;
  }

  /** Closed as too slow, or at shutdown: a reader that does not take the end would hold its buffer for as long as TCP lets it. */
  close(): void {
    this.end();
    setTimeout(() => this.stream.destroy(), CLOSE_TIMEOUT_MS).unref();
  }

  // The client sends nothing on an SSE stream: there is nothing to stop reading.
  pauseReading(): void {}

  resumeReading(): void {}

  onDrain(): void {
    this.handlers.onDrain();
  }

  onClose(): void {
    clearInterval(this.heartbeat);
    this.handlers.onClose();
  }

  private end(): void {
    clearInterval(this.heartbeat);
    this.stream.end();
  }
}

/** Opens the event stream of `job` from `since` on `stream`; the engine tells the returned listener of drains and the end. */
export function openEventStream(opts: SseOptions, stream: ReplyStream, job: string, since: number | undefined): ReplyStreamListener {
  stream.write(PREAMBLE);
  const connection = new SseConnection(stream, opts.heartbeatMs);
  connection.handlers = opts.hub.open(connection, { mayWatchAll: false });
  connection.handlers.subscribe(job, since);
  return connection;
}
