// Receiving an upload (SPEC 2.1): a multipart/form-data body is parsed with busboy,
// every file part is streamed to the spool as it arrives, and the text fields are
// checked. The disk throttles the parser: a slow write stream pauses busboy's file
// stream, busboy then holds its write callback, and we pause the request.
//
// A body that stops arriving is cut off after `idleTimeoutMs` of silence (slowloris):
// the server's requestTimeout is off so that large uploads may take hours, so without
// this a client sending a byte now and then would hold a socket, a parser and open
// spool files for ever. A body that arrives, but slower than `minBytesPerSecond` over a
// window of that length, is cut off too (upload-pace.ts): a byte now and then would
// otherwise keep its upload slot. Only the client's time counts: while the disk holds
// the parser back, the request is paused and both clocks stopped.
//
// Whatever goes wrong, no file stays behind: every write stream is closed and the job's
// spool folder removed before the promise rejects. The request itself is left alone
// (never destroyed, which would kill the socket) so the caller can still answer with
// sendError, which resumes it and closes the connection.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { JobcastError } from '../errors.js';
import type { FileDescriptor } from '../protocol/types.js';
import { cleanFilename } from './filename.js';
import { installPartHeaderFilter } from './part-header-filter.js';
import type { Spool } from '../spool/spool.js';
import { applyField, MAX_LABEL_CHARS, UPLOAD_FIELDS, type UploadFields } from './upload-fields.js';
import { UploadPace } from './upload-pace.js';

export { MAX_LABEL_CHARS };

/** Largest text field value in bytes: 64 KiB is far beyond any sane `options` object. */
export const MAX_FIELD_BYTES = 64 * 1024;
/** Most text fields in one upload: four are meaningful, the rest leaves room for forms with extra inputs. */
export const MAX_FIELDS = 100;

/**
 * Longest silence of the body before the upload is cut off, when UploadOptions does
 * not say: 30 s, the default of `--upload-idle-timeout`. Long enough for a stalled
 * mobile link to recover, short enough that idle sockets cannot pile up.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Least body rate in bytes per second when UploadOptions does not say: 512, the default of `--upload-min-rate`. */
export const DEFAULT_MIN_BYTES_PER_SECOND = 512;


/** What receiveUpload needs. */
export interface UploadOptions {
  /** Where the files go: `spool.inputPath(jobId, index)`. */
  spool: Spool;
  /** The id the job will have; its spool folder is created here and removed on failure. */
  jobId: string;
  limits: {
    /** Largest single file in bytes (`--max-file-size`, default 1GiB). */
    maxFileSize: number;
    /** Most files in the upload (`--max-files`, default 1000). */
    maxFiles: number;
    /** Largest request body in bytes (`--max-upload-size`, default 10GiB). */
    maxUploadSize: number;
  };
  /** Whether a processor of that name is registered. */
  isProcessor(name: string): boolean;
  /** Longest wait for the next body bytes, in ms (`--upload-idle-timeout`); default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /**
   * Least body rate over each idle-timeout window of the client's time (`--upload-min-rate`,
   * see upload-pace.ts); 0 turns it off. Default DEFAULT_MIN_BYTES_PER_SECOND.
   */
  minBytesPerSecond?: number;
}

/** A fully received upload: every file is written, closed and counted. */
export interface ReceivedUpload {
  /** The `processor` field, or null when absent (the server's default applies). */
  processor: string | null;
  /** The `label` field, or null when absent. */
  label: string | null;
  /** The `options` field parsed; `{}` when absent. */
  options: Record<string, unknown>;
  /** The `failFast` field; false when absent. */
  failFast: boolean;
  /** The files in the order received, with their spool path. */
  files: Array<FileDescriptor & { path: string }>;
  /** Sum of the files' sizes in bytes. */
  bytes: number;
}

/**
 * Reads a `POST /jobs` body into the spool. Resolves once every file is on disk;
 * rejects with a JobcastError for every SPEC 2.1 error row except 401 and 503 (the
 * route checks those), after removing whatever was written.
 */
