// Requests Node's HTTP parser rejects never reach a route: no method, a broken header,
// headers past 16 KiB, headers that take too long. Node would answer them with a bare
// status line; here they get the same `{"error": {code, message}}` shape as every other
// error (SPEC 2), then the connection is closed.

import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { JobcastError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { rawErrorResponse } from './raw-response.js';

/** Answers parse errors on `server`'s connections with a JSON error. */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    // Only where nothing was written yet: mid-way through an earlier response (a
    // pipelined request went wrong) another status line would corrupt the stream.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    logger.debug({ code: err.code }, 'unparsable request');
    socket.end(rawErrorResponse(errorFor(err.code)), () => socket.destroy());
  });
}

function errorFor(code: string | undefined): JobcastError {
  if (code === 'HPE_HEADER_OVERFLOW') return new JobcastError('headers_too_large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new JobcastError('request_timeout');
  return new JobcastError('malformed_request');
}
