// A whole HTTP/1.1 error answer as bytes, for writing straight to a socket where there is
// no ServerResponse: a refused WebSocket upgrade, a request Node could not parse.

import { STATUS_CODES } from 'node:http';
import type { JobcastError } from '../../errors.js';
import { errorReply } from '../../http/reply.js';

/** `error` in the SPEC 2 shape, with `Connection: close`: the socket carries nothing after it. */
export function rawErrorResponse(error: JobcastError): Buffer {
  const reply = errorReply(error);
  const body = reply.body.kind === 'bytes' ? reply.body.bytes : Buffer.alloc(0);
  const headers = Object.entries(reply.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Error'}\r\nConnection: close\r\n${headers.join('')}Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
