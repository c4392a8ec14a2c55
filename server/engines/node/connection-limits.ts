// The connection caps (../connection-caps.ts) on node:http, where every TCP connection is
// seen as it arrives. Node's own server.maxConnections drops a socket without a word;
// here a socket over a limit is kept just long enough to answer its first request, or
// its WebSocket upgrade before upgrading, with 503 `too_many_connections` and
// `Connection: close`.
//
// A connection from a listed proxy (--trust-proxy) counts against --max-connections only;
// each request it carries counts against its client's address until its answer has gone
// (an SSE stream: until it closes), and each WebSocket upgrade until the socket closes.
// A refused proxied request gets the same 503, and the proxy's connection is closed after it.

import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { JobcastError } from '../../errors.js';
import type { ClientAddresses } from '../../client-address.js';
import { errorReply } from '../../http/reply.js';
import type { Logger } from '../../logger.js';
import type { ConnectionCaps } from '../connection-caps.js';
import { clientAddressOf } from './node-request.js';
import { rawErrorResponse } from './raw-response.js';
import { writeReply } from './reply-writer.js';
import { DEFAULT_LINGER } from '../engine.js';

/** A refused socket that sends no request within this is cut. */
const REFUSED_TIMEOUT_MS = 5000;
/**
 * Refused sockets waiting for their 503 are bounded too: past the limit plus this many,
 * Node drops new sockets outright (server.maxConnections), and each drop is logged.
 */
const REFUSAL_HEADROOM = 64;

const kRefusal = Symbol('jobcast.refusal');
/** On a listed proxy's socket: true, then the client of the WebSocket it carries once upgraded. */
const kProxied = Symbol('jobcast.proxied');
type Marked = Socket & { [kRefusal]?: JobcastError; [kProxied]?: true | string };

/** The caps applied to a node:http server's sockets, its requests and its upgrades. */
export class ConnectionLimits {
  /**
   * One 'close' listener shared by every admitted socket (`this` is the socket): a
   * closure per socket, with `once`'s wrapper, cost each idle WebSocket subscriber
   * about a tenth of its heap (bench/fanout.ts).
   */
  private readonly socketOnClose: (this: Socket) => void;
  /** The same for a listed proxy's sockets. */
  private readonly proxySocketOnClose: (this: Marked) => void;

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly logger: Logger,
    private readonly addresses: ClientAddresses,
  ) {
    this.socketOnClose = function (this: Socket) {
      // remoteAddress was read when the socket arrived, and Node keeps it after the close.
      caps.release(this.remoteAddress ?? 'unknown');
    };
    this.proxySocketOnClose = function (this: Marked) {
      caps.releaseProxy();
      const client = this[kProxied];
      if (typeof client === 'string') caps.releaseClient(client);
    };
  }

  /** Counts every socket of `server`; call before it listens. */
  attach(server: Server): void {
    server.maxConnections = this.caps.maxConnections + REFUSAL_HEADROOM;
    server.on('connection', (socket: Socket) => this.serverOnConnection(socket));
    server.on('drop', (data) => this.logger.warn({ remoteAddress: data?.remoteAddress }, 'connection dropped: far past --max-connections'));
  }

  /** Wraps the request listener: a refused socket's request is answered 503 and the socket closed. */
  guard(listener: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as Marked;
      let refusal = socket[kRefusal];
      if (refusal === undefined && socket[kProxied] !== undefined) {
        const client = clientAddressOf(req, this.addresses);
        refusal = this.caps.admitClient(client) ?? undefined;
        // 'close' comes once the answer has gone out, or when it never will.
        if (refusal === undefined) res.once('close', () => this.caps.releaseClient(client));
      }
      if (refusal === undefined) return listener(req, res);
      req.resume();
      writeReply(req, res, { ...errorReply(refusal), closesConnection: true }, DEFAULT_LINGER);
    };
  }

  /** For 'upgrade': answers a refused socket (or a proxied client over its cap) 503 before any upgrade and returns true. */
  refuseUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const marked = socket as Marked;
    let refusal = marked[kRefusal];
    if (refusal === undefined && marked[kProxied] === true) {
      const client = clientAddressOf(req, this.addresses);
      refusal = this.caps.admitClient(client) ?? undefined;
      // Released by proxySocketOnClose: the WebSocket lasts as long as the socket.
      if (refusal === undefined) marked[kProxied] = client;
    }
    if (refusal === undefined) return false;
    socket.end(rawErrorResponse(refusal));
    return true;
  }

  private serverOnConnection(socket: Marked): void {
    const peer = socket.remoteAddress ?? 'unknown';
    const isProxy = this.addresses.isProxy(peer);
    const refusal = isProxy ? this.caps.admitProxy(peer) : this.caps.admit(peer);
    if (refusal !== null) {
      socket[kRefusal] = refusal;
      socket.setTimeout(REFUSED_TIMEOUT_MS, () => socket.destroy());
      return;
    }
    // A socket emits 'close' once.
    if (isProxy) {
      socket[kProxied] = true;
      socket.on('close', this.proxySocketOnClose);
    } else socket.on('close', this.socketOnClose);
  }
}
