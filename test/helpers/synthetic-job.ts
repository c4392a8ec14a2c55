// Jobs written straight to the server's log (store + feed), which no scheduler ever
// claims: tests drive their events at will (fan-out, slow readers, resume) without a
// processor. RunningServer.log is the one seam for this; everything else goes through
// the public surface.

import { nanoid } from 'nanoid';
import type { RunningServer } from '../../server/app.js';
import type { Snapshot } from '../../server/protocol/types.js';

/** What the helpers need of a running server: its log. */
export type SyntheticTarget = Pick<RunningServer, 'log'>;

/** Creates a running one-file job (seq 3 after job.queued, job.started, file.started); resolves with its id. */
export async function createSyntheticJob(server: SyntheticTarget, size = 1_000_000): Promise<string> {
  const id = nanoid();
  await server.log.create(id, {
    name: 'job.queued',
    data: {
      processor: 'delay',
      label: 'synthetic',
      failFast: false,
      files: [{ index: 0, name: 'synthetic.bin', size, type: 'application/octet-stream' }],
      position: 1,
    },
  });
  // Started at once: a queued job outside the queue would have no live position.
  await server.log.append(id, { name: 'job.started', data: {} });
  await server.log.append(id, { name: 'file.started', data: { file: 0 } });
  return id;
}

/**
 * Appends one `file.progress` event; `padBytes` of filler in its data make it as large
 * as a test needs (the reducer ignores unknown fields). Resolves with the snapshot after it.
 */
export function appendProgress(server: SyntheticTarget, id: string, done: number, total = 1_000_000, padBytes = 0): Promise<Snapshot> {
  const data = { file: 0, done, total, fraction: done / total, rate: null, etaMs: null, jobEtaMs: null, pad: 'x'.repeat(padBytes) };
  return server.log.append(id, { name: 'file.progress', data });
}

/** Ends the job: file.completed then job.completed; resolves with the final snapshot. */
export async function finishSyntheticJob(server: SyntheticTarget, id: string): Promise<Snapshot> {
  await server.log.append(id, { name: 'file.completed', data: { file: 0, durationMs: 5, result: { ok: true }, output: false } });
  return server.log.append(id, { name: 'job.completed', data: { durationMs: 5 } });
}

/** Lets the event loop run I/O (sockets read and write) between two appends. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
