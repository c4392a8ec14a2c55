// What each HTTP route takes and answers, for the OpenAPI document. Keyed by
// `METHOD /path/{param}` as the router's patterns read (document.ts derives the keys
// from the live route table and refuses a route with no entry here). Error responses
// are listed by code; their statuses come from errors.ts.

import type { ErrorCode } from '../../errors.js';
import type { Schema } from './schemas.js';

export interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Schema[];
  requestBody?: Schema;
  /** Success responses by status. */
  responses: Record<string, Schema>;
  /** Error codes this route answers with, besides the ones every request may get. */
  errors: readonly ErrorCode[];
  /** Whether --token guards it (Authorization: Bearer, or ?token=). */
  isGuarded?: boolean;
}

/** Codes any request may get: answered before the route runs, or by a bug. */
export const COMMON_ERRORS: readonly ErrorCode[] = [
  'malformed_request',
  'headers_too_large',
  'request_timeout',
  'too_many_connections',
  'misdirected_request',
  'method_not_allowed',
  'body_not_allowed',
  'internal_error',
];
/** Codes a request to no route gets. */
export const UNKNOWN_ROUTE_ERRORS: readonly ErrorCode[] = ['not_found'];

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (description: string, schema: Schema, headers?: Schema): Schema => ({
  description,
  content: { 'application/json': { schema } },
  ...(headers !== undefined && { headers }),
});
const jobId: Schema = { name: 'id', in: 'path', required: true, schema: ref('JobId') };
const tokenQuery: Schema = { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'the --token, for clients that cannot send Authorization' };
const location: Schema = { Location: { schema: { type: 'string' }, description: '/jobs/{id}' } };
const text = (description: string, types: string | string[], schema: Schema = { type: 'string' }): Schema => ({
  description,
  content: Object.fromEntries([types].flat().map((type) => [type, { schema }])),
});

