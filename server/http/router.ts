// A small method-and-path router: a known path with another method is 405 (with
// Allow), anything else 404, and every thrown error becomes the SPEC 2 error shape.
// Before any route: the Host rule (421, DNS rebinding) and, on routes that take no
// body, a request that carries one is refused (413) rather than read for as long as
// the client cares to trickle it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobcastError, isJobcastError, misdirectedRequest } from '../errors.js';
import type { Logger } from '../logger.js';
import { isAllowedHost, type HostPolicy } from '../transport/door.js';
import { parseTarget, queryUrl } from './request-target.js';
import { DEFAULT_LINGER, sendError, type LingerLimits } from './respond.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request's query (`url.searchParams`); its pathname is not the request's path, see `path`. */
  url: URL;
  /** The path exactly as sent (see request-target.ts). */
  path: string;
  /** Named groups of the route's pattern. */
  params: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

type Method = 'GET' | 'POST' | 'DELETE' | 'HEAD';

export interface Route {
  /** Anchored pattern with named groups, e.g. /^\/jobs\/(?<id>[^/]+)$/. */
  pattern: RegExp;
  methods: Partial<Record<Method, Handler>>;
  /** Methods whose requests may carry a body; a body on any other is 413 `body_not_allowed`. Default none. */
  bodyMethods?: readonly Method[];
}

export interface RouterOptions {
  /** Which Host values are answered (--host, --allowed-hosts); others get 421. */
  hosts: HostPolicy;
  /** Paths whose successful requests are logged at debug level only. */
  quietPaths?: ReadonlySet<string>;
  /** How much of a refused request's body is read on before its connection closes (sendError). */
  linger?: LingerLimits;
}

/** Returns the request listener for node:http. */
export function createRouter(routes: Route[], logger: Logger, options: RouterOptions) {
  const quietPaths = options.quietPaths ?? new Set<string>();
  const linger = options.linger ?? DEFAULT_LINGER;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    const target = parseTarget(req.url ?? '/');
    res.on('finish', () => {
      const level = quietPaths.has(target.path) && res.statusCode < 400 ? 'debug' : 'info';
      // The path only: query strings may carry a token.
      logger[level](
        { method: req.method, path: target.path, status: res.statusCode, ms: Math.round(performance.now() - startedAt) },
        'request',
      );
    });
    const ctx: RequestContext = { req, res, url: queryUrl(target), path: target.path, params: {} };
    const host = target.authority ?? req.headers.host;
    const answer = isAllowedHost(host, options.hosts)
      ? dispatch(routes, ctx)
      : Promise.reject(misdirectedRequest(host));
    answer.catch((err: unknown) => {
      if (!isJobcastError(err)) logger.error({ err, path: target.path }, 'request failed unexpectedly');
      sendError(req, res, isJobcastError(err) ? err : new JobcastError('internal_error'), linger);
    });
  };
}

async function dispatch(routes: Route[], ctx: RequestContext): Promise<void> {
  for (const route of routes) {
    const match = route.pattern.exec(ctx.path);
    if (match === null) continue;
    const method = (ctx.req.method ?? 'GET') as Method;
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods.GET : undefined);
    if (handler === undefined) {
      const allow = Object.keys(route.methods).join(', ');
      throw new JobcastError('method_not_allowed', `${ctx.req.method} is not allowed here; use ${allow}`, { allow });
    }
    if (hasBody(ctx.req) && !(route.bodyMethods ?? []).includes(method)) {
      throw new JobcastError('body_not_allowed', `${method} ${ctx.path} takes no request body; send none (Content-Length: 0 is fine)`);
    }
    await handler({ ...ctx, params: { ...match.groups } });
    return;
  }
  throw new JobcastError('not_found', `no route for ${ctx.path}`);
}

/** A request has a body when it announces one: a non-zero Content-Length or any Transfer-Encoding (RFC 9112 6.3). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}
