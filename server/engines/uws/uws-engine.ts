// The uws engine (`--engine uws`): one uWebSockets.js app serves every HTTP route and
// `/ws` on one port. Here the parts meet: each request made an HttpRequest
// (uws-request.ts) and its Reply written (uws-reply.ts), the connection caps counted per
// request and per WebSocket (uWS has no hook where a TCP connection arrives), upgrades
// handed to uws-websocket.ts, and the shutdown.
//
// uWS kills the process when a handler throws, or returns without answering and without
// `onAborted` (UwsRequest registers it at once): every handler here catches what it calls.

import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { us_listen_socket } from 'uWebSockets.js';
import { ConfigError } from '../../config.js';
import { JobcastError } from '../../errors.js';
import { NO_PROXIES, type ClientAddresses } from '../../client-address.js';
import { errorReply, type Reply } from '../../http/reply.js';
import type { HttpService } from '../../http/router.js';
import type { Logger } from '../../logger.js';
import { ConnectionCaps } from '../connection-caps.js';
import { DEFAULT_LINGER, type Engine, type EngineServices, type EngineSettings, type LingerLimits, type StartEngine } from '../engine.js';
import { loadUws, type UwsModule } from './load-uws.js';
import { writeReply } from './uws-reply.js';
import { MAX_HEADER_BYTES, UwsRequest } from './uws-request.js';
import { attachWebSockets } from './uws-websocket.js';

/** The uws engine's start, once its native module is loaded; rejects with ConfigError when it cannot serve here. */
export async function loadUwsEngine(): Promise<StartEngine> {
  const load = await loadUws();
  if (!load.ok) throw new ConfigError(`--engine uws needs the native uWebSockets.js, and ${load.reason}; use --engine ws (the default)`);
  return (services, settings) => startUwsEngine(load.uws, services, settings);
}

async function startUwsEngine(uws: UwsModule, services: EngineServices, settings: EngineSettings): Promise<Engine> {
  const { logger } = services;
  const caps = new ConnectionCaps({ maxConnections: settings.maxConnections, maxConnectionsPerIp: settings.maxConnectionsPerIp, logger });
  const addresses = settings.clientAddresses ?? NO_PROXIES;
  const app = uws.App();
  // Without a WebSocket service no upgrade is taken: an upgrade request is a plain request (404).
  const webSockets =
    services.webSocket === null
      ? null
      : attachWebSockets(app, { service: services.webSocket, caps, logger, maxMessageSize: settings.maxMessageSize, heartbeatMs: settings.heartbeatMs, slowCloseTimeoutMs: settings.slowCloseTimeoutMs, addresses });
  const serve = requestHandler(services.http, caps, settings.refusalLinger ?? DEFAULT_LINGER, logger, addresses);
  app.any('/*', serve);
  const listenSocket = await listen(app, settings.host, settings.port, logger);
  let isListening = true;
  let isClosed = false;
  return {
    name: 'uws',
    port: uws.us_socket_local_port(listenSocket),
    stopListening() {
      if (!isListening) return;
      isListening = false;
      uws.us_listen_socket_close(listenSocket);
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      webSockets?.close();
      if (isListening) {
        isListening = false;
        uws.us_listen_socket_close(listenSocket);
      }
      // Every socket left (the hub has closed its WebSockets with 1001 before this).
      // close() is in this build, not in its typings.
      (app as UwsApp & { close(): void }).close();
    },
  };
}

/** TIME_WAIT lasts 60 s on Linux: a little more, then the port is taken for real. */
const LINGERING_PORT_WAIT_MS = 70_000;
const LINGERING_PORT_RETRY_MS = 250;

type UwsApp = ReturnType<UwsModule['App']>;
type UwsHandler = Parameters<UwsApp['any']>[1];

/** Each request as an HttpRequest, counted against the caps until its answer has gone, answered with the service's Reply. */
function requestHandler(http: HttpService, caps: ConnectionCaps, linger: LingerLimits, logger: Logger, addresses: ClientAddresses): UwsHandler {
  return (res, req) => {
    let request: UwsRequest;
    let isCounted = false;
    const release = (): void => {
      if (!isCounted) return;
      isCounted = false;
      caps.release(request.remoteAddress);
    };
    try {
      request = new UwsRequest(res, req, addresses, release);
    } catch (err) {
      logger.error({ err }, 'a request could not be read');
      res.close();
      return;
    }
    if (request.headBytes > MAX_HEADER_BYTES) return answer(res, request, { ...errorReply(new JobcastError('headers_too_large')), closesConnection: true }, linger, logger, () => {});
    const refusal = caps.admit(request.remoteAddress);
    if (refusal !== null) return answer(res, request, { ...errorReply(refusal), closesConnection: true }, linger, logger, () => {});
    isCounted = true;
    http
      .serve(request)
      // serve() never rejects; if it did, the client still gets an answer.
      .catch((err: unknown): Reply => {
        logger.error({ err, path: request.path }, 'request failed unexpectedly');
        return errorReply(err, request);
      })
      .then((reply) =>
        answer(res, request, reply, linger, logger, () => {
          release();
          http.onAnswered(request, reply.status);
        }),
      );
  };
}

/** Writes `reply`; a failure to (a bug of ours) cuts the connection rather than the process. */
function answer(res: Parameters<UwsHandler>[0], request: UwsRequest, reply: Reply, linger: LingerLimits, logger: Logger, onSent: () => void): void {
  try {
    writeReply(res, request, reply, linger, onSent);
  } catch (err) {
    logger.error({ err, path: request.path }, 'a reply could not be written');
    if (request.isWritable) res.close();
  }
}

/**
 * Listens on `host`:`port`. uWS binds without SO_REUSEADDR, so a port whose previous
 * server closed connections a moment ago stays unusable while they linger in TIME_WAIT
 * (up to 60 s on Linux; a restart on the same port would fail), where Node's listen goes
 * through. So when uWS is refused and no socket listens on the port (/proc/net/tcp*),
 * it tries again, logged, until the lingering connections are gone.
 */
async function listen(app: UwsApp, host: string, port: number, logger: Logger): Promise<us_listen_socket> {
  const deadline = Date.now() + LINGERING_PORT_WAIT_MS;
  let hasWarned = false;
  for (;;) {
    const listenSocket = await new Promise<us_listen_socket | false>((resolve) => app.listen(host, port, resolve));
    if (listenSocket !== false) return listenSocket;
    if (port === 0 || Date.now() > deadline || (await isListenedOn(port))) {
      throw Object.assign(new Error(`cannot listen on ${host}:${port}: the port is in use`), { code: 'EADDRINUSE' });
    }
    if (!hasWarned) {
      hasWarned = true;
      logger.warn({ host, port }, 'the port is still held by connections of a previous server (TIME_WAIT); waiting for them to go');
    }
    await sleep(LINGERING_PORT_RETRY_MS);
  }
}

/** TCP state LISTEN in /proc/net/tcp (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';

/**
 * Whether a socket listens on `port` (any address), from the kernel's tables; true
 * where they cannot be read (not Linux): the refusal is then taken as final.
 */
async function isListenedOn(port: number): Promise<boolean> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((path) => readFile(path, 'utf8').catch(() => '')));
    if (tables.every((table) => table === '')) return true;
    return tables.some((table) =>
      table.split('\n').some((line) => {
        const [, local, , state] = line.trim().split(/\s+/);
        return state === TCP_LISTEN && local?.endsWith(hexPort) === true;
      }),
    );
  } catch {
    return true;
  }
}
