// A scripted WebSocket peer on a real loopback socket, for the client behaviours a
// correct jobcast server never provokes: malformed frames, seq gaps, a `subscribed`
// the view does not match, silence after a ping, a 1013 close. The test decides every
// frame it sends; everything the client sends is recorded and can be awaited.

import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '../../server/protocol/types.js';
import { Trace } from './sdk-trace.js';

export interface Received {
  /** Index of the connection (0 for the first) it came on. */
  connection: number;
  message: ClientMessage;
}

export interface ScriptedPeer {
  /** `ws://127.0.0.1:port/ws` */
  url: string;
  connections: WebSocket[];
  /** Every message the client sent, parsed. */
  received: Trace<Received>;
  /** Close code of each connection, by index, as the peer saw it. */
  closed: Trace<{ connection: number; code: number }>;
  /** Sends a message (or, given a string, those exact bytes) on connection `index`. */
  send(index: number, message: ServerMessage | string): void;
}

export async function startScriptedPeer(t: TestContext): Promise<ScriptedPeer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  const connections: WebSocket[] = [];
  const received = new Trace<Received>();
  const closed = new Trace<{ connection: number; code: number }>();
  wss.on('connection', (ws) => {
    const connection = connections.push(ws) - 1;
    ws.on('message', (data) => received.push({ connection, message: JSON.parse(String(data)) as ClientMessage }));
    ws.on('close', (code) => closed.push({ connection, code }));
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    connections,
    received,
    closed,
    send(index, message) {
      connections[index]!.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
  };
}
