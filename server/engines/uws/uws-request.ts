// uWS's request and response as the engine-neutral request (server/http/request.ts).
//
// uWS hands a handler a `req` that is valid only until the handler returns, and a `res`
// that is valid until it is ended or aborted. So the head is copied at once, and the body
// is read through `res.onData`, whose chunks uWS reuses after the callback returns: each
// is copied before it is pushed. Backpressure goes the other way through `res.pause()`
// and `res.resume()`, which stop and restart reading the socket.

import { Readable } from 'node:stream';
import type { HttpRequest as UwsRawRequest, HttpResponse as UwsResponse } from 'uWebSockets.js';
import type { ClientAddresses } from '../../client-address.js';
import { announcesBody, type HttpRequest, type RequestBody, type RequestHead } from '../../http/request.js';
import { parseTarget } from '../../http/request-target.js';
import { formatRemoteAddress } from './remote-address.js';

/** The head of an HTTP request or a WebSocket upgrade, copied out of uWS's `req` while it is valid. */
export class UwsRequestHead implements RequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string | null;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The client (--trust-proxy: from X-Forwarded-For when the peer is a listed proxy). */
  readonly remoteAddress: string;
  /** The TCP peer: a listed proxy's address, or the client's own. */
  readonly peerAddress: string;
  /** Bytes of the request line's target and the header lines, as sent (about): what MAX_HEADER_BYTES bounds. */
  readonly headBytes: number;
  private readonly search: string;
  private params: URLSearchParams | null = null;

  constructor(res: UwsResponse, req: UwsRawRequest, addresses: ClientAddresses) {
    const query = req.getQuery();
    const target = parseTarget(query === '' ? req.getUrl() : `${req.getUrl()}?${query}`);
    this.method = req.getCaseSensitiveMethod();
    this.path = target.path;
    this.authority = target.authority;
    this.search = target.search;
    const copied = copyHeaders(req);
    this.headers = copied.headers;
    this.headBytes = copied.bytes + this.path.length + this.search.length;
    this.peerAddress = formatRemoteAddress(res.getRemoteAddress());
    this.remoteAddress = addresses.clientOf(this.peerAddress, this.headers['x-forwarded-for']);
  }

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.search));
  }
}

/**
 * The most the head of a request may weigh: Node's limit (16 KiB), which the ws engine
 * answers with 431. uWS takes far larger heads, so the uws engine checks this itself.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Header values by lower-case name; a header sent twice is one value joined with `, `, as Node does. */
function copyHeaders(req: UwsRawRequest): { headers: Record<string, string>; bytes: number } {
  const headers: Record<string, string> = Object.create(null);
  let bytes = 0;
  req.forEach((name, value) => {
    const key = name.toLowerCase();
    const earlier = headers[key];
    headers[key] = earlier === undefined ? value : `${earlier}, ${value}`;
    // "name: value\r\n"
    bytes += key.length + value.length + 4;
  });
  return { headers, bytes };
}

/**
 * One request. Made inside the uWS handler: it registers the body reader and the abort
 * handler there, as uWS requires of a response that is not answered at once.
 */
export class UwsRequest extends UwsRequestHead implements HttpRequest, RequestBody {
  readonly receivedAt = performance.now();
  readonly stream: Readable;
  private isBodyComplete: boolean;
  private isAborted = false;
  /** Whether reading is paused for the body's reader (res.pause()). */
  private isPaused = false;
  /** Set once the response is ended: uWS's `res` may not be touched after that. */
  private isAnswered = false;
  private readonly controller = new AbortController();

  constructor(
    private readonly res: UwsResponse,
    req: UwsRawRequest,
    addresses: ClientAddresses,
    /** Called once if the client goes away before the answer has gone out. */
    private readonly onAbort: () => void,
  ) {
    super(res, req, addresses);
    this.isBodyComplete = !announcesBody(this);
    this.stream = new Readable({ read: () => this.resumeReading() });
    if (this.isBodyComplete) this.stream.push(null);
    else res.onData((chunk, isLast) => this.onData(chunk, isLast));
    res.onAborted(() => this.aborted());
  }

  get body(): RequestBody {
    return this;
  }

  get isComplete(): boolean {
    return this.isBodyComplete;
  }

  get hasEndedEarly(): boolean {
    return this.isAborted && !this.isBodyComplete;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the response may still be written (not ended, client still there). */
  get isWritable(): boolean {
    return !this.isAborted && !this.isAnswered;
  }

  /** Whether the client went away before the answer had gone out. */
  get wasAborted(): boolean {
    return this.isAborted;
  }

  /** The response has been ended: `res` is no longer ours. */
  answered(): void {
    this.isAnswered = true;
  }

  private onData(chunk: ArrayBuffer, isLast: boolean): void {
    // uWS neuters `chunk` when this returns: the bytes are copied.
    if (chunk.byteLength > 0 && !this.stream.push(Buffer.from(new Uint8Array(chunk))) && !isLast) this.pauseReading();
    if (!isLast) return;
    this.isBodyComplete = true;
    this.stream.push(null);
  }

  private pauseReading(): void {
    if (this.isPaused || !this.isWritable) return;
    this.isPaused = true;
    this.res.pause();
  }

  private resumeReading(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    if (this.isWritable) this.res.resume();
  }

  private aborted(): void {
    if (this.isAborted) return;
    this.isAborted = true;
    // Without an error: on a route that never reads its body nobody listens for one. The
    // stream closes without 'end', and the signal says why.
    if (!this.isBodyComplete) this.stream.destroy();
    this.controller.abort();
    this.onAbort();
  }
}