export function receiveUpload(req: IncomingMessage, options: UploadOptions): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    new UploadReceiver(req, options, resolve, reject).start();
  });
}

// busboy already gives a part without Content-Type RFC 7578's default, text/plain; this
// covers a Content-Type header that is present but empty.
const DEFAULT_FILE_TYPE = 'application/octet-stream';


type FileStream = Readable & { truncated?: boolean };

interface SpooledFile {
  descriptor: FileDescriptor & { path: string };
  source: FileStream;
  sink: WriteStream;
  /** Resolves when the write stream has closed, whether it finished or failed. */
  closed: Promise<void>;
}

class UploadReceiver {
  private readonly files: SpooledFile[] = [];
  private readonly fields: UploadFields = { processor: null, label: null, options: {}, failFast: false };
  private readonly seenFields = new Set<string>();
  private parser: busboy.Busboy | null = null;
  private jobDirReady: Promise<unknown> = Promise.resolve();
  private bodyBytes = 0;
  private isSettled = false;
  /** Parts busboy reported as a file or a field. */
  private partsSeen = 0;
  /** busboy's delimiter search, for skippedParts(). */
  private delimiterSearch: { matches?: unknown } | null = null;
  /** Runs while the upload waits for the client's next bytes. */
  private idleTimer: NodeJS.Timeout | null = null;
  /** The least pace the body must keep; its clock runs when the idle clock does. */
  private readonly pace: UploadPace;

  constructor(
    private readonly req: IncomingMessage,
    private readonly options: UploadOptions,
    private readonly resolve: (upload: ReceivedUpload) => void,
    private readonly reject: (error: JobcastError) => void,
  ) {
    this.pace = new UploadPace({
      windowMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      minBytesPerSecond: options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
      onTooSlow: (error) => this.fail(error),
    });
  }

  start(): void {
    const { req, options } = this;
    // SPEC 2.1: the media type is checked before the body; busboy would also take urlencoded.
    if (!isMultipartFormData(req.headers['content-type'])) {
      return this.fail(new JobcastError('unsupported_media_type'));
    }
    if (Number(req.headers['content-length']) > options.limits.maxUploadSize) {
      return this.fail(tooLargeBody(options.limits.maxUploadSize));
    }
    if (req.readableAborted || (req.destroyed && !req.complete)) {
      return this.fail(endedEarly());
    }
    try {
      options.spool.jobDir(options.jobId); // throws for an id the spool refuses: a bug of the caller
    } catch (error) {
      return this.fail(new JobcastError('internal_error', messageOf(error)));
    }
    try {
      this.parser = this.createParser(); // throws for a missing boundary
    } catch (error) {
      return this.fail(error instanceof JobcastError ? error : unparsable(error));
    }
    // Listen for an abort while the folder is being made; the body waits in the paused request.
    req.on('close', this.reqOnClose);
    req.on('error', this.reqOnClose);
    const dirReady = options.spool.createJobDir(options.jobId);
    this.jobDirReady = dirReady.catch(() => undefined);
    dirReady.then(
      () => {
        if (this.isSettled) return;
        req.on('data', this.reqOnData);
        req.on('end', this.reqOnEnd);
        this.watchIdle();
      },
      (error: unknown) => this.fail(storageError(error)),
    );
  }

