// The upload benchmark's client: POST /jobs with a generated multipart body, then wait
// for the job to end and delete it (so the spool does not fill the disk over the rounds).
// Every step has a time bound: an engine that stops reading or answering fails its
// round with a message instead of hanging the run.

import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';

const BOUNDARY = 'jobcast-bench-upload';
const MiB = 1024 * 1024;
const RANDOM_BLOCK = randomBytes(MiB);
const OPTIONS_FIELD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="processor"\r\n\r\ndelay\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="options"\r\n\r\n{"msPerMiB":0}\r\n`;
/** A socket with nothing sent or received for this long is a stalled server. */
const STALL_MS = 30_000;
/** Longest wait for a job of the benchmark to end (processing sleeps 0 ms per MiB) and for each other request. */
const REQUEST_TIMEOUT_MS = 60_000;

/** How the body is framed: with its Content-Length, or chunked (uWS refuses a Content-Length of 10 digits, 1 GB and more). */
export type Framing = 'length' | 'chunked';

/** POSTs one file of `size` bytes made of 1 MiB writes that respect backpressure; resolves with the job id. */
export function upload(port: number, size: number, name: string, framing: Framing = 'length'): Promise<string> {
  const head = Buffer.from(`${OPTIONS_FIELD}--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  // Random bytes, as real files look to the parser: a block of one repeated byte that
  // also occurs near the end of the boundary makes busboy's Boyer-Moore-Horspool search
  // step one byte at a time (here, 'a' and "...upload" halved the rate).
  const block = RANDOM_BLOCK.subarray(0, Math.min(MiB, Math.max(1, size)));
  return new Promise((resolve, reject) => {
    // Where the upload was when it failed: an engine that cuts a body short is told apart from one that stalls.
    let sent = 0;
    let status = 'no response';
    const fail = (err: Error): void => reject(new Error(`POST /jobs (${name}): ${err.message}, after ${sent + head.length} of ${head.length + size + tail.length} bytes written, ${status}`));
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/jobs',
      agent: false,
      // Without a Content-Length, Node's client sends the body chunked.
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...(framing === 'length' && { 'content-length': head.length + size + tail.length }) },
    });
    req.setTimeout(STALL_MS, () => req.destroy(new Error(`nothing sent or received for ${STALL_MS / 1000} s`)));
    req.on('error', fail);
    req.on('response', (res) => {
      status = `response ${res.statusCode}`;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 202 ? resolve((JSON.parse(text) as { id: string }).id) : reject(new Error(`POST /jobs (${name}): ${res.statusCode}: ${text}`))));
    });
    void (async () => {
      req.write(head);
      for (; sent < size && !req.destroyed; sent += block.length) {
        const piece = size - sent >= block.length ? block : block.subarray(0, size - sent);
        if (!req.write(piece)) await drainOrClose(req);
      }
      if (!req.destroyed) req.end(tail);
    })();
  });
}

/** Resolves on 'drain', or on 'close': a request destroyed while waiting would never drain. */
function drainOrClose(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** Waits for the job to end, then deletes it and its spool files. */
export async function finishAndDelete(port: number, id: string): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const signal = (): AbortSignal => AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const res = await fetch(`${base}/jobs/${id}`, { signal: signal() });
  const job = (await res.json()) as { status: string };
  if (job.status === 'queued' || job.status === 'running') {
    // The SSE stream ends after the job's final event.
    await (await fetch(`${base}/jobs/${id}/events`, { signal: signal() })).text();
  }
  const deleted = await fetch(`${base}/jobs/${id}`, { method: 'DELETE', signal: signal() });
  if (deleted.status !== 204) throw new Error(`DELETE ${id}: ${deleted.status}`);
}
