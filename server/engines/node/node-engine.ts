// The ws engine (`--engine ws`, the default): node:http serves HTTP, `ws` the WebSockets,
// on one port. Here the parts meet: connection caps on every TCP connection, pipelined
// requests worked on one at a time, each request made an HttpRequest and its Reply
// written, JSON answers to requests Node cannot parse, upgrades handed to ws-adapter.ts.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NO_PROXIES, type ClientAddresses } from '../../client-address.js';
import type { HttpService } from '../../http/router.js';
import { errorReply } from '../../http/reply.js';
import type { Logger } from '../../logger.js';
import { ConnectionCaps } from '../connection-caps.js';
import { DEFAULT_LINGER, type Engine, type EngineServices, type EngineSettings, type LingerLimits } from '../engine.js';
import { answerClientErrors } from './client-errors.js';
import { ConnectionLimits } from './connection-limits.js';
import { NodeRequest } from './node-request.js';
import { serveInOrder } from './pipelining.js';
import { writeReply } from './reply-writer.js';
import { attachWebSockets } from './ws-adapter.js';

/**
 * Headers must arrive within 60 s. No limit on a whole request (requestTimeout 0): an
 * upload may take hours, and the upload receiver cuts a body that stalls or trickles.
 */
const SERVER_OPTIONS = { requestTimeout: 0, headersTimeout: 60_000 } as const;

/** Starts node:http (and ws, when there is a WebSocket service) listening on `settings.host`:`settings.port`. */
export async function startNodeEngine(services: EngineServices, settings: EngineSettings): Promise<Engine> {
  const { logger } = services;
  const caps = new ConnectionCaps({ maxConnections: settings.maxConnections, maxConnectionsPerIp: settings.maxConnectionsPerIp, logger });
  const addresses = settings.clientAddresses ?? NO_PROXIES;
  const limits = new ConnectionLimits(caps, logger, addresses);
  const answer = requestListener(services.http, settings.refusalLinger ?? DEFAULT_LINGER, logger, addresses);
  const server = createServer(SERVER_OPTIONS, serveInOrder(limits.guard(answer), { logger, stallTimeoutMs: settings.httpStallTimeoutMs }));
  answerClientErrors(server, logger);
  limits.attach(server);
  // Without a WebSocket service there is no 'upgrade' listener, and Node hands upgrades to
  // the request listener as plain requests: the router answers 404.
  const webSockets =
    services.webSocket === null
      ? null
      : attachWebSockets(server, {
          service: services.webSocket,
          logger,
          maxMessageSize: settings.maxMessageSize,
          heartbeatMs: settings.heartbeatMs,
          slowCloseTimeoutMs: settings.slowCloseTimeoutMs,
          refuseUpgrade: (req, socket) => limits.refuseUpgrade(req, socket),
          addresses,
        });
  await listen(server, settings.port, settings.host);
  let isClosed = false;
  return {
    name: 'ws',
    port: (server.address() as AddressInfo).port,
    stopListening: () => void server.close(),
    async close() {
      if (isClosed) return;
      isClosed = true;
      webSockets?.close();
      server.closeAllConnections();
    },
  };
}

/** Each request as an HttpRequest, answered with the Reply the service resolves with, logged once it has gone out. */
function requestListener(http: HttpService, linger: LingerLimits, logger: Logger, addresses: ClientAddresses) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const request = new NodeRequest(req, res, addresses);
    res.once('finish', () => http.onAnswered(request, res.statusCode));
    http
      .serve(request)
      // serve() never rejects; if it did, the client still gets an answer.
      .catch((err: unknown) => {
        logger.error({ err, path: request.path }, 'request failed unexpectedly');
        return errorReply(err, request);
      })
      .then((reply) => writeReply(req, res, reply, linger))
      .catch((err: unknown) => {
        logger.error({ err, path: request.path }, 'a reply could not be written');
        res.destroy();
      });
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
