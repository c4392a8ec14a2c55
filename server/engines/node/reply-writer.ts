// A Reply (server/http/reply.ts) on a node:http ServerResponse: the head with the length
// the body gives, the body by kind, no body for HEAD, the linger of a refused request
// whose body is still arriving, and the reply stream that reports backpressure.

import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Reply, ReplyStream, ReplyStreamListener } from '../../http/reply.js';
import { discardBody } from '../discard-body.js';
import type { LingerLimits } from '../engine.js';

/** Writes `reply` to `res`, the answer to `req`. A response whose client is gone gets nothing. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, linger: LingerLimits): void {
  if (res.destroyed || res.headersSent) return;
  const { body } = reply;
  const isHead = req.method === 'HEAD';
  const headers: Record<string, string | number> = { ...reply.headers };
  if (body.kind === 'bytes') headers['content-length'] = body.bytes.length;
  else if (body.kind === 'file') headers['content-length'] = body.size;
  if (reply.closesConnection === true) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  switch (body.kind) {
    case 'empty':
    case 'bytes': {
      const bytes = body.kind === 'bytes' && !isHead ? body.bytes : undefined;
      if (reply.closesConnection !== true || req.complete) return void res.end(bytes);
      // The whole answer now; the end (and so the close) once the body is read or the linger is over.
      if (bytes !== undefined) res.write(bytes);
      void discardBody(req, linger, req.complete).then(() => res.end());
      return;
    }
    case 'file':
      if (isHead) return void res.end();
      // A file that cannot be read to its end leaves a short body: the connection is cut so that the client sees it.
      void pipeline(createReadStream(body.path), res).catch(() => res.destroy());
      return;
    case 'stream':
      if (isHead) return void res.end();
      return openStream(res, body.open(new NodeReplyStream(res)));
  }
}

function openStream(res: ServerResponse, listener: ReplyStreamListener): void {
  res.on('drain', () => listener.onDrain());
  // 'close' comes once: after the end was read, or when the connection is cut.
  res.once('close', () => listener.onClose());
}

/** A streamed body on a ServerResponse: its own buffer is what a slow reader costs. */
class NodeReplyStream implements ReplyStream {
  constructor(private readonly res: ServerResponse) {}

  write(chunk: string | Buffer): boolean {
    // A write after end() would make the response emit 'error', which nobody handles.
    return this.isEnded ? false : this.res.write(chunk);
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  get isEnded(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  end(): void {
    if (!this.isEnded) this.res.end();
  }

  destroy(): void {
    this.res.destroy();
  }
}
