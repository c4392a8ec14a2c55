// Parsing what a client sends on the socket (SPEC 3.3). Anything that is not one of
// the three ops with the right field types is a bad_message; the connection stays open.

import { isJobId, type ClientMessage } from '../protocol/types.js';

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; reason: string };

/** Parses one text frame; never throws. */
export function parseClientMessage(text: string | null): ParseResult {
  if (text === null) return bad('binary frames are not part of the protocol; send JSON text');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('the message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the message must be a JSON object');
  const { op, job, since } = value as Record<string, unknown>;
  switch (op) {
    case 'ping':
      return { ok: true, message: { op } };
    case 'unsubscribe':
      if (typeof job !== 'string' || !isJobOrAll(job)) return bad('unsubscribe needs "job": a job id or "*"');
      return { ok: true, message: { op, job } };
    case 'subscribe':
      if (typeof job !== 'string' || !isJobOrAll(job)) return bad('subscribe needs "job": a job id or "*"');
      if (since === undefined) return { ok: true, message: { op, job } };
      if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
        return bad('"since" must be a whole number of at least 0');
      }
      if (job === '*') return bad('"since" does not apply to "*"');
      return { ok: true, message: { op, job, since } };
    default:
      return bad('"op" must be subscribe, unsubscribe or ping');
  }
}

/** A job id, or `*`: the dashboard. */
function isJobOrAll(job: string): boolean {
  return job === '*' || isJobId(job);
}

function bad(reason: string): ParseResult {
  return { ok: false, reason };
}
