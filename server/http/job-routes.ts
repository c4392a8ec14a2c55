// The job routes of SPEC 2: upload, read, list, cancel, delete, outputs.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { nanoid } from 'nanoid';
import { JobcastError, isJobcastError } from '../errors.js';
import type { JobControl } from '../jobs/control.js';
import type { Intake } from '../jobs/intake.js';
import type { JobReader } from '../jobs/reader.js';
import type { Metrics } from '../metrics.js';
import { JOB_STATUSES, type JobStatus } from '../protocol/types.js';
import { sendJson } from './respond.js';
import type { RequestContext, Route } from './router.js';
import type { TokenCheck } from './auth.js';
import type { Spool } from '../spool/spool.js';
import type { ReadinessProbe } from './readiness.js';
import { receiveUpload } from './upload.js';
import { wellFormed } from './filename.js';

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
/** Ids are nanoid()s; anything else is answered job_not_found without touching the store. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function jobRoutes(opts: JobRoutesOptions): Route[] {
  const uploads: UploadCount = { active: 0 };
  return [
    {
      pattern: /^\/jobs$/,
      methods: { POST: (ctx) => upload(opts, uploads, ctx), GET: (ctx) => list(opts, ctx) },
      bodyMethods: ['POST'],
    },
    {
      pattern: /^\/jobs\/(?<id>[^/]+)$/,
      methods: {
        GET: async (ctx) => sendJson(ctx.res, 200, await opts.reader.get(jobId(ctx))),
        DELETE: async (ctx) => {
          opts.token.require(ctx.req, ctx.url);
          await opts.control.delete(jobId(ctx));
          ctx.res.writeHead(204).end();
        },
      },
    },
    {
      pattern: /^\/jobs\/(?<id>[^/]+)\/cancel$/,
      methods: {
        POST: async (ctx) => {
          opts.token.require(ctx.req, ctx.url);
          sendJson(ctx.res, 200, await opts.control.cancel(jobId(ctx)));
        },
      },
    },
    { pattern: /^\/jobs\/(?<id>[^/]+)\/files\/(?<index>[^/]+)\/output$/, methods: { GET: (ctx) => output(opts, ctx) } },
  ];
}

function jobId(ctx: RequestContext): string {
  const id = ctx.params.id!;
  if (!JOB_ID.test(id)) throw new JobcastError('job_not_found');
  return id;
}

/** POST /jobs: checks in SPEC order (auth, media type, body), then queues the job. */
async function upload(opts: JobRoutesOptions, uploads: UploadCount, ctx: RequestContext): Promise<void> {
  const { intake, reader, spool, metrics } = opts;
  const { req, res, url } = ctx;
  try {
    opts.token.require(req, url);
    if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) throw new JobcastError('unsupported_media_type');
    const waitMs = parseWait(url);
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
      received = await receiveUpload(req, {
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
      if (final !== null) return sendJson(res, 200, final, { location: `/jobs/${id}` });
      snapshot = await reader.get(id);
    }
    sendJson(res, 202, snapshot, { location: `/jobs/${id}` });
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
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new JobcastError('insufficient_storage') : error;
}

function parseWait(url: URL): number | null {
  const text = url.searchParams.get('wait');
  if (text === null) return null;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_WAIT_S) {
    throw new JobcastError('invalid_query', `wait must be a number of seconds from 0 to ${MAX_WAIT_S}, got '${text}'`);
  }
  return Math.round(seconds * 1000);
}

/** GET /jobs?status=&q=&limit=&cursor=: newest first, paged; `q` searches ids, labels and file names (the store checks it). */
async function list(opts: JobRoutesOptions, ctx: RequestContext): Promise<void> {
  opts.token.require(ctx.req, ctx.url);
  const params = ctx.url.searchParams;
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
  sendJson(ctx.res, 200, { jobs: page.jobs, next: page.next });
}

/** GET /jobs/{id}/files/{index}/output: streams the processor's output file. */
async function output(opts: JobRoutesOptions, ctx: RequestContext): Promise<void> {
  const snapshot = await opts.reader.get(jobId(ctx));
  const indexText = ctx.params.index!;
  const file = /^\d+$/.test(indexText) ? snapshot.files[Number(indexText)] : undefined;
  if (file === undefined || !file.output) throw new JobcastError('output_not_found');
  const path = opts.spool.outputPath(snapshot.id, file.index);
  // Its completion is stored before the output is published under this name (runner.ts).
  await opts.spool.recoverOutput(snapshot.id, file.index);
  const size = await stat(path).then((s) => s.size, () => null);
  if (size === null) throw new JobcastError('output_not_found');
  const name = `${basename(file.name.replaceAll('\\', '/')) || 'output'}${snapshot.processor === 'gzip' ? '.gz' : '.out'}`;
  ctx.res.writeHead(200, {
    'content-type': snapshot.processor === 'gzip' ? 'application/gzip' : 'application/octet-stream',
    'content-length': size,
    // wellFormed: a name stored before lone surrogates were cleaned would make encodeURIComponent throw.
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(wellFormed(name))}`,
  });
  if (ctx.req.method === 'HEAD') return void ctx.res.end();
  await pipeline(createReadStream(path), ctx.res).catch(() => ctx.res.destroy());
}
