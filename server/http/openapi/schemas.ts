// JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of everything jobcast sends and
// takes: the snapshot, events, error bodies, and the WebSocket and SSE messages. Lists
// come from the code's own constants (errors.ts, protocol/types.ts); the event payloads
// are a map keyed by EventName, so the compiler refuses a missing event.

import { ERRORS, type ErrorCode } from '../../errors.js';
import { EVENT_NAMES, FILE_STATUSES, JOB_STATUSES, type EventName } from '../../protocol/types.js';

export type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const int = (minimum = 0): Schema => ({ type: 'integer', minimum });
const num = (minimum = 0): Schema => ({ type: 'number', minimum });
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });
/** An object with exactly these properties, all required unless listed in `optional`. */
export function object(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  };
}

/** Codes a WebSocket `error` message carries (SPEC 3.3). */
export const SOCKET_ERROR_CODES: readonly ErrorCode[] = ['bad_message', 'job_not_found', 'unauthorized', 'too_many_subscriptions', 'too_many_messages', 'internal_error'];
/** Codes of a failed file (`file.failed`, SPEC 4). */
export const FILE_ERROR_CODES: readonly ErrorCode[] = ['processor_error', 'timeout', 'worker_crashed'];
/** Codes of a failed job (`job.failed`). */
export const JOB_ERROR_CODES: readonly ErrorCode[] = ['files_failed', 'unknown_processor', 'internal_error'];

const errorInfo = (codes: readonly string[]): Schema => object({ code: { type: 'string', enum: [...codes] }, message: { type: 'string' } });

const FILE_DESCRIPTOR = { index: int(), name: { type: 'string' }, size: int(), type: { type: 'string' } };

const EVENT_DATA: Record<EventName, Schema> = {
  'job.queued': object({
    processor: { type: 'string' },
    label: nullable({ type: 'string' }),
    failFast: { type: 'boolean' },
    files: { type: 'array', items: object(FILE_DESCRIPTOR) },
    position: int(1),
  }),
  'job.started': object({}),
  'file.started': object({ file: int() }),
  'file.progress': object({
    file: int(),
    done: num(),
    total: num(),
    fraction: { type: 'number', minimum: 0, maximum: 1 },
    rate: nullable(num()),
    etaMs: nullable(num()),
    jobEtaMs: nullable(num()),
  }),
  'file.completed': object({ file: int(), durationMs: num(), result: {}, output: { type: 'boolean' } }),
  'file.failed': object({ file: int(), durationMs: num(), error: errorInfo(FILE_ERROR_CODES) }),
  'job.requeued': object({ reason: { enum: ['shutdown', 'restart', 'store', 'takeover'] }, position: int(1) }),
  'job.completed': object({ durationMs: num() }),
  'job.failed': object({ durationMs: num(), error: errorInfo(JOB_ERROR_CODES) }),
  'job.cancelled': object({ durationMs: num() }),
};

function eventSchema(name: EventName): Schema {
  return object({ type: { const: 'event' }, job: ref('JobId'), seq: int(1), ts: int(), name: { const: name }, data: EVENT_DATA[name] });
}

const eventSchemaName = (name: EventName): string => `Event_${name.replace('.', '_')}`;