export const OPERATIONS: Record<string, Operation> = {
  'POST /jobs': {
    summary: 'Upload files; they become one job',
    description: 'Every multipart part with a filename is a file of the job, in order. Checks run in this order: authentication, media type, body.',
    tags: ['jobs'],
    isGuarded: true,
    parameters: [
      { name: 'wait', in: 'query', required: false, schema: { type: 'number', minimum: 0, maximum: 300 }, description: 'seconds to wait for the job to end' },
      tokenQuery,
    ],
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: {
              file: { type: 'array', items: { type: 'string', contentMediaType: 'application/octet-stream' } },
              processor: { type: 'string', description: 'a registered processor (GET /processors); default: --processor' },
              label: { type: 'string', maxLength: 200 },
              options: { type: 'string', description: 'a JSON object, given to the processor as ctx.options' },
              failFast: { enum: ['true', 'false'] },
            },
            required: ['file'],
          },
        },
      },
    },
    responses: {
      '202': json('the job, queued (or still running after ?wait)', ref('Snapshot'), location),
      '200': json('with ?wait: the job ended in time; its final snapshot', ref('Snapshot'), location),
    },
    errors: [
      'unsupported_media_type', 'malformed_multipart', 'no_files', 'unknown_processor', 'invalid_field', 'file_too_large', 'too_many_files',
      'upload_too_large', 'upload_too_slow', 'unauthorized', 'queue_full', 'too_many_uploads', 'insufficient_storage', 'not_ready',
      'shutting_down', 'invalid_query',
    ],
  },
  'GET /jobs': {
    summary: 'List jobs, newest first',
    tags: ['jobs'],
    isGuarded: true,
    parameters: [
      { name: 'status', in: 'query', required: false, schema: ref('JobStatus') },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
      { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: '`next` of the previous page' },
      {
        name: 'q',
        in: 'query',
        required: false,
        schema: { type: 'string', maxLength: 200 },
        description: 'a part of the id, the label or a file name, ignoring case',
      },
      tokenQuery,
    ],
    responses: { '200': json('one page of jobs', ref('JobList')) },
    errors: ['unauthorized', 'invalid_query'],
  },
  'GET /jobs/{id}': {
    summary: "The job's snapshot (the polling fallback)",
    tags: ['jobs'],
    parameters: [jobId],
    responses: { '200': json('the snapshot', ref('Snapshot')) },
    errors: ['job_not_found'],
  },
  'DELETE /jobs/{id}': {
    summary: 'Forget a finished job and delete its files',
    tags: ['jobs'],
    isGuarded: true,
    parameters: [jobId, tokenQuery],
    responses: { '204': { description: 'deleted' } },
    errors: ['unauthorized', 'job_not_found', 'job_active', 'not_ready'],
  },
  'POST /jobs/{id}/cancel': {
    summary: 'Cancel a queued or running job',
    tags: ['jobs'],
    isGuarded: true,
    parameters: [jobId, tokenQuery],
    responses: { '200': json('the cancelled job', ref('Snapshot')) },
    errors: ['unauthorized', 'job_not_found', 'job_finished', 'not_ready'],
  },
  'GET /jobs/{id}/events': {
    summary: "The job's events as Server-Sent Events",
    description: 'Each message: `id:` the seq (none for position), `event:` the event name, `snapshot` or `position`, `data:` an SseMessage. Ends after the final event.',
    tags: ['jobs', 'live'],
    parameters: [
      jobId,
      { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'resume after this seq (Last-Event-ID wins)' },
      { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer', minimum: 0 } },
    ],
    responses: {
      '200': text('the stream; every `data:` is an SseMessage', 'text/event-stream', { type: 'string', 'x-jobcast-message': ref('SseMessage') }),
      '204': { description: 'the job has ended and Last-Event-ID is its final seq: nothing more will come' },
    },
    errors: ['job_not_found', 'invalid_query'],
  },
  'HEAD /jobs/{id}/events': {
    summary: 'The head a GET of the event stream would get, without the stream',
    tags: ['jobs', 'live'],
    parameters: [jobId],
    responses: { '200': { description: 'the stream exists; no body' } },
    errors: ['job_not_found'],
  },
  'GET /jobs/{id}/files/{index}/output': {
    summary: 'The output file a processor produced',
    tags: ['jobs'],
    parameters: [jobId, { name: 'index', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } }],
    responses: { '200': text('the file, streamed (gzip outputs as application/gzip)', ['application/octet-stream', 'application/gzip']) },
    errors: ['job_not_found', 'output_not_found'],
  },
  'GET /queue': {
    summary: 'The backlog, and the processes sharing the queue',
    description: 'Open to every client; with --token set, `processes` (hosts, pids, the ids of running jobs) is listed only to requests that carry the token.',
    tags: ['operations'],
    isGuarded: true,
    parameters: [tokenQuery],
    responses: { '200': json('queued and running jobs; with the token (or without one configured) the processes and the jobs each runs', ref('QueueStats')) },
    errors: [],
  },
  'GET /processors': {
    summary: 'The processors an upload may name',
    tags: ['operations'],
    responses: { '200': json('names, sorted, and the default', ref('Processors')) },
    errors: [],
  },
  'GET /healthz': {
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    responses: { '200': json('alive', ref('Ok')) },
    errors: [],
  },
  'GET /readyz': {
    summary: 'Readiness: the store answers and the spool is writable',
    tags: ['operations'],
    responses: { '200': json('ready', ref('Ok')) },
    errors: ['not_ready', 'shutting_down'],
  },
  'GET /metrics': {
    summary: 'Prometheus text exposition',
    tags: ['operations'],
    responses: { '200': text('metrics', 'text/plain') },
    errors: [],
  },
  'GET /openapi.json': {
    summary: 'This document',
    tags: ['operations'],
    responses: { '200': json('OpenAPI 3.1', { type: 'object' }) },
    errors: [],
  },
  'GET /jobcast-client.js': {
    summary: 'The client SDK as one browser ES module',
    description: 'Exports createClient (its url defaults to this server), applyEvent and foldEvents. Served with Access-Control-Allow-Origin: *.',
    tags: ['pages'],
    responses: { '200': text('the module', 'text/javascript') },
    errors: ['not_found'],
  },
  'GET /': {
    summary: 'The demo upload page',
    tags: ['pages'],
    responses: { '200': text('the page', 'text/html') },
    errors: [],
  },
  'GET /dashboard': {
    summary: 'The live dashboard page',
    tags: ['pages'],
    responses: { '200': text('the page', 'text/html') },
    errors: [],
  },
  'GET /favicon.ico': {
    summary: 'The icon browsers ask for (SVG)',
    tags: ['pages'],
    responses: { '200': text('the icon', 'image/svg+xml') },
    errors: [],
  },
  'GET /favicon.svg': {
    summary: 'The icon',
    tags: ['pages'],
    responses: { '200': text('the icon', 'image/svg+xml') },
    errors: [],
  },
  'GET /assets/{name}': {
    summary: 'Scripts and styles of the demo pages',
    tags: ['pages'],
    parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '200': text('the asset', ['text/javascript', 'text/css', 'application/json']) },
    errors: ['not_found'],
  },
};
