// A reply as the routes make it, whatever server library sends it: a status, headers,
// and a body that is empty, bytes (JSON is bytes made here), a file, or a stream the
// route writes to. The engine (server/engines/) puts it on the wire; what every engine
// must do with it is written on each type. Errors become the SPEC 2 shape here, once.

import { JobcastError, isJobcastError } from '../errors.js';
import type { HttpRequest } from './request.js';

/** What a reply carries after its head. */
export type ReplyBody =
  /** No body (204, or a HEAD). */
  | { readonly kind: 'empty' }
  /** Bytes known in full: sent with their Content-Length. */
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  /** A file of known size: sent with Content-Length `size`, read as the client takes it. */
  | { readonly kind: 'file'; readonly path: string; readonly size: number }
  /**
   * A body of unknown length that the route writes over time (SSE). The engine writes the
   * head, then calls `open` once with the stream, and tells the listener it returns of
   * drains and of the end. `open` is not called when the client left before the head
   * went out, nor for a HEAD request.
   */
  | {
      readonly kind: 'stream';
      open(stream: ReplyStream): ReplyStreamListener;
      /**
       * Bytes the engine may add between two writes without changing what the body says
       * (SSE: an empty comment line). An engine that learns that a backed-up stream has
       * drained only by writing to it (uws) writes these when it has nothing else to send.
       */
      readonly noop?: string;
    };

export interface Reply {
  readonly status: number;
  /**
   * Lower-case names. Never `content-length`, `transfer-encoding`, `connection` or `date`:
   * the engine writes those from the body and `closesConnection`.
   */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ReplyBody;
  /**
   * The connection carries no other request after this one: it is closed once the reply
   * is out. When the request's body is still arriving (an upload refused part-way), the
   * engine lets the client finish sending, within bounds, before it closes (see
   * LingerLimits in server/engines/engine.ts): a socket closed with unread bytes is reset,
   * and a reset can destroy the reply before the client reads it.
   */
  readonly closesConnection?: boolean;
}

/** The stream a `stream` body writes to. */
export interface ReplyStream {
  /**
   * Queues `chunk`. Returns false once the engine holds more than it wants to: keep
   * writing at your own risk (the bytes are kept), and expect onDrain when it has handed
   * them on. Writes after the end or after the client left are dropped.
   */
  write(chunk: string | Buffer): boolean;
  /** Bytes written and not yet handed to the kernel: what a slow reader costs. */
  readonly bufferedBytes: number;
  /** Whether end() or destroy() was called, or the client went away. */
  readonly isEnded: boolean;
  /** Ends the body once what is queued has gone out. Safe to call twice. */
  end(): void;
  /** Drops the connection now, with whatever is still queued (a reader that takes nothing). */
  destroy(): void;
}

/** What the engine tells the writer of a `stream` body. One object, not closures: one per stream. */
export interface ReplyStreamListener {
  /** What was queued past the mark has been handed on (write() had returned false). */
  onDrain(): void;
  /** The stream is over: ended and sent, destroyed, or the client went away. Called once. */
  onClose(): void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** `value` as JSON, not to be cached (every JSON answer of the API reflects live state). */
export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: { kind: 'bytes', bytes: Buffer.from(JSON.stringify(value)) },
  };
}

/** Bytes of a known type. */
export function bytesReply(status: number, bytes: Buffer, headers: Record<string, string>): Reply {
  return { status, headers, body: { kind: 'bytes', bytes } };
}

/** A status and no body (204). */
export function emptyReply(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { kind: 'empty' } };
}

/**
 * `{"error": {code, message}}` with the error's status and headers (SPEC 2). Anything
 * that is not a JobcastError is a bug of ours: 500 `internal_error`, without its message.
 * Refused before its body was read in full, the request's connection is closed after
 * the reply (the engine lingers first; see Reply.closesConnection).
 */
export function errorReply(error: unknown, request?: Pick<HttpRequest, 'body'>): Reply {
  const known = isJobcastError(error) ? error : new JobcastError('internal_error');
  const reply = jsonReply(known.status, known.toJSON(), known.headers);
  return request !== undefined && !request.body.isComplete ? { ...reply, closesConnection: true } : reply;
}
