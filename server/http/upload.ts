// Receiving an upload (SPEC 2.1): a multipart/form-data body is parsed with busboy,
// every file part is streamed to the spool as it arrives, and the text fields are
// checked. The disk throttles the parser: a slow write stream pauses busboy's file
// stream, busboy then holds its write callback, and we pause the request.
//
// A body that stops arriving is cut off after `idleTimeoutMs` of silence (slowloris):
// the server's requestTimeout is off so that large uploads may take hours, so without
// this a client sending a byte now and then would hold a socket, a parser and open
// spool files for ever. A body that arrives, but slower than `minBytesPerSecond` over a
// window of that length, is cut off too: a byte now and then would otherwise keep its
// upload slot. Only the client's time counts (body-clock.ts).
//
// Whatever goes wrong, no file stays behind: every write stream is closed and the job's
// spool folder removed before the promise rejects. The body itself is left alone, paused
// (never destroyed, which would kill the connection), so that the caller can still
// answer: the engine then lets the client finish sending before it closes the connection.
//
// Engine-neutral: busboy sees the request's headers and body bytes only (request.ts).

import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { JobcastError, spoolWriteError } from '../errors.js';
import type { FileDescriptor } from '../protocol/types.js';
import { cleanFilename } from './filename.js';
import { installPartHeaderFilter } from './part-header-filter.js';
import type { Spool } from '../spool/spool.js';
import { applyField, MAX_LABEL_CHARS, UPLOAD_FIELDS, type UploadFields } from './upload-fields.js';
import { BodyClock } from './body-clock.js';
import { BusboyProbe } from './busboy-probe.js';
import type { HttpRequest, RequestBody } from './request.js';

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
export function receiveUpload(request: HttpRequest, options: UploadOptions): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    new UploadReceiver(request, options, resolve, reject).start();
  });
}

/** Whether a Content-Type is multipart/form-data (SPEC 2.1; busboy would also take urlencoded). */
export function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0].trim().toLowerCase() === 'multipart/form-data';
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
  private probe: BusboyProbe | null = null;
  private jobDirReady: Promise<unknown> = Promise.resolve();
  private bodyBytes = 0;
  private isSettled = false;
  /** Parts busboy reported as a file or a field. */
  private partsSeen = 0;
  /** Runs while the server reads the body: the client's silence and pace. */
  private readonly clock: BodyClock;

  /** The request's body bytes. */
  private readonly bodyStream: Readable;
  private readonly body: RequestBody;

  constructor(
    private readonly request: HttpRequest,
    private readonly options: UploadOptions,
    private readonly resolve: (upload: ReceivedUpload) => void,
    private readonly reject: (error: JobcastError) => void,
  ) {
    this.body = request.body;
    this.bodyStream = request.body.stream;
    this.clock = new BodyClock({
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      minBytesPerSecond: options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
      onTimeout: (error) => this.fail(error),
    });
  }

  start(): void {
    const { bodyStream, options, request } = this;
    // SPEC 2.1: the media type is checked before the body; busboy would also take urlencoded.
    if (!isMultipartFormData(request.headers['content-type'])) {
      return this.fail(new JobcastError('unsupported_media_type'));
    }
    if (Number(request.headers['content-length']) > options.limits.maxUploadSize) {
      return this.fail(tooLargeBody(options.limits.maxUploadSize));
    }
    if (this.body.hasEndedEarly) {
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
    // Listen for the client leaving while the folder is being made; the body waits, paused.
    request.signal.addEventListener('abort', this.bodyOnCut);
    bodyStream.on('error', this.bodyOnCut);
    const dirReady = options.spool.createJobDir(options.jobId);
    this.jobDirReady = dirReady.catch(() => undefined);
    dirReady.then(
      () => {
        if (this.isSettled) return;
        bodyStream.on('data', this.bodyOnData);
        bodyStream.on('end', this.bodyOnEnd);
        this.clock.start();
      },
      (error: unknown) => this.fail(spoolWriteError(error)),
    );
  }

  private createParser(): busboy.Busboy {
    const { maxFileSize, maxFiles } = this.options.limits;
    const parser = busboy({
      headers: this.request.headers,
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
    this.probe = new BusboyProbe(parser);
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
      this.bodyStream.resume();
      this.clock.start();
    });
    // Stays attached after a failure: destroying the parser mid-body makes it emit one more error.
    parser.on('error', (error: unknown) => this.fail(unparsable(error)));
    parser.on('finish', () => void this.parserOnFinish());
    return parser;
  }

  private readonly bodyOnData = (chunk: Buffer): void => {
    if (this.isSettled) return;
    // Counted here because a chunked body has no Content-Length to check up front.
    this.bodyBytes += chunk.length;
    this.clock.received(chunk.length);
    if (this.bodyBytes > this.options.limits.maxUploadSize) {
      return this.fail(tooLargeBody(this.options.limits.maxUploadSize));
    }
    if (!(this.parser as busboy.Busboy).write(chunk)) {
      // The disk is behind: we stop reading, so the client's silence from now on is ours.
      this.bodyStream.pause();
      this.clock.stop();
    }
  };

  private readonly bodyOnEnd = (): void => {
    this.clock.stop();
    if (!this.isSettled) this.parser?.end();
  };

  // The client left, or the body stream broke: an error unless the body was complete
  // (the client may leave while the files are still being written).
  private readonly bodyOnCut = (): void => {
    if (!this.body.isComplete) this.fail(endedEarly());
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
    sink.on('error', (error: unknown) => this.fail(spoolWriteError(error)));
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
    const skipped = this.probe?.skippedParts(this.partsSeen) ?? 0;
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

  /** A part after the closing delimiter would never end, and the upload would hang (busboy-probe.ts). */
  private isAfterClosingDelimiter(): boolean {
    return this.probe?.isAfterClosingDelimiter() === true;
  }

  /** Stops everything at once, removes what was written, then rejects with `error`. */
  private fail(error: JobcastError): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.detachRequest();
    // The engine reads on (and discards) what the client still sends once the refusal is
    // out; until then the client waits on TCP.
    this.bodyStream.pause();
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
    this.clock.stop();
    this.bodyStream.off('data', this.bodyOnData);
    this.bodyStream.off('end', this.bodyOnEnd);
    this.bodyStream.off('error', this.bodyOnCut);
    this.request.signal.removeEventListener('abort', this.bodyOnCut);
  }
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
