// A small method-and-path router: a known path with another method is 405 (with
// Allow), anything else 404, and every thrown error becomes the SPEC 2 error shape.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobcastError, isJobcastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_LINGER, sendError, type LingerLimits } from './respond.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Named groups of the route's pattern. */
  params: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  /** Anchored pattern with named groups, e.g. /^\/jobs\/(?<id>[^/]+)$/. */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST' | 'DELETE' | 'HEAD', Handler>>;
}

/**
 * Returns the request listener for node:http. Paths that need quiet logs are listed in
 * `quietPaths`; `linger` bounds how long a refused request's body is read on (sendError).
 */
export function createRouter(routes: Route[], logger: Logger, quietPaths: ReadonlySet<string> = new Set(), linger: LingerLimits = DEFAULT_LINGER) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      const level = quietPaths.has(url.pathname) && res.statusCode < 400 ? 'debug' : 'info';
      // The path only: query strings may carry a token.
      logger[level](
        { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - startedAt) },
        'request',
      );
    });
    dispatch(routes, { req, res, url, params: {} }).catch((err: unknown) => {
      if (!isJobcastError(err)) logger.error({ err, path: url.pathname }, 'request failed unexpectedly');
      sendError(req, res, isJobcastError(err) ? err : new JobcastError('internal_error'), linger);
    });
  };
}

async function dispatch(routes: Route[], ctx: RequestContext): Promise<void> {
  for (const route of routes) {
    const match = route.pattern.exec(ctx.url.pathname);
    if (match === null) continue;
    const method = (ctx.req.method ?? 'GET') as keyof Route['methods'];
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods.GET : undefined);
    if (handler === undefined) {
      const allow = Object.keys(route.methods).join(', ');
      throw new JobcastError('method_not_allowed', `${ctx.req.method} is not allowed here; use ${allow}`, { allow });
    }
    await handler({ ...ctx, params: { ...match.groups } });
    return;
  }
  throw new JobcastError('not_found', `no route for ${ctx.url.pathname}`);
}
