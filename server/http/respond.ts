// Writing JSON answers and errors in the one error shape of SPEC 2.

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { JobcastError } from '../errors.js';

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * A refused request whose body is still arriving is read on, up to these bounds, before
 * the answer goes out. Closing a socket with unread bytes makes the kernel send a reset,
 * and a reset can destroy the answer before the client reads it (or fail the client's
 * next write first): a small refused upload then looks like a network error instead of
 * its error code. Past the bounds the cost of reading on wins, and the connection is
 * closed right after the answer.
 */
const DRAIN_MAX_BYTES = 1024 * 1024;
const DRAIN_MAX_MS = 500;

/**
 * Sends `{"error": {code, message}}`. When the request body has not been read to its end
 * (an upload refused part-way), it is drained within the bounds above, and the connection
 * is closed after the answer: it cannot carry another request.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: JobcastError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...error.headers };
  if (req.complete) return sendJson(res, error.status, error.toJSON(), headers);
  headers.connection = 'close';
  void drainBody(req).then(() => {
    if (!res.destroyed) sendJson(res, error.status, error.toJSON(), headers);
  });
}

/** Reads and discards the rest of `req`; resolves at its end, when it breaks off, or at the bounds. */
function drainBody(req: IncomingMessage): Promise<void> {
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
      if (drained > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
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
