// The attacks, as one hostile client on one machine runs them, staying inside every
// documented limit. Each starts, runs until stopped, and then reports what it saw (a
// short line for the table). They run in their own process (attacker.ts), so their
// work never shares the event loop of the benchmark's health checks.

import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { BENCH_TOKEN } from './fixtures.js';

export interface AttackTarget {
  port: number;
  /** A finished job of 1,000 files, for the attacks that read one. */
  largeJob: string | null;
}

export interface RunningAttack {
  /** Stops, closes every connection, and resolves with what the attack saw. */
  stop(): Promise<string>;
}

export type AttackName = keyof typeof ATTACKS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A WebSocket to the server, open; `isReading` false pauses its socket, a client that never reads. */
async function openWs(port: number, isReading: boolean, query = ''): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { perMessageDeflate: false });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (!isReading) (ws as unknown as { _socket: Socket })._socket.pause();
  return ws;
}

/** Sends `messages` in one TCP write (corked), as the attacker's single write. */
function sendInOneWrite(ws: WebSocket, messages: Array<string | Buffer>): void {
  const socket = (ws as unknown as { _socket: Socket })._socket;
  socket.cork();
  for (const message of messages) ws.send(message, { binary: typeof message !== 'string' });
  process.nextTick(() => socket.uncork());
}

