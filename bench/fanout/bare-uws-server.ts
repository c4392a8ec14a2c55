// Benchmark child: the honest best case for fan-out with uWebSockets.js. Every client
// is subscribed to one topic when it opens; each event is serialised once into one
// Buffer and handed to `app.publish`, which writes it to every subscriber in C++: no
// store, no subscriptions of our own, no slow-reader policy, no heartbeat. The frames are
// the bytes the bare `ws` server sends for the same event.
// `maxBackpressure` is far above what a burst queues per client: below it, uWS would drop
// frames for that client silently, and the clients would count gaps.
//
// Usage (from bench/fanout.js): node --expose-gc bare-uws-server.js

import { loadUws } from '../../server/engines/uws/load-uws.js';
import { serveParent } from '../lib/ipc.js';
import { FIRST_PROGRESS_SEQ, JOB_ID, progressData, serverHandlers, type ServerReady } from './shared.js';

const TOPIC = 'fanout';
/** Bytes a subscriber may have queued before publish skips it; 64 KiB by default. */
const MAX_BACKPRESSURE_BYTES = 64 * 1024 * 1024;

async function main(): Promise<void> {
  const load = await loadUws();
  if (!load.ok) return serveParent({}, { port: 0, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ, unavailable: load.reason } satisfies ServerReady);
  const { uws } = load;
  let connections = 0;
  const app = uws
    .App()
    .ws('/ws', {
      // The same socket options as jobcast's: no compression, 4 KiB inbound frames, and no idle timeout (bare ws has none).
      compression: uws.DISABLED,
      maxPayloadLength: 4096,
      idleTimeout: 0,
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      open: (ws) => {
        connections++;
        ws.subscribe(TOPIC);
      },
      close: () => void connections--,
    })
    .any('/*', (res) => void res.writeStatus('404 Not Found').end());
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => (socket === false ? reject(new Error('uWS could not listen')) : resolve(uws.us_socket_local_port(socket)))),
  );

  const emit = (seq: number): void => {
    const event = { type: 'event', job: JOB_ID, seq, ts: Date.now(), name: 'file.progress', data: progressData(seq) };
    app.publish(TOPIC, Buffer.from(JSON.stringify(event)), false);
  };
  const ready: ServerReady = { port, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ };
  serveParent(serverHandlers(emit, () => connections, FIRST_PROGRESS_SEQ), ready);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
