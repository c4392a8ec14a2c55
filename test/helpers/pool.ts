// The processor pool on its own, for the pool's tests (threads and command processors):
// a pool over a folder of processors, the files they run on, and a request per file.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { ProcessorPool, type ProcessorPoolOptions } from '../../server/workers/pool.js';
import type { ProcessorFile, RunFileRequest } from '../../server/workers/pool-types.js';
import { loadProcessorRegistry } from '../../server/workers/registry.js';

/** `content` written to `dir/name`, described as a processor sees it (index 0). */
export async function makeFile(dir: string, name: string, content: Buffer | string, type = 'application/octet-stream'): Promise<ProcessorFile> {
  const path = join(dir, name);
  await writeFile(path, content);
  return { path, name, size: Buffer.byteLength(content), type, index: 0 };
}

export type PoolOverrides = Partial<ProcessorPoolOptions> & { processorDir?: string };

/** A pool of two workers over `processorDir` (default `defaultDir`), destroyed after the test. */
export async function startPool(t: TestContext, defaultDir: string, overrides: PoolOverrides = {}): Promise<ProcessorPool> {
  const { processorDir = defaultDir, ...options } = overrides;
  const registry = await loadProcessorRegistry(processorDir);
  const pool = new ProcessorPool({ workers: 2, progressIntervalMs: 50, registry, logger: pino({ level: 'silent' }), ...options });
  t.after(() => pool.destroy());
  return pool;
}

/** A request to run `processor` on `file`, output beside it, never cancelled unless `extra` says so. */
export function request(processor: string, file: ProcessorFile, extra: Partial<RunFileRequest> = {}): RunFileRequest {
  return {
    processor,
    file,
    options: {},
    outputPath: `${file.path}.out`,
    jobId: 'job-1',
    signal: new AbortController().signal,
    timeoutMs: null,
    onProgress() {},
    ...extra,
  };
}
