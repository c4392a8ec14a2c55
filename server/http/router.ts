// A small method-and-path router: a known path with another method is 405 (with
// Allow), anything else 404, and every thrown error becomes the SPEC 2 error shape.
// Before any route: the Host rule (421, DNS rebinding) and, on routes that take no
// body, a request that carries one is refused (413) rather than read for as long as
// the client cares to trickle it. HEAD runs the GET route; the engine sends no body.

import { JobcastError, isJobcastError, misdirectedRequest } from '../errors.js';
import type { Logger } from '../logger.js';
import { isAllowedHost, type HostPolicy } from './door.js';
import { errorReply, type Reply } from './reply.js';
import { announcesBody, type HttpRequest } from './request.js';

/** A route's answer to one request; throws (or rejects with) a JobcastError to refuse it. */
export type Handler = (request: HttpRequest, params: Record<string, string>) => Promise<Reply> | Reply;

type Method = 'GET' | 'POST' | 'DELETE' | 'HEAD';

export interface Route {
  /** Anchored pattern with named groups, e.g. /^\/jobs\/(?<id>[^/]+)$/. */
  pattern: RegExp;
  /** A route without its own HEAD answers HEAD with its GET handler (the engine sends no body). */
  methods: Partial<Record<Method, Handler>>;
  /** Methods whose requests may carry a body; a body on any other is 413 `body_not_allowed`. Default none. */
  bodyMethods?: readonly Method[];
}

/** What an engine calls for every HTTP request it receives. */
export interface HttpService {
  /** The reply to `request`. Never rejects: every error is a reply (SPEC 2 shape). */
  serve(request: HttpRequest): Promise<Reply>;
  /** The reply has gone out in full with `status`: the request is logged. */
  onAnswered(request: HttpRequest, status: number): void;
}

export interface RouterOptions {
  /** Which Host values are answered (--host, --allowed-hosts); others get 421. */
  hosts: HostPolicy;
  /** Paths whose successful requests are logged at debug level only. */
  quietPaths?: ReadonlySet<string>;
}

/** The HTTP service of `routes`. */
export function createRouter(routes: readonly Route[], logger: Logger, options: RouterOptions): HttpService {
  const quietPaths = options.quietPaths ?? new Set<string>();
  return {
    async serve(request) {
      try {
        const host = request.authority ?? request.headers.host;
        if (!isAllowedHost(host, options.hosts)) throw misdirectedRequest(host);
        return await dispatch(routes, request);
      } catch (err) {
        if (!isJobcastError(err)) logger.error({ err, path: request.path }, 'request failed unexpectedly');
        return errorReply(err, request);
      }
    },
    onAnswered(request, status) {
      const level = quietPaths.has(request.path) && status < 400 ? 'debug' : 'info';
      // The path only: query strings may carry a token.
      logger[level]({ method: request.method, path: request.path, status, remoteAddress: request.remoteAddress, ms: Math.round(performance.now() - request.receivedAt) }, 'request');
    },
  };
}

async function dispatch(routes: readonly Route[], request: HttpRequest): Promise<Reply> {
  for (const route of routes) {
    const match = route.pattern.exec(request.path);
    if (match === null) continue;
    const method = request.method as Method;
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods.GET : undefined);
    if (handler === undefined) {
      const allow = Object.keys(route.methods).join(', ');
      throw new JobcastError('method_not_allowed', `${request.method} is not allowed here; use ${allow}`, { allow });
    }
    if (announcesBody(request) && !(route.bodyMethods ?? []).includes(method)) {
      throw new JobcastError('body_not_allowed', `${request.method} ${request.path} takes no request body; send none (Content-Length: 0 is fine)`);
    }
    return await handler(request, { ...match.groups });
  }
  throw new JobcastError('not_found', `no route for ${request.path}`);
}
