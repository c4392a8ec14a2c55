// GET /jobs/{id}/events: the job's events as Server-Sent Events (SPEC 3.4), for clients
// that cannot use WebSockets. The route only checks the request and answers its head;
// the stream is a transport of its own (server/transport/sse.ts), one more connection
// of the hub, so catch-up, resume and the slow-reader policy are the WebSocket ones.

import { JobcastError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { isFinalStatus } from '../protocol/types.js';
import { jobIdParam } from './params.js';
import { emptyReply, type Reply, type ReplyStream, type ReplyStreamListener } from './reply.js';
import type { HttpRequest } from './request.js';
import type { Route } from './router.js';

/** Opens the stream of `job` from `since` on an engine's reply stream: the SSE transport. */
export type OpenEventStream = (stream: ReplyStream, job: string, since: number | undefined) => ReplyStreamListener;

export interface SseRouteOptions {
  hub: Hub;
  openStream: OpenEventStream;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
} as const;

export function sseRoutes(opts: SseRouteOptions): Route[] {
  const events = (request: HttpRequest, params: Record<string, string>) => eventsReply(opts, request, params);
  return [
    {
      pattern: /^\/jobs\/(?<id>[^/]+)\/events$/,
      // HEAD answers the head a GET would get, and ends (the engine opens no stream for
      // it): a stream that never ends would hold every request pipelined behind it.
      // Listed, so that the API description and Allow name it.
      methods: { GET: events, HEAD: events },
    },
  ];
}

/** A comment line: an EventSource skips it (SPEC 3.4 streams end every message with a blank line). */
const SSE_NOOP = ':\n';

/**
 * 204 when the client already has the final event, else 200 with a stream that starts
 * at `since`. Rejects job_not_found and invalid_query.
 */
async function eventsReply(opts: SseRouteOptions, request: HttpRequest, params: Record<string, string>): Promise<Reply> {
  const id = jobIdParam(params);
  const since = parseSince(request.headers['last-event-id'], request.query.get('since'));
  // Through the hub: a finished job's snapshot comes from its cache, without a store read.
  const { snapshot } = await opts.hub.readSnapshot(id);
  if (isFinalStatus(snapshot.status) && since === snapshot.seq) {
    // The client has the final event: 204 tells an EventSource to stop reconnecting. An id
    // past the final seq is not "everything": the client's idea of the job is wrong (a store
    // restored from an older copy), so it gets the snapshot like any uncovered id (SPEC 3.4).
    return emptyReply(204);
  }
  return { status: 200, headers: STREAM_HEADERS, body: { kind: 'stream', open: (stream) => opts.openStream(stream, id, since), noop: SSE_NOOP } };
}

/** `Last-Event-ID` wins over `?since=`; both must be whole numbers. */
function parseSince(header: string | undefined, query: string | null): number | undefined {
  const text = header !== undefined && header !== '' ? header : query;
  if (text === null) return undefined;
  if (!/^\d{1,15}$/.test(text.trim())) throw new JobcastError('invalid_query', `since must be a whole number, got '${text}'`);
  return Number(text);
}
