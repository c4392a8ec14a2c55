// A request as the routes see it, whatever server library received it. Each engine
// (server/engines/) makes one of these per request, at once, from what its library hands
// over; the routes, the upload receiver, auth and the door read only this.

import type { Readable } from 'node:stream';

/** What an HTTP request or a WebSocket upgrade shows before any body: copied once by the engine. */
export interface RequestHead {
  /** The method as sent, upper case (`GET`, `POST`, `HEAD`...). */
  readonly method: string;
  /** The path exactly as sent, before `?` (request-target.ts): `//x/ws` is not `/ws`. */
  readonly path: string;
  /** The parameters of the query string. */
  readonly query: URLSearchParams;
  /** `host[:port]` of an absolute-form target (`GET http://host/path`), which takes the Host header's place; else null. */
  readonly authority: string | null;
  /** Header values by lower-case name; a header sent twice is one value joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The client's address as Node writes it: `127.0.0.1`, `::1`, `::ffff:127.0.0.1`. */
  readonly remoteAddress: string;
}

/** The body of a request, as bytes that arrive over time. */
export interface RequestBody {
  /**
   * The body's bytes. Backpressure reaches the client: while the stream is paused (its
   * `pause()`, or a full pipe), the engine stops reading the connection and TCP slows the
   * sender. When the client goes away before the end, the stream errors or closes without
   * 'end'. A request without a body is an empty stream.
   */
  readonly stream: Readable;
  /** Whether every byte of the body has arrived (true for a request without a body once its head is read). */
  readonly isComplete: boolean;
  /** Whether the client went away, or the connection broke, before the body was complete. */
  readonly hasEndedEarly: boolean;
}

/** One HTTP request: its head, its body and its lifetime. */
export interface HttpRequest extends RequestHead {
  readonly body: RequestBody;
  /** Aborted when the client goes away before its reply has gone out in full. */
  readonly signal: AbortSignal;
  /** `performance.now()` when the request arrived, for the request log's duration. */
  readonly receivedAt: number;
}

/**
 * A request announces a body with a non-zero Content-Length or any Transfer-Encoding
 * (RFC 9112 6.3).
 */
export function announcesBody(head: RequestHead): boolean {
  if (head.headers['transfer-encoding'] !== undefined) return true;
  const length = head.headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}
