// A raw WebSocket client over net.Socket for abuse tests: the test decides every byte,
// writes many frames in one TCP write, stops reading whenever it likes (the server's
// replies then back up), and floods as fast as the server takes data, with backpressure,
// so that the test process itself never buffers the attack.

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const OPCODE = { text: 0x1, binary: 0x2, close: 0x8 } as const;

/**
 * One client-to-server frame. Masked, as RFC 6455 requires of clients, with a zero key:
 * the payload goes out as it is, and a flood can repeat one buffer.
 */
export function clientFrame(payload: string | Buffer, kind: 'text' | 'binary' = 'text'): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = data.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | OPCODE[kind];
  if (length < 126) {
    header[1] = 0x80 | length;
  } else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, Buffer.alloc(4), data]);
}

/** The same frame `count` times, in one buffer (one TCP write). */
export function repeatFrames(frame: Buffer, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

export class RawWs {
  /** Text messages from the server, parsed, once reading has started. */
  readonly messages: unknown[] = [];
  /** The server's close code once its close frame was read; null before. */
  closeCode: number | null = null;
  /** Bytes the socket has taken from write() so far (handed to the kernel or queued by Node). */
  bytesWritten = 0;
  isClosed = false;
  readonly closed: Promise<void>;
  private received = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => (this.isClosed = true));
    // Errors (EPIPE, ECONNRESET once the server has cut the connection) end in 'close'.
    socket.on('error', () => {});
  }

  /** Connects and upgrades `/ws` (with `query`); resolves once the 101 has arrived. The socket is then not read. */
  static open(port: number, query = ''): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET /ws${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', reject);
        socket.pause();
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`the upgrade was refused: ${status}`));
        }
        const client = new RawWs(socket);
        client.received = head.subarray(end + 4);
        resolve(client);
      };
      socket.on('data', onData);
    });
  }

  /** Writes `bytes`; resolves once the socket can take more (false if the connection is gone first). */
  write(bytes: Buffer): Promise<boolean> {
    if (this.isClosed || this.socket.destroyed) return Promise.resolve(false);
    this.bytesWritten += bytes.length;
    if (this.socket.write(bytes)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (isOpen: boolean) => () => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(isOpen);
      };
      const onDrain = done(true);
      const onClose = done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /**
   * Writes `chunk` again and again, as fast as the server takes it, until `totalBytes` are
   * written, `shouldStop()` says so, or the connection is gone. Resolves with the bytes written.
   */
  async flood(chunk: Buffer, totalBytes: number, shouldStop: () => boolean = () => false): Promise<number> {
    let written = 0;
    while (written < totalBytes && !shouldStop()) {
      if (!(await this.write(chunk))) break;
      written += chunk.length;
    }
    return written;
  }

  /** Starts reading: the server's frames are parsed into `messages` and `closeCode`. */
  startReading(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.parse();
    });
    this.socket.resume();
    this.parse();
  }

  /** Cuts the connection at once (the server sees a reset if it still had something to send). */
  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const frame = this.received;
      if (frame.length < 2) return;
      let length = frame[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (frame.length < 4) return;
        length = frame.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (frame.length < 10) return;
        length = Number(frame.readBigUInt64BE(2));
        offset = 10;
      }
      if (frame.length < offset + length) return;
      const payload = frame.subarray(offset, offset + length);
      const opcode = frame[0]! & 0x0f;
      if (opcode === OPCODE.text) this.messages.push(JSON.parse(payload.toString()));
      if (opcode === OPCODE.close) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.received = frame.subarray(offset + length);
    }
  }
}
