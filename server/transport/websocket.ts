// The WebSocket transport's engine-neutral side (SPEC 3.3): which upgrade requests are
// taken, who may come in, and handing an open socket to the hub. Each engine's adapter
// (server/engines/*/) does the rest: the upgrade itself, frames, pings, and its
// Connection for the hub.

import { JobcastError, isJobcastError, misdirectedRequest } from '../errors.js';
import type { ConnectionHandlers, Connection } from '../hub/connection.js';
import type { Hub } from '../hub/hub.js';
import { checkDoor, isAllowedHost, type DoorPolicy, type DoorResult, type HostPolicy } from '../http/door.js';
import type { RequestHead } from '../http/request.js';

/** What an engine calls for a WebSocket, in this order. */
export interface WebSocketService {
  /**
   * Before upgrading: the error to answer the upgrade request with (HTTP status, JSON
   * body, then the connection closes), or null to upgrade. The engine refuses for its own
   * reasons (connection caps) before asking.
   */
  refuse(head: RequestHead): JobcastError | null;
  /**
   * Right after upgrading: whether the socket may stay (Origin, token). A refused socket
   * is closed with 1008 and the reason, after the upgrade so that a browser sees why.
   */
  door(head: RequestHead): DoorResult;
  /** Hands an admitted socket to the hub; the engine forwards messages, drains and the close to what it returns. */
  open(connection: Connection, mayWatchAll: boolean): ConnectionHandlers;
}

export interface WebSocketServiceOptions extends DoorPolicy {
  hub: Hub;
  /** Which Host values are answered (--host, --allowed-hosts). */
  hosts: HostPolicy;
  /** Throws 503 shutting_down once the server is stopping (Intake.assertOpen). */
  assertOpen(): void;
}

/** The path of the live protocol. */
export const WEBSOCKET_PATH = '/ws';

/** The WebSocket service of this server: the Host rule and `/ws`, 503 while shutting down, the door, the hub. */
export function webSocketService(opts: WebSocketServiceOptions): WebSocketService {
  return {
    refuse(head) {
      // The Host rule, as for every request: 421 before any upgrade, so a rebinding page
      // gets no socket. The path is read literally (`//x/ws` is not `/ws`).
      const host = head.authority ?? head.headers.host;
      if (!isAllowedHost(host, opts.hosts)) return misdirectedRequest(host);
      if (head.path !== WEBSOCKET_PATH) return new JobcastError('not_found', `no route for ${head.path.slice(0, 100)}`);
      try {
        opts.assertOpen();
        return null;
      } catch (err) {
        if (isJobcastError(err)) return err;
        throw err;
      }
    },
    door: (head) => checkDoor(head, opts),
    open: (connection, mayWatchAll) => opts.hub.open(connection, { mayWatchAll }),
  };
}