/** Every schema of `components.schemas`. */
export function componentSchemas(): Record<string, Schema> {
  const events = Object.fromEntries(EVENT_NAMES.map((name) => [eventSchemaName(name), eventSchema(name)]));
  const codes = Object.keys(ERRORS) as ErrorCode[];
  return {
    JobId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'a nanoid(): knowing it is the capability to read the job' },
    ErrorCode: { type: 'string', enum: codes, description: 'every error code of jobcast (x-jobcast-errors has the statuses)' },
    ErrorInfo: object({ code: ref('ErrorCode'), message: { type: 'string' } }),
    ErrorBody: object({ error: ref('ErrorInfo') }),
    JobStatus: { enum: [...JOB_STATUSES] },
    FileStatus: { enum: [...FILE_STATUSES] },
    FileState: object({
      ...FILE_DESCRIPTOR,
      status: ref('FileStatus'),
      done: num(),
      total: num(),
      fraction: { type: 'number', minimum: 0, maximum: 1 },
      startedAt: nullable(int()),
      finishedAt: nullable(int()),
      durationMs: nullable(num()),
      result: { description: 'what the processor returned (any JSON), null until the file is done' },
      error: nullable(errorInfo([...FILE_ERROR_CODES])),
      output: { type: 'boolean' },
    }),
    Snapshot: object({
      id: ref('JobId'),
      seq: int(1),
      status: ref('JobStatus'),
      processor: { type: 'string' },
      label: nullable({ type: 'string' }),
      failFast: { type: 'boolean' },
      createdAt: int(),
      startedAt: nullable(int()),
      finishedAt: nullable(int()),
      queuePosition: nullable(int(1)),
      progress: object({ filesTotal: int(), filesDone: int(), filesFailed: int(), bytesTotal: int(), fraction: { type: 'number', minimum: 0, maximum: 1 } }),
      files: { type: 'array', items: ref('FileState') },
      error: nullable(errorInfo([...JOB_ERROR_CODES])),
    }),
    JobList: object({ jobs: { type: 'array', items: ref('Snapshot') }, next: nullable({ type: 'string' }) }),
    QueueStats: object(
      {
        queued: int(),
        running: int(),
        concurrency: int(1),
        oldestQueuedMs: nullable(num()),
        processes: {
          type: 'array',
          items: ref('ProcessInfo'),
          description: 'the processes sharing the queue, oldest first (one, on a memory or SQLite store); absent when the server has a token and the request does not carry it',
        },
      },
      ['processes'],
    ),
    ProcessInfo: {
      ...object({
        id: { type: 'string', description: 'stable for the process life: host:pid:role:random' },
        role: { enum: ['server', 'worker'] },
        host: { type: 'string' },
        pid: int(1),
        jobs: { type: 'array', items: ref('JobId'), description: 'the jobs it runs now' },
        workersBusy: int(),
        workers: int(1),
        concurrency: int(1),
        startedAt: int(),
        lastHeartbeatAt: { ...int(), description: 'on the clock of the server that answers' },
        heartbeatMs: int(1),
      }),
      description: 'a process as its last heartbeat reported it; one silent for twice heartbeatMs has stopped reporting, and leaves the list when its report expires (--lease)',
    },
    Processors: object({ default: { type: 'string' }, processors: { type: 'array', items: { type: 'string' } } }),
    Ok: object({ ok: { const: true } }),
    ...events,
    JobEvent: { oneOf: EVENT_NAMES.map((name) => ref(eventSchemaName(name))) },
    SnapshotMessage: object({ type: { const: 'snapshot' }, job: ref('Snapshot') }),
    PositionMessage: object({ type: { const: 'position' }, job: ref('JobId'), position: int(1) }),
    ClientMessage: {
      description: 'a text frame the client sends on /ws (SPEC 3.3)',
      oneOf: [
        object({ op: { const: 'subscribe' }, job: { oneOf: [ref('JobId'), { const: '*' }] }, since: int() }, ['since']),
        object({ op: { const: 'unsubscribe' }, job: { oneOf: [ref('JobId'), { const: '*' }] } }),
        object({ op: { const: 'ping' } }),
      ],
    },
    ServerMessage: {
      description: 'a text frame the server sends on /ws (SPEC 3.3)',
      oneOf: [
        ref('SnapshotMessage'),
        ref('JobEvent'),
        ref('PositionMessage'),
        object({ type: { const: 'subscribed' }, job: { oneOf: [ref('JobId'), { const: '*' }] }, seq: int(), mode: { enum: ['snapshot', 'resume'] } }, ['seq']),
        object({ type: { const: 'unsubscribed' }, job: { oneOf: [ref('JobId'), { const: '*' }] } }),
        object({ type: { const: 'error' }, code: { enum: [...SOCKET_ERROR_CODES] }, message: { type: 'string' }, job: { type: 'string' } }, ['job']),
        object({ type: { const: 'pong' } }),
      ],
    },
    SseMessage: {
      description: 'the `data:` of one Server-Sent Event (SPEC 3.4); `event:` is the event name, `snapshot` or `position`; `id:` the seq (none for position)',
      oneOf: [ref('SnapshotMessage'), ref('JobEvent'), ref('PositionMessage')],
    },
  };
}
