// Reading what the server sends (SPEC 3.3). A frame that is not one of the known
// messages with the fields the SDK relies on is dropped here, so the rest of the SDK
// only ever sees well-formed ServerMessages; the client never throws over a bad frame.

import type { ServerMessage } from '../server/protocol/types.js';

type Fields = Record<string, unknown>;

/** Parses one frame's data; null for anything malformed or unknown (binary frames included). */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  return isWellFormed(value) ? (value as unknown as ServerMessage) : null;
}

function isWellFormed(m: Fields): boolean {
  switch (m.type) {
    case 'snapshot':
      return isSnapshotLike(m.job);
    case 'event':
      return isJobId(m.job) && isSeq(m.seq) && m.seq >= 1 && typeof m.ts === 'number' && typeof m.name === 'string' && isObject(m.data);
    case 'position':
      return isJobId(m.job) && isSeq(m.position);
    case 'subscribed':
      return typeof m.job === 'string' && (m.mode === 'snapshot' || m.mode === 'resume') && (m.seq === undefined || isSeq(m.seq));
    case 'unsubscribed':
      return typeof m.job === 'string';
    case 'error':
      return typeof m.code === 'string' && typeof m.message === 'string' && (m.job === undefined || typeof m.job === 'string');
    case 'pong':
      return true;
    default:
      return false;
  }
}

/** The fields the SDK reads of a snapshot before handing it on whole. */
function isSnapshotLike(value: unknown): boolean {
  return (
    isObject(value) &&
    isJobId(value.id) &&
    isSeq(value.seq) &&
    typeof value.status === 'string' &&
    Array.isArray(value.files) &&
    isObject(value.progress)
  );
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJobId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value !== '*';
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
