// The public data model of jobcast (SPEC sections 3.1 to 3.3).
// This folder must stay free of node: imports: the browser bundles it.

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type FileStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const FILE_STATUSES: readonly FileStatus[] = ['pending', 'running', 'done', 'failed', 'cancelled'];

/**
 * Whether `text` has the shape of a job id: 1 to 64 of `A-Za-z0-9_-`. Ids are nanoid()s
 * (21 URL-safe characters); the wider shape leaves room for other id schemes while
 * excluding `.`, `..`, separators and anything else path-like. Anything else names no
 * job, and is answered so without asking the store.
 */
export function isJobId(text: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(text);
}

/** A job status from which nothing moves on. */
export function isFinalStatus(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export interface ErrorInfo {
  code: string;
  message: string;
}

/** What an upload says about one of its files (the `files` of `job.queued`). */
export interface FileDescriptor {
  index: number;
  name: string;
  size: number;
  type: string;
}

export interface FileState extends FileDescriptor {
  status: FileStatus;
  done: number;
  total: number;
  fraction: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  result: unknown;
  error: ErrorInfo | null;
  output: boolean;
}

export interface JobProgress {
  filesTotal: number;
  filesDone: number;
  filesFailed: number;
  bytesTotal: number;
  fraction: number;
}

export interface Snapshot {
  id: string;
  seq: number;
  status: JobStatus;
  processor: string;
  label: string | null;
  failFast: boolean;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  queuePosition: number | null;
  progress: JobProgress;
  files: FileState[];
  error: ErrorInfo | null;
}

/** Event payloads by name (SPEC 3.2). */
export interface EventDataMap {
  'job.queued': { processor: string; label: string | null; failFast: boolean; files: FileDescriptor[]; position: number };
  'job.started': Record<string, never>;
  'file.started': { file: number };
  'file.progress': {
    file: number;
    done: number;
    total: number;
    fraction: number;
    rate: number | null;
    etaMs: number | null;
    jobEtaMs: number | null;
  };
  'file.completed': { file: number; durationMs: number; result: unknown; output: boolean };
  'file.failed': { file: number; durationMs: number; error: ErrorInfo };
  /**
   * `store`: the store could not be written mid-job; the job continues once it can.
   * `takeover`: the process running it stopped renewing its claim (it died or was
   * paused), and another process took the job over (SPEC 6).
   */
  'job.requeued': { reason: 'shutdown' | 'restart' | 'store' | 'takeover'; position: number };
  'job.completed': { durationMs: number };
  'job.failed': { durationMs: number; error: ErrorInfo };
  'job.cancelled': { durationMs: number };
}

export type EventName = keyof EventDataMap;

export const EVENT_NAMES: readonly EventName[] = [
  'job.queued',
  'job.started',
  'file.started',
  'file.progress',
  'file.completed',
  'file.failed',
  'job.requeued',
  'job.completed',
  'job.failed',
  'job.cancelled',
];

/** One event on the wire: a discriminated union on `name`. */
export type JobEvent = {
  [N in EventName]: { type: 'event'; job: string; seq: number; ts: number; name: N; data: EventDataMap[N] };
}[EventName];

/** An event before the store has given it a seq. */
export type NewEvent = {
  [N in EventName]: { name: N; data: EventDataMap[N]; ts?: number };
}[EventName];

export interface PositionMessage {
  type: 'position';
  job: string;
  position: number;
}

// WebSocket messages (SPEC 3.3).
export type ClientMessage =
  | { op: 'subscribe'; job: string; since?: number }
  | { op: 'unsubscribe'; job: string }
  | { op: 'ping' };

export type ServerMessage =
  | { type: 'snapshot'; job: Snapshot }
  | JobEvent
  | PositionMessage
  | { type: 'subscribed'; job: string; seq?: number; mode: 'snapshot' | 'resume' }
  | { type: 'unsubscribed'; job: string }
  | { type: 'error'; code: string; message: string; job?: string }
  | { type: 'pong' };

/** `GET /queue` body. */
export interface QueueStats {
  queued: number;
  running: number;
  concurrency: number;
  oldestQueuedMs: number | null;
  /**
   * The processes sharing the queue (one, on a store kept by one process), oldest first;
   * absent when the server has a --token and the request does not carry it.
   */
  processes?: ProcessInfo[];
}

/** A process as `GET /queue` lists it: what its last heartbeat said. */
export interface ProcessInfo {
  /** Stable for the process's life: `host:pid:role:random`. */
  id: string;
  /** `server` (the API and processing) or `worker` (`jobcast worker`: processing only). */
  role: 'server' | 'worker';
  host: string;
  pid: number;
  /** Ids of the jobs it runs now. */
  jobs: string[];
  /** Files being processed now, by its worker threads or command processes. */
  workersBusy: number;
  /** Its --workers. */
  workers: number;
  /** Its --concurrency: jobs it runs at once at most. */
  concurrency: number;
  /** Unix ms. */
  startedAt: number;
  /** Unix ms, on the clock of the server that answers. */
  lastHeartbeatAt: number;
  /** How often it reports: a process silent for twice this has stopped reporting. */
  heartbeatMs: number;
}
