// A Reply (server/http/reply.ts) on a uWS response.
//
// What uWS asks of the code that writes: writes from anywhere but the handler's own
// synchronous part go inside `res.cork` (one syscall for the head and body); `res` may not
// be touched once ended or aborted; uWS writes Content-Length itself (a header of ours
// would be sent twice), and `endWithoutBody(n)` announces n bytes for a HEAD. A body of
// unknown length goes out chunked with `res.write`, which returns false once uWS holds
// bytes the kernel did not take; `onWritable` is then called as the socket drains, and
// only a write made there tells whether everything has gone out. A file goes out with
// `tryEnd`, uWS's streaming of a body of known length: a chunk the socket does not take
// waits for `onWritable`, and the file is read no faster than the client takes it.

import { createReadStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { HttpResponse as UwsResponse } from 'uWebSockets.js';
import type { Reply, ReplyStream, ReplyStreamListener } from '../../http/reply.js';
import { discardBody } from '../discard-body.js';
import type { LingerLimits } from '../engine.js';
import type { UwsRequest } from './uws-request.js';

/** Statuses whose answers carry no body and no Content-Length (RFC 9110 6.4.1, 8.6). */
const BODILESS_STATUSES: ReadonlySet<number> = new Set([204, 304]);

/** Writes `reply` to `res`, the answer to `request`; `onSent` is called once it has gone out in full. */
export function writeReply(res: UwsResponse, request: UwsRequest, reply: Reply, linger: LingerLimits, onSent: () => void): void {
  if (!request.isWritable) return;
  const { body } = reply;
  const isHead = request.method === 'HEAD';
  const closes = reply.closesConnection === true;
  const ended = (): void => {
    request.answered();
    onSent();
  };
  if (body.kind === 'stream' && !isHead) return openStream(res, request, reply, body.open, body.noop, ended);
  if (body.kind === 'file' && !isHead) return sendFile(res, request, reply, body.path, body.size, ended);
  const bytes = body.kind === 'bytes' ? body.bytes : null;
  if (closes && !request.isComplete && bytes !== null && !isHead) return answerThenLinger(res, request, reply, bytes, linger, ended);
  if (bytes !== null && !isHead && !closes) return sendBytes(res, reply, bytes, ended);
  res.cork(() => {
    writeHead(res, reply);
    if (isHead) {
      const length = body.kind === 'bytes' ? body.bytes.length : body.kind === 'file' ? body.size : undefined;
      endWithoutBody(res, length, closes);
    } else if (bytes !== null) res.end(bytes, closes);
    else if (BODILESS_STATUSES.has(reply.status)) endWithoutBody(res, undefined, closes);
    else res.end(undefined, closes);
  });
  ended();
}

/**
 * Ends without a body, announcing `length` (a HEAD) or no length at all. Only a call
 * without arguments writes no Content-Length: an undefined length is written as 2^63. A
 * connection to close takes an argument, so it announces 0 when there is no length.
 */
function endWithoutBody(res: UwsResponse, length: number | undefined, closes: boolean): void {
  if (length !== undefined) res.endWithoutBody(length, closes);
  else if (closes) res.endWithoutBody(0, true);
  else res.endWithoutBody();
}

/** The status line and the reply's own headers (uWS adds Date and the length). */
export function writeHead(res: UwsResponse, reply: Reply): void {
  res.writeStatus(`${reply.status} ${STATUS_CODES[reply.status] ?? 'Unknown'}`);
  for (const name in reply.headers) res.writeHeader(name, reply.headers[name]!);
}

/**
 * A refused request whose body is still arriving. uWS closes a connection whose answer is
 * complete as soon as more of the request's body comes in, and that reset can destroy the
 * answer before the client reads it (see LingerLimits). So the answer goes out at once,
 * status, headers and body, but chunked, with its end held back: the rest of the request
 * body is read and dropped meanwhile, and the end goes out once the body is in or at the
 * linger's bounds. (`end` with uWS's closeConnection would write its `Connection: close`
 * into a chunked body, so that header is written here.)
 */
function answerThenLinger(res: UwsResponse, request: UwsRequest, reply: Reply, bytes: Buffer, linger: LingerLimits, ended: () => void): void {
  res.cork(() => {
    writeHead(res, reply);
    res.writeHeader('connection', 'close');
    res.write(bytes);
  });
  void discardBody(request.stream, linger, request.isComplete).then(() => {
    if (!request.isWritable) return;
    res.cork(() => res.end());
    ended();
  });
}

/**
 * Bytes known in full, with `tryEnd`: what the socket does not take now waits here, not in
 * uWS, and the answer stays unfinished until the client has taken it. That bounds what a
 * client that pipelines requests and reads nothing costs: uWS works out the requests of
 * a read one after the other, and each answer made at once (a store read is synchronous)
 * would otherwise pile up in uWS's buffer; with one still unfinished, uWS closes the
 * connection at the next request instead of parsing it.
 */
function sendBytes(res: UwsResponse, reply: Reply, bytes: Buffer, ended: () => void): void {
  let start = 0;
  let done = false;
  res.cork(() => {
    writeHead(res, reply);
    start = res.getWriteOffset();
    done = res.tryEnd(bytes, bytes.length)[1];
  });
  if (done) return ended();
  res.onWritable((offset) => {
    const [ok, isDone] = res.tryEnd(bytes.subarray(offset - start), bytes.length);
    if (isDone) ended();
    return ok || isDone;
  });
  // An answer the client never takes is cut by uWS's own timeout (about 10 s): onAborted.
}

/** Streams the file at `path` (`size` bytes) as the client takes it. */
function sendFile(res: UwsResponse, request: UwsRequest, reply: Reply, path: string, size: number, ended: () => void): void {
  res.cork(() => writeHead(res, reply));
  if (size === 0) {
    res.cork(() => res.end());
    return ended();
  }
  const file = createReadStream(path);
  /** A chunk the socket did not take in full, and the write offset it started at. */
  let waiting: { chunk: Buffer; offset: number } | null = null;
  const send = (chunk: Buffer, offset: number): boolean => {
    let result: [boolean, boolean] = [false, false];
    res.cork(() => (result = res.tryEnd(chunk, size)));
    const [ok, done] = result;
    if (done) {
      file.destroy();
      ended();
    }
    return ok || done;
  };
  file.on('data', (data: string | Buffer) => {
    const chunk = data as Buffer; // no encoding set: always a Buffer
    if (!request.isWritable) return void file.destroy();
    const offset = res.getWriteOffset();
    if (send(chunk, offset)) return;
    file.pause();
    waiting = { chunk, offset };
  });
  res.onWritable((offset) => {
    if (waiting === null) return true;
    const ok = send(waiting.chunk.subarray(offset - waiting.offset), waiting.offset);
    if (ok) {
      waiting = null;
      if (request.isWritable) file.resume();
    }
    return ok;
  });
  // A file that cannot be read to its end leaves a short body: the connection is cut so that the client sees it.
  const cut = (): void => {
    if (request.isWritable) res.close();
  };
  file.on('error', cut);
  file.on('end', () => {
    if (request.isWritable && waiting === null) cut();
  });
  request.signal.addEventListener('abort', () => file.destroy(), { once: true });
}

/** Writes the head and hands the route its stream. */
function openStream(
  res: UwsResponse,
  request: UwsRequest,
  reply: Reply,
  open: (stream: ReplyStream) => ReplyStreamListener,
  noop: string | undefined,
  ended: () => void,
): void {
  const stream = new UwsReplyStream(res, request, noop, ended);
  res.cork(() => {
    writeHead(res, reply);
    stream.listener = open(stream);
  });
  res.onWritable(() => stream.onWritable());
  request.signal.addEventListener('abort', () => stream.gone(), { once: true });
}

/** Until the route's listener is known: nothing to tell. */
const NOBODY: ReplyStreamListener = Object.freeze({ onDrain() {}, onClose() {} });

/**
 * A streamed body on a uWS response. While uWS holds bytes the kernel did not take, new
 * writes wait here, in order; what a slow reader costs is what waits here plus what uWS
 * holds (counted as the whole chunk it refused).
 */
class UwsReplyStream implements ReplyStream {
  listener: ReplyStreamListener = NOBODY;
  private readonly waiting: Buffer[] = [];
  private waitingBytes = 0;
  /** Bytes of the write uWS did not hand to the kernel in full (an upper bound of what it holds). */
  private heldByUws = 0;
  private isBackedUp = false;
  private isEnding = false;
  private isClosed = false;
  private readonly noop: Buffer | null;

  constructor(
    private readonly res: UwsResponse,
    private readonly request: UwsRequest,
    noop: string | undefined,
    private readonly ended: () => void,
  ) {
    this.noop = noop === undefined ? null : Buffer.from(noop);
  }

  write(chunk: string | Buffer): boolean {
    if (this.isEnded) return false;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.isBackedUp) {
      this.waiting.push(bytes);
      this.waitingBytes += bytes.length;
      return false;
    }
    let ok = false;
    this.res.cork(() => (ok = this.res.write(bytes)));
    if (!ok) this.backedUp(bytes.length);
    return ok;
  }

  get bufferedBytes(): number {
    return this.waitingBytes + this.heldByUws;
  }

  get isEnded(): boolean {
    return this.isEnding || this.isClosed;
  }

  end(): void {
    if (this.isEnded) return;
    this.isEnding = true;
    if (!this.isBackedUp) this.finish();
  }

  destroy(): void {
    // uWS calls onAborted from close(), which ends up in gone().
    if (this.request.isWritable) this.res.close();
    else this.gone();
  }

  /** uWS's writable event, while it holds bytes of ours: hands on what waits here, oldest first. */
  onWritable(): boolean {
    if (!this.isBackedUp || !this.request.isWritable) return true;
    // A write made here first hands on what uWS holds; true means everything went out.
    let ok = true;
    if (this.waiting.length === 0) {
      // Nothing of ours waits, but only a write tells whether uWS's bytes have gone: this
      // build stops calling onWritable if one returns true without having written.
      if (this.noop !== null) ok = this.res.write(this.noop);
    }
    while (ok && this.waiting.length > 0) {
      const chunk = this.waiting.shift()!;
      this.waitingBytes -= chunk.length;
      ok = this.res.write(chunk);
      if (!ok) this.heldByUws = chunk.length;
    }
    if (!ok) return false;
    this.isBackedUp = false;
    this.heldByUws = 0;
    if (this.isEnding) this.finish();
    else this.listener.onDrain();
    return true;
  }

  /** The client went away, or the stream was cut: said once. */
  gone(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.heldByUws = 0;
    this.listener.onClose();
  }

  private backedUp(bytes: number): void {
    this.isBackedUp = true;
    this.heldByUws = bytes;
  }

  private finish(): void {
    if (this.isClosed || !this.request.isWritable) return this.gone();
    this.res.cork(() => this.res.end());
    this.isClosed = true;
    this.ended();
    this.listener.onClose();
  }
}
