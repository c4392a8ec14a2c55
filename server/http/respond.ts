// Writing JSON answers and errors in the one error shape of SPEC 2.

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { JobcastError } from '../errors.js';

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.end(writeJsonHead(res, status, body, headers));
}

/** Writes the status line and headers for `body` as JSON; returns the body's text, still to be sent. */
function writeJsonHead(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): string {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  return text;
}

/**
 * A refused request whose body is still arriving: the whole answer goes out at once, but
 * the connection stays open, reading and discarding the body, until it ends or these
 * bounds are reached, and only then closes. Closing a socket with unread bytes makes the
 * kernel send a reset, and a reset can destroy the answer before the client has read it
 * (or fail the client's next write first), so a refused upload would look like a network
 * error instead of its error code. The answer carries Content-Length, so the client has
 * all of it long before the close.
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

/**
 * Sends `{"error": {code, message}}`. When the request body has not been read to its end
 * (an upload refused part-way), the connection lingers within the bounds above, then
 * closes: it cannot carry another request.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: JobcastError, linger: LingerLimits = DEFAULT_LINGER): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...error.headers };
  if (req.complete) return sendJson(res, error.status, error.toJSON(), headers);
  headers.connection = 'close';
  res.write(writeJsonHead(res, error.status, error.toJSON(), headers));
  void drainBody(req, linger).then(() => res.end());
}

/** Reads and discards the rest of `req`; resolves at its end, when it breaks off, or at the bounds. */
function drainBody(req: IncomingMessage, linger: LingerLimits): Promise<void> {
  return new Promise((resolve) => {
    let drained = 0;
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', count);
      req.off('end', finish);
      req.off('close', finish);
      resolve();
    };
    const count = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > linger.maxBytes) finish();
    };
    const timer = setTimeout(finish, linger.maxMs);
    req.on('data', count);
    req.once('end', finish);
    req.once('close', finish);
    // Past the bounds the data goes on being discarded until the socket closes.
    req.resume();
    if (req.complete || req.destroyed) finish();
  });
}

/**
 * `error` as a whole HTTP/1.1 response with `Connection: close`, for writing straight to
 * a socket where there is no ServerResponse: a refused upgrade, a request Node could not parse.
 */
export function rawErrorResponse(error: JobcastError): string {
  const body = JSON.stringify(error.toJSON());
  const extra = Object.entries(error.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nConnection: close\r\n${extra.join('')}` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
