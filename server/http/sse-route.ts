// GET /jobs/{id}/events: the job's events as Server-Sent Events (SPEC 3.4), for
// clients that cannot use WebSockets. The stream is one more hub connection, so
// catch-up, resume and the slow-reader policy are the WebSocket ones.

import { JobcastError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { isFinalStatus } from '../protocol/types.js';
import type { Connection } from '../transport/connection.js';
import type { RequestContext, Route } from './router.js';

export interface SseRouteOptions {
  hub: Hub;
  /** Comment lines keep proxies from timing the stream out (--heartbeat). */
  heartbeatMs: number;
}

/** Messages of the socket protocol that have no place in an SSE stream. */
const SOCKET_ONLY = new Set(['subscribed', 'unsubscribed', 'pong', 'error']);
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A stream closed by the hub whose reader does not take the end is destroyed after this (as in ws-transport). */
const CLOSE_TIMEOUT_MS = 2000;

export function sseRoutes(opts: SseRouteOptions): Route[] {
  return [{ pattern: /^\/jobs\/(?<id>[^/]+)\/events$/, methods: { GET: (ctx) => stream(opts, ctx) } }];
}

async function stream(opts: SseRouteOptions, { req, res, url, params }: RequestContext): Promise<void> {
  const id = params.id!;
  if (!JOB_ID.test(id)) throw new JobcastError('job_not_found');
  const since = parseSince(req.headers['last-event-id'], url.searchParams.get('since'));
  // Through the hub: a finished job's snapshot comes from its cache, without a store read.
  const { snapshot } = await opts.hub.readSnapshot(id);
  if (isFinalStatus(snapshot.status) && since !== undefined && since >= snapshot.seq) {
    // The client has the final event: 204 tells an EventSource to stop reconnecting.
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  // A write after end() makes the response emit 'error', which nobody handles: the process
  // dies. 'close' (which used to stop the heartbeat) comes only once the client has read the
  // end, which a stalled client never does; so the heartbeat stops with the stream itself.
  // A stream with bytes still waiting is not idle: no comment is added to a buffer the client is not reading.
  const heartbeat = setInterval(() => {
    if (!res.writableEnded && res.writableLength === 0) res.write(': ping\n\n');
  }, opts.heartbeatMs);
  heartbeat.unref();
  const end = (): void => {
    clearInterval(heartbeat);
    res.end();
  };
  const connection: Connection = {
    send(frame) {
      if (SOCKET_ONLY.has(frame.name) || res.writableEnded) return;
      res.write(frame.sse);
      // The stream ends after the job's final event (SPEC 3.4).
      if (frame.isFinal) end();
    },
    bufferedAmount: () => res.writableLength,
    // The client sends nothing on an SSE stream: there is nothing to stop reading.
    pauseReading() {},
    resumeReading() {},
    close: () => {
      end();
      // Closed as too slow (or at shutdown): a reader that does not take the end of the stream
      // would hold its buffer for as long as TCP lets it; cut it, as ws-transport does.
      setTimeout(() => res.destroy(), CLOSE_TIMEOUT_MS).unref();
    },
  };
  const handlers = opts.hub.open(connection, { mayWatchAll: false });
  res.on('drain', () => handlers.onDrain());
  res.once('close', () => {
    clearInterval(heartbeat);
    handlers.onClose();
  });
  handlers.subscribe(id, since);
}

/** `Last-Event-ID` wins over `?since=`; both must be whole numbers. */
function parseSince(header: string | string[] | undefined, query: string | null): number | undefined {
  const text = typeof header === 'string' && header !== '' ? header : query;
  if (text === null) return undefined;
  if (!/^\d{1,15}$/.test(text.trim())) throw new JobcastError('invalid_query', `since must be a whole number, got '${text}'`);
  return Number(text);
}
