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
  return [
    {
      pattern: /^\/jobs\/(?<id>[^/]+)\/events$/,
      // HEAD answers the head a GET would get, and ends: a stream that never ends would
      // hold every request pipelined behind it.
      methods: {
        GET: (ctx) => stream(opts, ctx),
        HEAD: async (ctx) => {
          if ((await writeHead(opts, ctx)) !== null) ctx.res.end();
        },
      },
    },
  ];
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * Checks the request and writes the status line: 204 (and ends) when the client already
 * has the final event, else 200 with the stream's headers. Resolves with where the stream
 * starts, or null after a 204; rejects job_not_found and invalid_query.
 */
async function writeHead(opts: SseRouteOptions, { req, res, url, params }: RequestContext): Promise<{ since: number | undefined } | null> {
  const id = params.id!;
  if (!JOB_ID.test(id)) throw new JobcastError('job_not_found');
  const since = parseSince(req.headers['last-event-id'], url.searchParams.get('since'));
  // Through the hub: a finished job's snapshot comes from its cache, without a store read.
  const { snapshot } = await opts.hub.readSnapshot(id);
  if (isFinalStatus(snapshot.status) && since === snapshot.seq) {
    // The client has the final event: 204 tells an EventSource to stop reconnecting. An id
    // past the final seq is not "everything": the client's idea of the job is wrong (a store
    // restored from an older copy), so it gets the snapshot like any uncovered id (SPEC 3.4).
    res.writeHead(204).end();
    return null;
  }
  res.writeHead(200, STREAM_HEADERS);
  return { since };
}

async function stream(opts: SseRouteOptions, ctx: RequestContext): Promise<void> {
  const head = await writeHead(opts, ctx);
  if (head === null) return;
  const { res, params } = ctx;
  const id = params.id!;
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
  handlers.subscribe(id, head.since);
}

/** `Last-Event-ID` wins over `?since=`; both must be whole numbers. */
function parseSince(header: string | string[] | undefined, query: string | null): number | undefined {
  const text = typeof header === 'string' && header !== '' ? header : query;
  if (text === null) return undefined;
  if (!/^\d{1,15}$/.test(text.trim())) throw new JobcastError('invalid_query', `since must be a whole number, got '${text}'`);
  return Number(text);
}
