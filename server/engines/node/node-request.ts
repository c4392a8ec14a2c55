// node:http's IncomingMessage as the engine-neutral request (server/http/request.ts): the
// head read once, the body being the IncomingMessage itself (a Readable whose pause()
// stops reading the socket), and a signal for a client that goes away.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClientAddresses } from '../../client-address.js';
import type { HttpRequest, RequestBody, RequestHead } from '../../http/request.js';
import { parseTarget } from '../../http/request-target.js';

const kClient = Symbol('jobcast.clientAddress');

/**
 * The client's address of `req` (--trust-proxy: from `X-Forwarded-For` when the peer is a
 * listed proxy), worked out once per request: the connection caps and the request head both ask.
 */
export function clientAddressOf(req: IncomingMessage & { [kClient]?: string }, addresses: ClientAddresses): string {
  if (req[kClient] !== undefined) return req[kClient];
  // Node joins a repeated X-Forwarded-For with ', '; the type allows an array all the same.
  const forwardedFor = req.headers['x-forwarded-for'];
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor;
  return (req[kClient] = addresses.clientOf(req.socket.remoteAddress ?? 'unknown', joined));
}

/** The head of an HTTP request or a WebSocket upgrade. */
export class NodeRequestHead implements RequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string | null;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly remoteAddress: string;
  /** `?query` as sent; parsed on first use. */
  private readonly search: string;
  private params: URLSearchParams | null = null;

  constructor(req: IncomingMessage, addresses: ClientAddresses) {
    const target = parseTarget(req.url ?? '/');
    this.method = req.method ?? 'GET';
    this.path = target.path;
    this.authority = target.authority;
    this.search = target.search;
    this.headers = singleValued(req.headers);
    this.remoteAddress = clientAddressOf(req, addresses);
  }

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.search));
  }
}

/** One request: its body is the IncomingMessage, its signal follows the response. */
export class NodeRequest extends NodeRequestHead implements HttpRequest, RequestBody {
  readonly receivedAt = performance.now();
  private controller: AbortController | null = null;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    addresses: ClientAddresses,
  ) {
    super(req, addresses);
  }

  get body(): RequestBody {
    return this;
  }

  get stream(): Readable {
    return this.req;
  }

  get isComplete(): boolean {
    return this.req.complete;
  }

  get hasEndedEarly(): boolean {
    return this.req.readableAborted || (this.req.destroyed && !this.req.complete);
  }

  /** Made on first use: most requests never ask. Aborted when the response closes before it has gone out in full. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      const controller = (this.controller = new AbortController());
      const { res } = this;
      if (res.destroyed && !res.writableFinished) controller.abort();
      else {
        res.once('close', () => {
          if (!res.writableFinished) controller.abort();
        });
      }
    }
    return this.controller.signal;
  }
}

/**
 * Node's headers with lower-case names; only `set-cookie` comes as an array, which a client
 * has no reason to send: it is joined like any repeated header.
 */
function singleValued(headers: IncomingHttpHeaders): Readonly<Record<string, string | undefined>> {
  if (headers['set-cookie'] === undefined) return headers as Record<string, string | undefined>;
  return { ...headers, 'set-cookie': headers['set-cookie'].join(', ') };
}
