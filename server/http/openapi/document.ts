// GET /openapi.json: an OpenAPI 3.1 description of every HTTP route (taken from the
// live route table), with JSON Schemas of the WebSocket and SSE messages under
// components.schemas and the x-jobcast-websocket / x-jobcast-sse extensions.

import { readFileSync } from 'node:fs';
import { ERRORS, type ErrorCode } from '../../errors.js';
import { bytesReply } from '../reply.js';
import type { Route } from '../router.js';
import { COMMON_ERRORS, OPERATIONS, UNKNOWN_ROUTE_ERRORS, type Operation } from './operations.js';
import { componentSchemas, object, SOCKET_ERROR_CODES, type Schema } from './schemas.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

/**
 * `/^\/jobs\/(?<id>[^/]+)\/cancel$/` -> `/jobs/{id}/cancel`. Throws for a pattern that
 * is more than literal segments and named segment groups: its path cannot be described.
 */
export function pathTemplate(pattern: RegExp): string {
  const path = pattern.source
    .replace(/^\^/, '')
    .replace(/\$$/, '')
    .replace(/\(\?<([A-Za-z]\w*)>\[\^\/\]\+\)/g, '{$1}')
    .replace(/\\([/.])/g, '$1');
  if (!/^\/[A-Za-z0-9/{}._-]*$/.test(path)) throw new Error(`route pattern ${pattern} cannot be written as an OpenAPI path (got '${path}')`);
  return path;
}

/** The document for `routes`; throws when a route has no entry in OPERATIONS or an entry has no route. */
export function buildOpenApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const described = new Set<string>();
  for (const route of routes) {
    const path = pathTemplate(route.pattern);
    for (const method of Object.keys(route.methods)) {
      const key = `${method} ${path}`;
      const operation = OPERATIONS[key];
      if (operation === undefined) throw new Error(`the route ${key} has no entry in server/http/openapi/operations.ts`);
      described.add(key);
      (paths[path] ??= {})[method.toLowerCase()] = operationObject(key, operation);
    }
  }
  const stale = Object.keys(OPERATIONS).filter((key) => !described.has(key));
  if (stale.length > 0) throw new Error(`operations.ts describes routes that do not exist: ${stale.join(', ')}`);
  paths['/ws'] = { get: webSocketOperation() };
  return {
    openapi: '3.1.0',
    info: { title: 'jobcast', version: PACKAGE.version, description: PACKAGE.description },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: ['jobs', 'live', 'operations', 'pages'].map((name) => ({ name })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'the --token, when the server has one' } },
    },
    'x-jobcast-errors': Object.fromEntries(Object.entries(ERRORS).map(([code, { status, message }]) => [code, { status, message }])),
    'x-jobcast-websocket': {
      path: '/ws',
      clientMessage: { $ref: '#/components/schemas/ClientMessage' },
      serverMessage: { $ref: '#/components/schemas/ServerMessage' },
      closeCodes: { 1001: 'server shutting down', 1008: 'origin or token refused, or sending faster than reading', 1009: 'frame over --max-message-size', 1013: 'the client reads too slowly' },
    },
    'x-jobcast-sse': { path: '/jobs/{id}/events', message: { $ref: '#/components/schemas/SseMessage' } },
  };
}

/**
 * `routes` plus GET /openapi.json, which describes all of them (itself included). The
 * document is built here, at start, so a route without a description stops the server
 * (and every test) instead of going undocumented.
 */
export function withOpenApiRoute(routes: readonly Route[]): Route[] {
  let body = Buffer.alloc(0);
  const route: Route = {
    pattern: /^\/openapi\.json$/,
    methods: {
      GET: () =>
        bytesReply(200, body, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-cache',
          'access-control-allow-origin': '*',
        }),
    },
  };
  const all = [...routes, route];
  body = Buffer.from(JSON.stringify(buildOpenApiDocument(all)));
  return all;
}

function operationObject(key: string, operation: Operation): Record<string, unknown> {
  const codes = [...new Set([...operation.errors, ...COMMON_ERRORS])];
  return {
    operationId: operationId(key),
    summary: operation.summary,
    ...(operation.description !== undefined && { description: operation.description }),
    tags: operation.tags,
    ...(operation.parameters !== undefined && { parameters: operation.parameters }),
    ...(operation.requestBody !== undefined && { requestBody: operation.requestBody }),
    ...(operation.isGuarded === true && { security: [{ token: [] }, {}] }),
    responses: { ...operation.responses, ...errorResponses(codes) },
  };
}

/** One response per status, its body's `code` limited to the codes of that status. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, Schema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: Record<string, Schema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: list.map((code) => `\`${code}\`: ${ERRORS[code].message}`).join('; '),
      content: { 'application/json': { schema: object({ error: object({ code: { enum: list }, message: { type: 'string' } }) }) } },
    };
  }
  return responses;
}

function webSocketOperation(): Record<string, unknown> {
  const refused: ErrorCode[] = ['too_many_connections', 'shutting_down'];
  return {
    operationId: 'openWebSocket',
    summary: 'The live protocol (WebSocket)',
    description:
      'Upgrade to a WebSocket. Every text frame is one JSON object: the client sends ClientMessage, the server sends ServerMessage (see x-jobcast-websocket). ' +
      `Errors on the socket are {"type":"error"} messages with codes ${SOCKET_ERROR_CODES.join(', ')}. Without an Upgrade header the path is not a route (404 not_found).`,
    tags: ['live'],
    parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'needed to subscribe to `*` when the server has a --token' }],
    responses: { '101': { description: 'switching to the WebSocket protocol' }, ...errorResponses([...refused, ...UNKNOWN_ROUTE_ERRORS]) },
  };
}

/** `POST /jobs/{id}/cancel` -> `postJobsIdCancel`. */
function operationId(key: string): string {
  const words = key.toLowerCase().replace(/[{}]/g, '').split(/[^a-z0-9]+/).filter(Boolean);
  if (words.length === 1) words.push('root');
  return words.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');
}
