// Benchmark child: the honest best case for fan-out with `ws`. Clients just connect;
// each event is serialised once into one Buffer and written to every client with
// `for (const c of wss.clients) c.send(buf)`: no store, no subscriptions, no
// slow-reader policy, no heartbeat. The frames are the JSON jobcast sends for the same
// event (same fields in the same order, same data), as text frames.
//
// Usage (from bench/fanout.js): node --expose-gc bare-ws-server.js

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { serveParent } from '../lib/ipc.js';
import { FIRST_PROGRESS_SEQ, JOB_ID, progressData, serverHandlers, type ServerReady } from './shared.js';

async function main(): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  // The same socket options as jobcast's transport: no compression, 4 KiB inbound frames.
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 4096 });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const emit = (seq: number): void => {
    const event = { type: 'event', job: JOB_ID, seq, ts: Date.now(), name: 'file.progress', data: progressData(seq) };
    const buf = Buffer.from(JSON.stringify(event));
    for (const c of wss.clients) c.send(buf, { binary: false });
  };
  const { port } = server.address() as AddressInfo;
  const ready: ServerReady = { port, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ };
  serveParent(serverHandlers(emit, () => wss.clients.size, FIRST_PROGRESS_SEQ), ready);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
