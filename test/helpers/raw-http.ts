// A raw HTTP/1.1 client over net.Socket for hostile-client tests: the test decides every
// byte (framing, Content-Length that lies, chunk sizes), when to pause, and when to cut
// the connection, and sees whether the server answered, closed or reset.

import { connect, type Socket } from 'node:net';
import { HANG_MS } from './patience.js';

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: any;
}

/** One client connection to 127.0.0.1:port. */
export class RawConnection {
  /** The first response, or null if the connection ended without one. */
  readonly response: Promise<RawResponse | null>;
  /** Resolves once the socket is fully closed, by either side. */
  readonly closed: Promise<void>;
  /** True when the server ended or reset the connection (rather than this client). */
  isClosedByServer = false;
  /** True once this client destroyed the socket. */
  isCutByClient = false;
  /** The socket error, if one happened (EPIPE and ECONNRESET after the server closed). */
  error: NodeJS.ErrnoException | null = null;

  private received = Buffer.alloc(0);
  private settleResponse!: (response: RawResponse | null) => void;

  private constructor(readonly socket: Socket) {
    this.response = new Promise((resolve) => (this.settleResponse = resolve));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.parse(false);
    });
    socket.on('end', () => {
      if (!this.isCutByClient) this.isClosedByServer = true;
      this.parse(true);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error ??= error;
      if (!this.isCutByClient) this.isClosedByServer = true;
    });
    socket.once('close', () => this.parse(true));
  }

  /** Connects; resolves once the TCP connection is up. */
  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Writes and resolves true once the bytes are handed to the kernel; false if the socket is gone. */
  write(data: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (error) => resolve(!error)));
  }

  /** Half-closes: no more bytes from this client, but it still reads. */
  end(): void {
    this.socket.end();
  }

  /** Cuts the connection now. */
  cut(): void {
    this.isCutByClient = true;
    this.socket.destroy();
  }

  private parse(isEof: boolean): void {
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd === -1) {
      if (isEof) this.settleResponse(null);
      return;
    }
    const lines = this.received.subarray(0, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      // A chunked body (the uws engine's answer to a refused upload): complete at its last chunk.
      const chunked = dechunk(this.received.subarray(bodyStart));
      if (chunked === null) {
        if (isEof) this.settleResponse(null);
        return;
      }
      body = chunked;
    } else {
      const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
      // Without Content-Length the body runs to the end of the connection (Node's own 400s).
      if (length === null ? !isEof : this.received.length < bodyStart + length) {
        if (isEof) this.settleResponse(null);
        return;
      }
      body = this.received.subarray(bodyStart, length === null ? undefined : bodyStart + length);
    }
    let json: any = null;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      // not JSON: json stays null
    }
    this.settleResponse({ status, headers, body, json });
  }
}

/** The bytes of a chunked body (RFC 9112 7.1), or null while its last chunk has not arrived. */
export function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return data.indexOf('\r\n', lineEnd + 2) === -1 ? null : Buffer.concat(parts);
    const chunkEnd = lineEnd + 2 + size;
    if (data.length < chunkEnd + 2) return null;
    parts.push(data.subarray(lineEnd + 2, chunkEnd));
    at = chunkEnd + 2;
  }
}

/** The request line and headers of a `POST path` (or another method), ending with the blank line. */
export function requestHead(path: string, headers: Record<string, string | number | undefined>, method = 'POST'): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

/** `GET path` on a connection of its own, closed afterwards (no keep-alive socket stays open). */
export async function rawGet(port: number, path: string): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  await conn.write(requestHead(path, { connection: 'close' }, 'GET'));
  const response = await conn.response;
  conn.cut();
  await conn.closed;
  if (response === null) throw new Error(`GET ${path}: the connection closed without an answer`);
  return response;
}

export interface PostOptions {
  /** Send only this many body bytes and keep the connection open (Content-Length still announces all). */
  sendBytes?: number;
  /** Send the body in pieces of this size, one write each; default: head and body in one write. */
  pieceSize?: number;
  /** Fail when no answer came within this (default HANG_MS: a hang). */
  timeoutMs?: number;
}

/**
 * POSTs `body` to /jobs with its Content-Length and resolves with the answer (null when
 * the server closed without one). A server that answers before the body is all sent
 * is seen doing so: writing stops at the answer.
 */
export async function postUpload(port: number, contentType: string, body: Buffer, options: PostOptions = {}): Promise<RawResponse | null> {
  const conn = await RawConnection.open(port);
  let isAnswered = false;
  void conn.response.then(() => (isAnswered = true));
  const head = Buffer.from(requestHead('/jobs', { 'content-type': contentType, 'content-length': body.length }));
  const toSend = body.subarray(0, options.sendBytes ?? body.length);
  if (options.pieceSize === undefined) {
    await conn.write(Buffer.concat([head, toSend]));
  } else {
    await conn.write(head);
    for (let offset = 0; offset < toSend.length && !isAnswered; offset += options.pieceSize) {
      if (!(await conn.write(toSend.subarray(offset, offset + options.pieceSize)))) break;
    }
  }
  const timeoutMs = options.timeoutMs ?? HANG_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`POST /jobs: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([conn.response, deadline]);
  } finally {
    clearTimeout(timer);
    conn.cut();
    await conn.closed;
  }
}

/** One chunk of a `Transfer-Encoding: chunked` body (a zero-length piece is the last chunk). */
export function chunk(piece: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
}

/**
 * The answers to pipelined requests on one socket, in order. Each body is read by its
 * Content-Length (a HEAD answer has none, whatever its headers say). Reading starts at
 * the first next(): until then the socket is paused, a client that does not read.
 */
export class PipelinedAnswers {
  private received: Buffer = Buffer.alloc(0);
  private isEnded = false;
  private wake: (() => void) | null = null;

  constructor(readonly socket: Socket) {
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    const end = (): void => {
      this.isEnded = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** The next answer (`isHead`: to a HEAD request), or null when the connection ends first. */
  async next(isHead = false): Promise<RawResponse | null> {
    this.socket.resume();
    for (;;) {
      const response = this.take(isHead);
      if (response !== null) return response;
      if (this.isEnded) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  private take(isHead: boolean): RawResponse | null {
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd === -1) return null;
    const lines = this.received.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = isHead ? 0 : Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (this.received.length < bodyStart + length) return null;
    const body = Buffer.from(this.received.subarray(bodyStart, bodyStart + length));
    this.received = this.received.subarray(bodyStart + length);
    let json: any = null;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      // not JSON
    }
    return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), headers, body, json };
  }
}
