// The line protocol between the server and a command processor (SPEC 4): one JSON
// object per line, UTF-8, `\n`-terminated, on the child's stdin (server -> child) and
// stdout (child -> server). stderr is free text for the server log.
//
//   child  {"type":"ready","protocol":1}                       once, when it can take files
//   server {"type":"process","job":ID,"file":{path,name,size,type,index},
//           "options":{...},"outputPath":PATH,"progressIntervalMs":100}
//   child  {"type":"progress","done":N,"total":N}              any number, total optional
//   child  {"type":"log","message":"..."}                      any number, also between files
//   child  {"type":"result","result":<any JSON>}               exactly one of these two
//   child  {"type":"error","message":"..."}                     ends the file
//   server {"type":"cancel","reason":"cancelled"|"timeout"}    stop the current file, then
//                                                              answer it with result or error
//
// Files go to one child one at a time: every line between a `process` and its
// `result`/`error` belongs to that file, so lines carry no request id. The server's
// side of the handshake is the JOBCAST_PROTOCOL environment variable.

import type { ProcessorFile } from '../pool-types.js';
import type { StopReason } from '../messages.js';

/** The version this server speaks; the child's `ready` must name it. */
export const PROTOCOL_VERSION = 1;

/** Longest line read from a child's stdout; a longer one breaks the protocol (a result is one line). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Longest `log` message or `error` message kept; the rest is cut, as for ctx.log. */
export const MAX_MESSAGE_CHARS = 8 * 1024;

/** Server -> child. */
export type ServerLine =
  | {
      type: 'process';
      job: string;
      file: ProcessorFile;
      options: Record<string, unknown>;
      outputPath: string;
      /** The server keeps one progress report per this interval; a child may skip sending more. */
      progressIntervalMs: number;
    }
  | { type: 'cancel'; reason: StopReason };

/** Child -> server. */
export type ChildLine =
  | { type: 'ready'; protocol: number }
  | { type: 'progress'; done: number; total: number | null }
  | { type: 'log'; message: string }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string };

export type ParsedLine = { ok: true; line: ChildLine } | { ok: false; reason: string };

/** Reads one stdout line of a child; never throws. `reason` says what is wrong, for the file's error message. */
export function parseChildLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad(`a stdout line is not JSON: ${quote(text)} (write logs to stderr, protocol lines to stdout)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad(`a stdout line is not a JSON object: ${quote(text)}`);
  const fields = value as Record<string, unknown>;
  switch (fields['type']) {
    case 'ready':
      if (fields['protocol'] !== PROTOCOL_VERSION) {
        return bad(`"ready" must carry "protocol": ${PROTOCOL_VERSION}, got ${shortJson(fields['protocol'])}`);
      }
      return { ok: true, line: { type: 'ready', protocol: PROTOCOL_VERSION } };
    case 'progress': {
      const { done, total } = fields;
      if (!isAmount(done) || !(total === undefined || total === null || isAmount(total))) {
        return bad(`"progress" needs "done" (and optionally "total") as non-negative numbers: ${quote(text)}`);
      }
      return { ok: true, line: { type: 'progress', done, total: total ?? null } };
    }
    case 'log':
      if (typeof fields['message'] !== 'string') return bad(`"log" needs a string "message": ${quote(text)}`);
      return { ok: true, line: { type: 'log', message: fields['message'].slice(0, MAX_MESSAGE_CHARS) } };
    case 'result':
      // A missing result is null, as a JavaScript processor that returns nothing.
      return { ok: true, line: { type: 'result', result: fields['result'] ?? null } };
    case 'error': {
      const message = fields['message'];
      if (typeof message !== 'string') return bad(`"error" needs a string "message": ${quote(text)}`);
      return { ok: true, line: { type: 'error', message: message.slice(0, MAX_MESSAGE_CHARS) || 'the processor reported an error without a message' } };
    }
    default:
      return bad(`unknown line type ${shortJson(fields['type'])}; expected ready, progress, log, result or error`);
  }
}

/** One line for the child's stdin. */
export function serverLine(line: ServerLine): string {
  return `${JSON.stringify(line)}\n`;
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** At most 200 characters of `text`, quoted, for an error message. */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** A field's value as JSON for an error message, at most 100 characters; `nothing` when absent. */
function shortJson(value: unknown): string {
  return value === undefined ? 'nothing' : (JSON.stringify(value) ?? 'nothing').slice(0, 100);
}

function bad(reason: string): ParsedLine {
  return { ok: false, reason };
}
