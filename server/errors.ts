// Every error code jobcast answers with, its HTTP status where it applies, in one place.
// Codes are part of the public contract (SPEC 2.1, 2.2, 3.3, 4): never rename one.

export const ERRORS = {
  // HTTP: upload (SPEC 2.1)
  unsupported_media_type: { status: 415, message: 'the body must be multipart/form-data' },
  malformed_multipart: { status: 400, message: 'the multipart body cannot be parsed or ends early' },
  no_files: { status: 400, message: 'the upload carried no file part' },
  unknown_processor: { status: 400, message: 'no processor of that name is registered' },
  invalid_field: { status: 400, message: 'a form field has an invalid value' },
  file_too_large: { status: 413, message: 'a file exceeds --max-file-size' },
  too_many_files: { status: 413, message: 'the upload has more files than --max-files' },
  upload_too_large: { status: 413, message: 'the body exceeds --max-upload-size' },
  unauthorized: { status: 401, message: 'a valid token is required: send Authorization: Bearer <token>' },
  queue_full: { status: 503, message: '--max-queued-jobs jobs are already waiting; retry later' },
  too_many_uploads: { status: 503, message: '--max-concurrent-uploads uploads are already being received; retry after Retry-After seconds' },
  upload_too_slow: { status: 408, message: 'the body arrived slower than --upload-min-rate; the upload is cut off' },
  insufficient_storage: { status: 507, message: 'the spool disk is full' },
  // HTTP: requests that are not HTTP Node can parse (answered before any route)
  malformed_request: { status: 400, message: 'the request is not valid HTTP/1.1' },
  headers_too_large: { status: 431, message: 'the request headers exceed 16 KiB' },
  request_timeout: { status: 408, message: 'the request headers did not arrive in time' },
  // HTTP: requests refused before any route (DNS rebinding, bodies nobody reads)
  misdirected_request: {
    status: 421,
    message: 'the Host header names a host this server does not answer as; add it with --allowed-hosts',
  },
  body_not_allowed: { status: 413, message: 'this route takes no request body; send none (Content-Length: 0 is fine)' },
  // HTTP: other routes (SPEC 2.2)
  job_not_found: { status: 404, message: 'no job has that id' },
  output_not_found: { status: 404, message: 'that file produced no output' },
  job_active: { status: 409, message: 'the job is queued or running: cancel it first' },
  job_finished: { status: 409, message: 'the job has already finished' },
  invalid_query: { status: 400, message: 'a query parameter has an invalid value' },
  method_not_allowed: { status: 405, message: 'this path does not take that method' },
  not_found: { status: 404, message: 'no such route' },
  // Server-side conditions
  not_ready: { status: 503, message: 'the server is not ready: the store or the spool is unavailable' },
  too_many_connections: {
    status: 503,
    message: 'the server holds --max-connections (or your address --max-connections-per-ip) connections; close idle ones or retry later',
  },
  shutting_down: { status: 503, message: 'the server is shutting down; retry on another instance or later' },
  internal_error: { status: 500, message: 'an unexpected error happened; see the server log' },
  // Never answered: the store refuses an append by a process that no longer owns the job
  // (SPEC 6 fencing); that process stops the job's run and writes nothing more.
  fenced: { status: 409, message: 'this process no longer owns the job: a newer claim or a cancel took it' },
  // WebSocket (SPEC 3.3): sent as {"type":"error"} messages, not HTTP statuses
  bad_message: { status: 400, message: 'the message is not a valid jobcast request' },
  too_many_subscriptions: { status: 400, message: 'this connection has reached --max-subscriptions' },
  too_many_messages: {
    status: 429,
    message: 'this connection sent more messages than --max-messages-per-second allows; it is closed with 1008',
  },
  // File failures (SPEC 4), reported in file.failed
  processor_error: { status: 500, message: 'the processor threw' },
  timeout: { status: 500, message: 'the processor exceeded --file-timeout' },
  worker_crashed: { status: 500, message: 'the worker thread running the processor died' },
  // Job failures, reported in job.failed
  files_failed: { status: 500, message: 'one or more files failed' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Codes that stay inside the server: never in an HTTP answer, a socket message or an event. */
export const INTERNAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['fenced']);

/** WebSocket close codes (SPEC 3.3). */
export const CLOSE_CODES = {
  shutdown: 1001,
  policy: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;

/** An error with a stable code; HTTP handlers turn it into `{"error": {code, message}}`. */
export class JobcastError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After for queue_full. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, headers: Record<string, string> = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'JobcastError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = headers;
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isJobcastError(value: unknown): value is JobcastError {
  return value instanceof JobcastError;
}

/** 421 for a request (or WebSocket upgrade) whose Host the server does not answer as (DNS rebinding). */
export function misdirectedRequest(host: string | undefined): JobcastError {
  const shown = host === undefined ? '' : ` as '${host.slice(0, 100)}'`;
  return new JobcastError('misdirected_request', `this server does not answer${shown}; add the name with --allowed-hosts`);
}
