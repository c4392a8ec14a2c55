// The text fields of an upload (SPEC 2.1): which ones count, and how each is checked.

import { JobcastError } from '../errors.js';

/** Longest `label`, in characters (code points), per SPEC 2.1. */
export const MAX_LABEL_CHARS = 200;

/**
 * Deepest nesting of `options` (objects and arrays), in levels: far beyond any processor's
 * options, far below what breaks JSON.stringify (about 4,500 levels: the upload answered
 * 500) or the structured clone that hands the options to a worker thread (about 4,000:
 * the thread died, for every file of such a job).
 */
export const MAX_OPTIONS_DEPTH = 64;

/** The text fields of SPEC 2.1; any other is ignored. */
export const UPLOAD_FIELDS: ReadonlySet<string> = new Set(['processor', 'label', 'options', 'failFast']);

/** The values the fields give a job. */
export interface UploadFields {
  processor: string | null;
  label: string | null;
  options: Record<string, unknown>;
  failFast: boolean;
}

/**
 * Checks one known field and stores it in `fields`; returns the error it deserves, if any.
 * An empty value counts as absent: HTML forms send inputs left empty as "".
 */
export function applyField(fields: UploadFields, name: string, value: string, isProcessor: (name: string) => boolean): JobcastError | null {
  if (value === '') return null;
  switch (name) {
    case 'processor':
      if (!isProcessor(value)) {
        return new JobcastError('unknown_processor', `no processor named ${JSON.stringify(value.slice(0, 100))} is registered`);
      }
      fields.processor = value;
      return null;
    case 'label':
      // Characters, not UTF-16 units: an emoji is one character of the 200.
      if (value.length > MAX_LABEL_CHARS && Array.from(value).length > MAX_LABEL_CHARS) {
        return new JobcastError('invalid_field', `'label' is longer than ${MAX_LABEL_CHARS} characters`);
      }
      fields.label = value;
      return null;
    case 'options': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return new JobcastError('invalid_field', `'options' must be a JSON object; it is not JSON`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return new JobcastError('invalid_field', `'options' must be a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
      }
      if (nestingDepth(parsed, MAX_OPTIONS_DEPTH) > MAX_OPTIONS_DEPTH) {
        return new JobcastError('invalid_field', `'options' nests deeper than ${MAX_OPTIONS_DEPTH} levels`);
      }
      fields.options = parsed as Record<string, unknown>;
      return null;
    }
    default:
      if (value !== 'true' && value !== 'false') {
        return new JobcastError('invalid_field', `'failFast' must be true or false, got ${JSON.stringify(value.slice(0, 20))}`);
      }
      fields.failFast = value === 'true';
      return null;
  }
}

/**
 * Levels of objects and arrays in `value` (a JSON value: no cycles), counted without
 * recursion so that the depth itself cannot overflow the stack; stops past `limit`.
 */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
  }
  return deepest;
}
