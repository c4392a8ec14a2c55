// A scripted WebSocket peer on a real loopback socket, for the client behaviours a
// correct jobcast server never provokes: malformed frames, seq gaps, a `subscribed`
// the view does not match, silence after a ping, a 1013 close. The test decides every
// frame it sends; everything the client sends is recorded and can be awaited.
import { WebSocketServer } from 'ws';
import { Trace } from './sdk-trace.js';
export async function startScriptedPeer(t) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    await new Promise((resolve) => wss.once('listening', resolve));
    t.after(() => new Promise((resolve) => {
        for (const ws of wss.clients)
            ws.terminate();
        wss.close(() => resolve());
    }));
    const connections = [];
    const received = new Trace();
    const closed = new Trace();
    wss.on('connection', (ws) => {
        const connection = connections.push(ws) - 1;
        ws.on('message', (data) => received.push({ connection, message: JSON.parse(String(data)) }));
        ws.on('close', (code) => closed.push({ connection, code }));
    });
    const { port } = wss.address();
    return {
        url: `ws://127.0.0.1:${port}/ws`,
        connections,
        received,
        closed,
        send(index, message) {
            connections[index].send(typeof message === 'string' ? message : JSON.stringify(message));
        },
    };
}
//# sourceMappingURL=sdk-peer.js.map