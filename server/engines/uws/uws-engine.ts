// The uws engine (`--engine uws`): one uWebSockets.js app serves every HTTP route and
// `/ws` on one port. Here the parts meet: each request made an HttpRequest
// (uws-request.ts) and its Reply written (uws-reply.ts), the connection caps counted per
// request and per WebSocket (uWS has no hook where a TCP connection arrives), upgrades
// handed to uws-websocket.ts, and the shutdown.
//
// uWS kills the process when a handler throws, or returns without answering and without
// `onAborted` (UwsRequest registers it at once): every handler here catches what it calls.

import type { us_listen_socket } from 'uWebSockets.js';
import { ConfigError } from '../../config.js';
import { NO_PROXIES, type ClientAddresses } from '../../http/client-address.js';
import { errorReply, type Reply } from '../../http/reply.js';
import type { HttpService } from '../../http/router.js';
import type { Logger } from '../../logger.js';
import { ConnectionCaps } from '../connection-caps.js';
import { DEFAULT_LINGER, type Engine, type EngineServices, type EngineSettings, type LingerLimits, type StartEngine } from '../engine.js';
import { loadUws, type UwsModule } from './load-uws.js';
import { writeReply } from './uws-reply.js';
import { UwsRequest } from './uws-request.js';
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
      : attachWebSockets(app, { service: services.webSocket, caps, logger, maxMessageSize: settings.maxMessageSize, heartbeatMs: settings.heartbeatMs, addresses });
  const serve = requestHandler(services.http, caps, settings.refusalLinger ?? DEFAULT_LINGER, logger, addresses);
  app.any('/*', serve);
  const listenSocket = await listen(app, settings.host, settings.port);
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

function listen(app: UwsApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (listenSocket) => {
      if (listenSocket === false) {
        // uWS gives no reason; a taken port is by far the usual one.
        const error = Object.assign(new Error(`cannot listen on ${host}:${port} (the port may be in use)`), { code: 'EADDRINUSE' });
        reject(error);
      } else resolve(listenSocket);
    });
  });
}