/** Runs `step` until stopped, yielding to the event loop between steps. */
function loop(step: () => Promise<void> | void): { stop(): Promise<void> } {
  let isRunning = true;
  const done = (async () => {
    while (isRunning) {
      await step();
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    stop: async () => {
      isRunning = false;
      await done;
    },
  };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

const MULTIPART = 'multipart/form-data; boundary=bench-abuse';

/** A POST /jobs head announcing `length` body bytes. */
function uploadHead(port: number, length: number): string {
  return `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${MULTIPART}\r\nContent-Length: ${length}\r\n\r\n`;
}

export const ATTACKS = {
  /** A WebSocket client that never reads, sending empty binary frames and pings as fast as it can. */
  async 'ws-flood'({ port }: AttackTarget): Promise<RunningAttack> {
    const ws = await openWs(port, false);
    let sent = 0;
    const ping = '{"op":"ping"}';
    const empty = Buffer.alloc(0);
    const sender = loop(async () => {
      if (ws.readyState !== WebSocket.OPEN) return void (await sleep(50));
      if (ws.bufferedAmount > 1024 * 1024) return void (await sleep(5));
      sendInOneWrite(ws, Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? empty : ping)));
      sent += 200;
    });
    return {
      async stop() {
        await sender.stop();
        const state = ws.readyState === WebSocket.OPEN ? 'still open' : `closed ${(ws as unknown as { _closeCode: number })._closeCode}`;
        ws.terminate();
        return `${Math.round(sent / 1000)}k frames sent; connection ${state}`;
      },
    };
  },

  /** 200 `*` subscribes in one write, once a second, on a reading connection (30 queued 1,000-file jobs). */
  async 'ws-star-burst'({ port }: AttackTarget): Promise<RunningAttack> {
    const ws = await openWs(port, true);
    let snapshots = 0;
    ws.on('message', (data) => (snapshots += data.toString().startsWith('{"type":"snapshot"') ? 1 : 0));
    let bursts = 0;
    const sender = loop(async () => {
      if (ws.readyState === WebSocket.OPEN) sendInOneWrite(ws, Array.from({ length: 200 }, () => '{"op":"subscribe","job":"*"}'));
      bursts++;
      await sleep(1000);
    });
    return {
      async stop() {
        await sender.stop();
        ws.terminate();
        return `${bursts} bursts; ${snapshots} snapshots received`;
      },
    };
  },

  /** Subscribe and unsubscribe `*` as fast as the server takes them, on 4 connections (30 queued 1,000-file jobs). */
  async 'ws-churn'({ port }: AttackTarget): Promise<RunningAttack> {
    const sockets = await Promise.all(Array.from({ length: 4 }, () => openWs(port, true)));
    let pairs = 0;
    const senders = sockets.map((ws) =>
      loop(async () => {
        if (ws.readyState !== WebSocket.OPEN) return void (await sleep(50));
        if (ws.bufferedAmount > 64 * 1024) return void (await sleep(5));
        sendInOneWrite(ws, ['{"op":"subscribe","job":"*"}', '{"op":"unsubscribe","job":"*"}']);
        pairs++;
      }),
    );
    return {
      async stop() {
        await Promise.all(senders.map((s) => s.stop()));
        for (const ws of sockets) ws.terminate();
        return `${pairs} subscribe/unsubscribe pairs`;
      },
    };
  },

  /** 2,000 subscribes to one finished large job in one write, every 2 s, on a server with a token (none needed by id). */
  async 'ws-subscribe-finished'({ port, largeJob }: AttackTarget): Promise<RunningAttack> {
    const ws = await openWs(port, true);
    let snapshots = 0;
    ws.on('message', (data) => (snapshots += data.toString().startsWith('{"type":"snapshot"') ? 1 : 0));
    const message = JSON.stringify({ op: 'subscribe', job: largeJob });
    let bursts = 0;
    const sender = loop(async () => {
      if (ws.readyState === WebSocket.OPEN) sendInOneWrite(ws, Array.from({ length: 2000 }, () => message));
      bursts++;
      await sleep(2000);
    });
    return {
      async stop() {
        await sender.stop();
        ws.terminate();
        return `${bursts} bursts; ${snapshots} snapshots received`;
      },
    };
  },

  /** 2,000 pipelined `GET /jobs/{id}` of a large finished job in one write, never read. */
  async 'http-pipelined'({ port, largeJob }: AttackTarget): Promise<RunningAttack> {
    const socket = await openSocket(port);
    socket.pause();
    socket.on('error', () => {});
    const request = `GET /jobs/${largeJob} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
    socket.write(request.repeat(2000));
    return {
      async stop() {
        const state = socket.destroyed ? 'closed by the server' : 'held open';
        socket.destroy();
        return `${Math.round((request.length * 2000) / 1024)} KiB in one write; connection ${state}`;
      },
    };
  },

  /**
   * Four uploads sending one byte every 2 s (server: --max-concurrent-uploads 4
   * --upload-idle-timeout 3s), while an honest client tries a small upload every second.
   */
  async 'upload-trickle'({ port }: AttackTarget): Promise<RunningAttack> {
    const fileHead = '--bench-abuse\r\nContent-Disposition: form-data; name="file"; filename="t.bin"\r\n\r\n';
    const tricklers = await Promise.all(Array.from({ length: 4 }, () => openSocket(port)));
    let cut = 0;
    for (const socket of tricklers) {
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.once('close', () => cut++);
      socket.write(uploadHead(port, 1_000_000) + fileHead + 'x');
    }
    const trickle = setInterval(() => tricklers.forEach((s) => !s.destroyed && s.write('x')), 2000);
    let tried = 0;
    let taken = 0;
    const honest = loop(async () => {
      const form = new FormData();
      form.append('file', new Blob(['honest']), 'honest.txt');
      const res = await fetch(`http://127.0.0.1:${port}/jobs`, { method: 'POST', body: form }).catch(() => null);
      tried++;
      if (res?.status === 202) taken++;
      await res?.arrayBuffer().catch(() => undefined);
      await sleep(1000);
    });
    return {
      async stop() {
        clearInterval(trickle);
        await honest.stop();
        for (const socket of tricklers) socket.destroy();
        return `honest uploads taken ${taken}/${tried}; ${cut} of 4 trickles cut off`;
      },
    };
  },

  /** Uploads whose `options` nest 4,000 levels deep, one after another. */
  async 'deep-options'({ port }: AttackTarget): Promise<RunningAttack> {
    const options = `${'{"a":'.repeat(3999)}{}${'}'.repeat(3999)}`;
    const statuses = new Map<number, number>();
    const sender = loop(async () => {
      const form = new FormData();
      form.append('processor', 'sha256');
      form.append('options', options);
      form.append('file', new Blob(['x']), 'deep.txt');
      const res = await fetch(`http://127.0.0.1:${port}/jobs`, { method: 'POST', body: form }).catch(() => null);
      statuses.set(res?.status ?? 0, (statuses.get(res?.status ?? 0) ?? 0) + 1);
      await res?.arrayBuffer().catch(() => undefined);
    });
    return {
      async stop() {
        await sender.stop();
        return `answers ${[...statuses].map(([status, n]) => `${status}x${n}`).join(' ')}`;
      },
    };
  },

  /** 50 connections sending a 1 MB body to GET /healthz at a byte a second, reopened when closed. */
  async 'body-trickle'({ port }: AttackTarget): Promise<RunningAttack> {
    let closed = 0;
    const sockets = new Set<Socket>();
    let isRunning = true;
    const open = async (): Promise<void> => {
      const socket = await openSocket(port).catch(() => null);
      if (socket === null || !isRunning) return void socket?.destroy();
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.once('close', () => {
        sockets.delete(socket);
        if (!isRunning) return;
        closed++;
        void open();
      });
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1000000\r\n\r\nx`);
    };
    await Promise.all(Array.from({ length: 50 }, () => open()));
    const trickle = setInterval(() => sockets.forEach((s) => s.write('x')), 1000);
    return {
      async stop() {
        isRunning = false;
        clearInterval(trickle);
        for (const socket of sockets) socket.destroy();
        return `${closed} trickling connections closed by the server`;
      },
    };
  },
} satisfies Record<string, (target: AttackTarget) => Promise<RunningAttack>>;

/** Attacks whose server runs with a token: reading a job by id needs none. */
export const NEEDS_TOKEN: ReadonlySet<AttackName> = new Set(['ws-subscribe-finished']);
export { BENCH_TOKEN };
