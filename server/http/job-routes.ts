// The job routes of SPEC 2: upload, read, list, cancel, delete, outputs.

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { nanoid } from 'nanoid';
import { isDiskFull, JobcastError, isJobcastError } from '../errors.js';
import type { JobControl } from '../jobs/control.js';
import type { Intake } from '../jobs/intake.js';
import type { JobReader } from '../jobs/reader.js';
import type { Metrics } from '../metrics.js';
import { JOB_STATUSES, type JobStatus } from '../protocol/types.js';
import type { Spool } from '../spool/spool.js';
import type { ProcessorOutput } from '../workers/registry.js';
import type { TokenCheck } from './auth.js';
import { wellFormed } from './filename.js';
import { jobIdParam } from './params.js';
import type { ReadinessProbe } from './readiness.js';
import { emptyReply, jsonReply, type Reply } from './reply.js';
import type { HttpRequest } from './request.js';
import type { Route } from './router.js';
import { isMultipartFormData, receiveUpload } from './upload.js';

export interface JobRoutesOptions {
  intake: Intake;
  reader: JobReader;
  control: JobControl;
  spool: Spool;
  metrics: Metrics;
  token: TokenCheck;
  /** Whether the store and the spool can take an upload; shared with `/readyz`. */
  readiness: ReadinessProbe;
  isProcessor(name: string): boolean;
  /** What the processor's output files are (download name suffix, content type); any name, registered or not. */
  outputOf(processor: string): ProcessorOutput;
  defaultProcessor: string;
  limits: { maxFileSize: number; maxFiles: number; maxUploadSize: number };
  /** Longest silence of an upload's body before it is cut off (`--upload-idle-timeout`, default 30 s). */
  idleTimeoutMs: number;
  /** Least rate of an upload's body over each idle-timeout window (`--upload-min-rate`, default 512 bytes/s; 0 off). */
  minBytesPerSecond: number;
  /** Uploads received at once (`--max-concurrent-uploads`, default 64); past it 503 `too_many_uploads`. */
  maxConcurrentUploads: number;
}

/** Uploads of one server whose bodies are being received right now. */
interface UploadCount {
  active: number;
}

/** `?wait=S` accepts 0..300 seconds (SPEC 2). */
const MAX_WAIT_S = 300;

export function jobRoutes(opts: JobRoutesOptions): Route[] {
  const uploads: UploadCount = { active: 0 };
  return [
    {
      pattern: /^\/jobs$/,
      methods: { POST: (request) => upload(opts, uploads, request), GET: (request) => list(opts, request) },
      bodyMethods: ['POST'],
    },
    {
      pattern: /^\/jobs\/(?<id>[^/]+)$/,
      methods: {
        GET: async (_request, params) => jsonReply(200, await opts.reader.get(jobIdParam(params))),
        DELETE: async (request, params) => {
          opts.token.require(request);
          await opts.control.delete(jobIdParam(params));
          return emptyReply(204);
        },
      },
    },
    {
      pattern: /^\/jobs\/(?<id>[^/]+)\/cancel$/,
      methods: {
        POST: async (request, params) => {
          opts.token.require(request);
          return jsonReply(200, await opts.control.cancel(jobIdParam(params)));
        },
      },
    },
    { pattern: /^\/jobs\/(?<id>[^/]+)\/files\/(?<index>[^/]+)\/output$/, methods: { GET: (_request, params) => output(opts, params) } },
  ];
}