  private createParser(): busboy.Busboy {
    const { maxFileSize, maxFiles } = this.options.limits;
    const parser = busboy({
      headers: this.req.headers,
      // Keep directory parts of filenames (SPEC 2.1); busboy strips them by default.
      preservePath: true,
      // busboy decodes a plain `filename="..."` as latin1 by default, which turns the raw
      // UTF-8 that browsers send into mojibake (busboy #316, #339).
      defParamCharset: 'utf8',
      limits: {
        // busboy flags a file or field as truncated when it *reaches* the limit, so a file
        // of exactly maxFileSize would be refused; +1 makes it fire only beyond (multer #1402).
        fileSize: maxFileSize + 1,
        fieldSize: MAX_FIELD_BYTES + 1,
        fields: MAX_FIELDS,
        // partsLimit fires when the Nth part ends, even the last one: +1 for the same reason.
        // No `files` limit: busboy would count empty file inputs, which are not files here.
        parts: maxFiles + MAX_FIELDS + 1,
      },
    });
    try {
      // Part headers may hold the control characters browsers send in file names.
      installPartHeaderFilter(parser);
    } catch (error) {
      throw new JobcastError('internal_error', messageOf(error));
    }
    // Kept now: busboy swaps the search out once it reaches the closing delimiter.
    this.delimiterSearch = (parser as unknown as { _bparser?: { matches?: unknown } })._bparser ?? null;
    parser.on('file', this.parserOnFile);
    parser.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      this.partsSeen += 1;
      if (this.isAfterClosingDelimiter()) return this.fail(partAfterEnd());
      this.parserOnField(name, value, info);
    });
    parser.on('partsLimit', () => {
      this.fail(new JobcastError('too_many_files', `the upload has more than ${maxFiles + MAX_FIELDS} parts`));
    });
    parser.on('fieldsLimit', () => {
      this.fail(new JobcastError('invalid_field', `the upload has more than ${MAX_FIELDS} text fields`));
    });
    parser.on('drain', () => {
      if (this.isSettled) return;
      this.req.resume();
      this.watchIdle();
    });
    // Stays attached after a failure: destroying the parser mid-body makes it emit one more error.
    parser.on('error', (error: unknown) => this.fail(unparsable(error)));
    parser.on('finish', () => void this.parserOnFinish());
    return parser;
  }

  private readonly reqOnData = (chunk: Buffer): void => {
    if (this.isSettled) return;
    // Counted here because a chunked body has no Content-Length to check up front.
    this.bodyBytes += chunk.length;
    this.pace.add(chunk.length);
    if (this.bodyBytes > this.options.limits.maxUploadSize) {
      return this.fail(tooLargeBody(this.options.limits.maxUploadSize));
    }
    if ((this.parser as busboy.Busboy).write(chunk)) {
      this.idleTimer?.refresh();
    } else {
      // The disk is behind: we stop reading, so the client's silence from now on is ours.
      this.req.pause();
      this.unwatchIdle();
    }
  };

  private readonly reqOnEnd = (): void => {
    this.unwatchIdle();
    if (!this.isSettled) this.parser?.end();
  };

  private readonly reqOnIdle = (): void => {
    const ms = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    // The route answers 400 with Connection: close, which also closes the socket.
    this.fail(new JobcastError('malformed_multipart', `no body bytes arrived for ${ms} ms; the upload is cut off`));
  };

  /** Starts (or restarts) the idle clock and the pace's clock. */
  private watchIdle(): void {
    this.pace.start();
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(this.reqOnIdle, this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
      this.idleTimer.unref();
    } else {
      this.idleTimer.refresh();
    }
  }

  private unwatchIdle(): void {
    this.pace.stop();
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  // 'close' also follows a complete body; only an incomplete one is an error (client abort).
  private readonly reqOnClose = (): void => {
    if (!this.req.complete) this.fail(endedEarly());
  };

  private readonly parserOnFile = (name: string, stream: FileStream, info: busboy.FileInfo): void => {
    this.partsSeen += 1;
    // busboy destroys the stream of a part cut short and reports the same fault on the
    // parser; this listener keeps that error from going unhandled.
    stream.on('error', (error: unknown) => {
      this.fail(new JobcastError('malformed_multipart', `a file part is incomplete: ${messageOf(error)}`));
    });
    if (this.isSettled) {
      stream.resume();
    } else if (this.isAfterClosingDelimiter()) {
      stream.resume();
      this.fail(partAfterEnd());
    } else if (info.filename) {
      this.acceptFile(stream, info.filename, info.mimeType);
    } else if (UPLOAD_FIELDS.has(name)) {
      // busboy hands over any application/octet-stream part as a file (npm form-data sends
      // Buffers that way); one named like a text field of SPEC 2.1 is read as that field.
      this.readStreamedField(name, stream);
    } else {
      this.acceptUnnamedFile(stream, info.mimeType);
    }
  };

  // busboy reports filename="" as no filename at all. A browser sends an <input type="file">
  // left empty as exactly such a part, with no bytes: that is no file, so it is skipped.
  // One that carries bytes is a file with an empty name; we learn which at its first chunk.
  private acceptUnnamedFile(stream: FileStream, mimeType: string): void {
    const onData = (chunk: Buffer): void => {
      stream.off('data', onData);
      stream.pause();
      stream.unshift(chunk);
      if (this.isSettled) stream.resume();
      else this.acceptFile(stream, '', mimeType);
    };
    stream.on('data', onData);
  }

  private acceptFile(stream: FileStream, filename: string, mimeType: string): void {
    const { spool, jobId, limits } = this.options;
    if (this.files.length >= limits.maxFiles) {
      stream.resume();
      return this.fail(new JobcastError('too_many_files', `the upload has more than ${limits.maxFiles} files`));
    }
    const index = this.files.length;
    const name = cleanFilename(filename);
    const path = spool.inputPath(jobId, index);
    const sink = createWriteStream(path);
    const closed = new Promise<void>((resolve) => sink.once('close', resolve));
    const descriptor = { index, name, size: 0, type: mimeType || DEFAULT_FILE_TYPE, path };
    this.files.push({ descriptor, source: stream, sink, closed });
    sink.on('error', (error: unknown) => this.fail(storageError(error)));
    const onLimit = (): void => this.fail(tooLargeFile(index, name, limits.maxFileSize));
    // An unnamed file may have hit the limit before it was accepted here.
    if (stream.truncated) return onLimit();
    stream.on('limit', onLimit);
    stream.pipe(sink);
  }

  private readStreamedField(name: string, stream: FileStream): void {
    const chunks: Buffer[] = [];
    let size = 0;
    // Fails at once: reading on to the end of an oversized field would change nothing.
    const onOverflow = (): void => this.parserOnField(name, '', { valueTruncated: true });
    stream.on('limit', onOverflow);
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FIELD_BYTES) onOverflow();
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      if (size > MAX_FIELD_BYTES || stream.truncated) return;
      this.parserOnField(name, Buffer.concat(chunks).toString('utf8'), { valueTruncated: false });
    });
  }

  private readonly parserOnField = (name: string, value: string, info: { valueTruncated: boolean }): void => {
    if (this.isSettled || !UPLOAD_FIELDS.has(name)) return; // SPEC 2.1: unknown text fields are ignored
    if (this.seenFields.has(name)) {
      return this.fail(new JobcastError('invalid_field', `the field '${name}' is sent more than once`));
    }
    this.seenFields.add(name);
    if (info.valueTruncated) {
      return this.fail(new JobcastError('invalid_field', `the field '${name}' is larger than ${MAX_FIELD_BYTES} bytes`));
    }
    const error = applyField(this.fields, name, value, this.options.isProcessor);
    if (error) this.fail(error);
  };

  private async parserOnFinish(): Promise<void> {
    await Promise.all(this.files.map((file) => file.closed));
    if (this.isSettled) return;
    for (const { source, sink, descriptor } of this.files) {
      // Belt and braces for STYLE trap 2: a truncated or unfinished file is never a job.
      if (source.truncated) return this.fail(tooLargeFile(descriptor.index, descriptor.name, this.options.limits.maxFileSize));
      if (!sink.writableFinished) return this.fail(new JobcastError('internal_error', 'a spool file was not completely written'));
      descriptor.size = sink.bytesWritten;
    }
    const skipped = this.skippedParts();
    if (skipped > 0) {
      const what = `${skipped} part(s) cannot be read: no valid Content-Disposition: form-data header, or the boundary inside the data`;
      return this.fail(new JobcastError('malformed_multipart', `the multipart body cannot be parsed: ${what}`));
    }
    if (this.files.length === 0) return this.fail(new JobcastError('no_files'));
    this.isSettled = true;
    this.detachRequest();
    const files = this.files.map((file) => file.descriptor);
    this.resolve({ ...this.fields, files, bytes: files.reduce((sum, file) => sum + file.size, 0) });
  }

  /**
   * Parts busboy dropped without a word: one whose Content-Disposition is missing, cannot
   * be parsed (a `filename*` with bad percent-encoding or an unknown charset) or is not
   * form-data, and "\r\n--boundary" followed by neither CRLF nor "--", which ends the file
   * before it and throws away what follows. Unnoticed, both turn into a job missing a file
   * or holding a shortened one (STYLE trap 2). busboy has no event for them, but its
   * delimiter search (streamsearch) counts every match: one per part plus the closing
   * one. That count is not public API: when it is missing this returns 0, and
   * test/fuzz-upload.test.ts fails on its `bad filename*` cases. The count also takes in
   * a delimiter after the closing one within the same chunk, so a body that repeats the
   * delimiter in its epilogue may be refused: a refusal, never a job with a lost file.
   */
  private skippedParts(): number {
    const matches = this.delimiterSearch?.matches;
    return typeof matches === 'number' ? Math.max(0, matches - 1 - this.partsSeen) : 0;
  }

  /**
   * True once busboy has read the closing delimiter. It still parses the rest of the chunk
   * that held it, so a part after the end can surface; a file there is never ended, and
   * busboy then waits for it for ever: the upload would hang with its spool file open,
   * even after the client leaves (the body was complete). Private state of busboy 1.6,
   * like skippedParts(); test/upload-dropped-parts.test.ts pins the behaviour.
   */
  private isAfterClosingDelimiter(): boolean {
    return (this.parser as unknown as { _complete?: unknown } | null)?._complete === true;
  }

  /** Stops everything at once, removes what was written, then rejects with `error`. */
  private fail(error: JobcastError): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.detachRequest();
    // The caller's sendError resumes the request; until then the client waits on TCP.
    this.req.pause();
    void this.removeEverything().then(() => this.reject(error));
  }

  private async removeEverything(): Promise<void> {
    // Most failures are found inside a busboy event ('limit', 'field', ...), and busboy
    // goes on touching its state after emitting: destroying it there throws inside busboy.
    await new Promise((resolve) => process.nextTick(resolve));
    this.parser?.destroy();
    for (const { source, sink } of this.files) {
      source.unpipe(sink);
      source.resume();
      sink.destroy();
    }
    await this.jobDirReady;
    await Promise.all(this.files.map((file) => file.closed));
    // A failed removal leaves the folder to Spool.sweepOrphans at the next start; the
    // client's error stays the one to report.
    await this.options.spool.removeJob(this.options.jobId).catch(() => undefined);
  }

  private detachRequest(): void {
    this.unwatchIdle();
    this.req.off('data', this.reqOnData);
    this.req.off('end', this.reqOnEnd);
    this.req.off('close', this.reqOnClose);
    this.req.off('error', this.reqOnClose);
  }
}

function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0].trim().toLowerCase() === 'multipart/form-data';
}

function tooLargeBody(maxUploadSize: number): JobcastError {
  return new JobcastError('upload_too_large', `the body exceeds --max-upload-size (${maxUploadSize} bytes)`);
}

function tooLargeFile(index: number, name: string, maxFileSize: number): JobcastError {
  return new JobcastError('file_too_large', `file ${index} (${JSON.stringify(name)}) exceeds --max-file-size (${maxFileSize} bytes)`);
}

function unparsable(error: unknown): JobcastError {
  return new JobcastError('malformed_multipart', `the multipart body cannot be parsed: ${messageOf(error)}`);
}

function partAfterEnd(): JobcastError {
  return new JobcastError('malformed_multipart', 'the multipart body cannot be parsed: a part follows the closing delimiter');
}

function endedEarly(): JobcastError {
  return new JobcastError('malformed_multipart', 'the request ended before the multipart body was complete');
}

/** ENOSPC and EDQUOT are a full disk (507); any other spool failure is ours (500). */
function storageError(error: unknown): JobcastError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new JobcastError('insufficient_storage');
  return new JobcastError('internal_error', `the spool cannot be written: ${code ?? messageOf(error)}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
