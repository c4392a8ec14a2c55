// Benchmark child: the honest best case for fan-out with `ws`. Clients just connect;
// each event is serialised once into one Buffer and written to every client with
// `for (const c of wss.clients) c.send(buf)`: no store, no subscriptions, no
// slow-reader policy, no heartbeat. The frames are the JSON jobcast sends for the same
// event (same fields in the same order, same data), as text frames.
//
// Usage (from bench/fanout.js): node --expose-gc bare-server.js
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveParent } from '../lib/ipc.js';
import { FIRST_PROGRESS_SEQ, JOB_ID, progressData, serverHandlers } from './shared.js';
async function main() {
    const server = createServer((_req, res) => res.writeHead(404).end());
    // The same socket options as jobcast's transport: no compression, 4 KiB inbound frames.
    const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 4096 });
    wss.on('connection', (ws) => ws.on('error', () => { }));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const emit = (seq) => {
        const event = { type: 'event', job: JOB_ID, seq, ts: Date.now(), name: 'file.progress', data: progressData(seq) };
        const buf = Buffer.from(JSON.stringify(event));
        for (const c of wss.clients)
            c.send(buf, { binary: false });
    };
    const { port } = server.address();
    const ready = { port, job: JOB_ID, nextSeq: FIRST_PROGRESS_SEQ, label: 'bare ws' };
    serveParent(serverHandlers(emit, () => wss.clients.size, FIRST_PROGRESS_SEQ), ready);
}
main().catch((err) => {
    console.error(err);
    process.exit(1);
});
//# sourceMappingURL=bare-server.js.map