/** POST /jobs: checks in SPEC order (auth, media type, body), then queues the job. */
async function upload(opts: JobRoutesOptions, uploads: UploadCount, request: HttpRequest): Promise<Reply> {
  const { intake, reader, spool, metrics } = opts;
  try {
    opts.token.require(request);
    if (!isMultipartFormData(request.headers['content-type'])) throw new JobcastError('unsupported_media_type');
    const waitMs = parseWait(request.query);
    intake.assertOpen();
    // Refuse before reading a byte when the queue is already full; checked again at create().
    await intake.assertRoomInQueue();
    // Likewise when the store or the spool cannot be written: the body would be wasted.
    await opts.readiness.assertUploadable();
    if (uploads.active >= opts.maxConcurrentUploads) {
      throw new JobcastError(
        'too_many_uploads',
        `--max-concurrent-uploads (${opts.maxConcurrentUploads}) uploads are already being received; retry after Retry-After seconds`,
        { 'retry-after': '1' },
      );
    }
    const id = nanoid();
    uploads.active++;
    let received;
    try {
      received = await receiveUpload(request, {
        spool,
        jobId: id,
        limits: opts.limits,
        idleTimeoutMs: opts.idleTimeoutMs,
        minBytesPerSecond: opts.minBytesPerSecond,
        isProcessor: opts.isProcessor,
      });
    } finally {
      uploads.active--;
    }
    let snapshot;
    try {
      snapshot = await intake.create({
        id,
        processor: received.processor ?? opts.defaultProcessor,
        label: received.label,
        options: received.options,
        failFast: received.failFast,
        files: received.files.map(({ index, name, size, type }) => ({ index, name, size, type })),
      });
    } catch (err) {
      await spool.removeJob(id);
      throw createFailure(err, opts.readiness);
    }
    metrics.uploadAccepted(received.bytes);
    if (waitMs !== null) {
      const final = await reader.waitForEnd(id, waitMs);
      if (final !== null) return jsonReply(200, final, { location: `/jobs/${id}` });
      snapshot = await reader.get(id);
    }
    return jsonReply(202, snapshot, { location: `/jobs/${id}` });
  } catch (err) {
    if (err instanceof JobcastError) metrics.uploadRefused(err.code);
    throw err;
  }
}

/**
 * The answer for a failed create of a job whose files are already on the spool: a store
 * that cannot be written is 503 `not_ready` (and turns away the next uploads before
 * their bodies are read), a spool disk that filled up while writing the job's options 507.
 */
function createFailure(error: unknown, readiness: ReadinessProbe): unknown {
  if (isJobcastError(error)) return error.code === 'not_ready' ? readiness.storeFailed(error.message) : error;
  return isDiskFull(error) ? new JobcastError('insufficient_storage') : error;
}

function parseWait(query: URLSearchParams): number | null {
  const text = query.get('wait');
  if (text === null) return null;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_WAIT_S) {
    throw new JobcastError('invalid_query', `wait must be a number of seconds from 0 to ${MAX_WAIT_S}, got '${text}'`);
  }
  return Math.round(seconds * 1000);
}

/** GET /jobs?status=&q=&limit=&cursor=: newest first, paged; `q` searches ids, labels and file names (the store checks it). */
async function list(opts: JobRoutesOptions, request: HttpRequest): Promise<Reply> {
  opts.token.require(request);
  const params = request.query;
  const status = params.get('status');
  if (status !== null && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new JobcastError('invalid_query', `status must be one of ${JOB_STATUSES.join(', ')}, got '${status}'`);
  }
  const limitText = params.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 500) {
    throw new JobcastError('invalid_query', `limit must be a whole number from 1 to 500, got '${limitText}'`);
  }
  const page = await opts.reader.list({
    limit,
    ...(status !== null && { status: status as JobStatus }),
    ...(params.has('cursor') && { cursor: params.get('cursor')! }),
    ...(params.has('q') && { q: params.get('q')! }),
  });
  return jsonReply(200, { jobs: page.jobs, next: page.next });
}

/** GET /jobs/{id}/files/{index}/output: the processor's output file, named and typed by its processor. */
async function output(opts: JobRoutesOptions, params: Record<string, string>): Promise<Reply> {
  const snapshot = await opts.reader.get(jobIdParam(params));
  const indexText = params.index!;
  const file = /^\d+$/.test(indexText) ? snapshot.files[Number(indexText)] : undefined;
  if (file === undefined || !file.output) throw new JobcastError('output_not_found');
  const path = opts.spool.outputPath(snapshot.id, file.index);
  // Its completion is stored before the output is published under this name (runner.ts).
  await opts.spool.recoverOutput(snapshot.id, file.index);
  const size = await stat(path).then((s) => s.size, () => null);
  if (size === null) throw new JobcastError('output_not_found');
  const produced = opts.outputOf(snapshot.processor);
  const name = `${basename(file.name.replaceAll('\\', '/')) || 'output'}${produced.suffix}`;
  const headers = {
    'content-type': produced.contentType,
    // wellFormed: a name stored before lone surrogates were cleaned would make encodeURIComponent throw.
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(wellFormed(name))}`,
  };
  return { status: 200, headers, body: { kind: 'file', path, size } };
}
