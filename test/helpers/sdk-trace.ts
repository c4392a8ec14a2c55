// Recording what the client SDK reports, and awaiting a condition on it with a
// deadline that only catches a hang: the tests wait for callbacks, never for the clock.

import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { createClient, type ClientOptions, type ConnectionDetail, type ConnectionState, type JobcastClient } from '../../client/jobcast-client.js';
import type { ServerMessage } from '../../server/protocol/types.js';
import { HANG_MS } from './patience.js';

/** Everything a callback was called with, in order; `until` resolves once a value satisfies a predicate. */
export class Trace<T> {
  readonly values: T[] = [];
  private readonly waiters: Array<{ from: number; test: (value: T) => boolean; resolve: (value: T) => void }> = [];

  /** The callback to hand to the SDK. */
  readonly push = (value: T): void => {
    this.values.push(value);
    const index = this.values.length - 1;
    for (const waiter of [...this.waiters]) {
      if (index >= waiter.from && waiter.test(value)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(value);
      }
    }
  };

  get last(): T | undefined {
    return this.values.at(-1);
  }

  /** Resolves with the first value from index `from` on (default 0) that passes `test`; rejects after `timeoutMs`. */
  until(what: string, test: (value: T) => boolean, { from = 0, timeoutMs = HANG_MS } = {}): Promise<T> {
    const found = this.values.slice(from).find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(this.last)}`));
      }, timeoutMs);
      const waiter = {
        from,
        test,
        resolve: (value: T) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

/** The `ws` WebSocket with every instance and every frame it received kept for the test to look at (and to cut). */
export interface TrackedSockets {
  WebSocket: new (url: string) => WebSocket;
  sockets: WebSocket[];
  /** Each text frame received, parsed, with the index of the socket that received it. */
  frames: Array<{ socket: number; message: ServerMessage }>;
}

export function trackedWebSocket(): TrackedSockets {
  const sockets: WebSocket[] = [];
  const frames: TrackedSockets['frames'] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      const socket = sockets.push(this) - 1;
      this.on('message', (data, isBinary) => {
        if (!isBinary) frames.push({ socket, message: JSON.parse(String(data)) as ServerMessage });
      });
    }
  }
  return { WebSocket: TrackedWebSocket, sockets, frames };
}

export interface TestClient {
  client: JobcastClient;
  /** Every connection state the client reported. */
  states: Trace<[ConnectionState, ConnectionDetail]>;
}

/**
 * A client on the real `ws` WebSocket (or the one given), quick to reconnect, closed after
 * the test. It pings only every HANG_MS unless told otherwise: a scripted peer does not
 * answer pings, and a test that is slow on a busy machine must not see its socket replaced.
 */
export function openClient(t: TestContext, options: ClientOptions): TestClient {
  const client = createClient({ WebSocket, backoff: { initialMs: 50, maxMs: 400 }, pingIntervalMs: HANG_MS, ...options });
  t.after(() => client.close());
  const states = new Trace<[ConnectionState, ConnectionDetail]>();
  client.onConnectionState((state, detail) => states.push([state, detail]));
  return { client, states };
}
