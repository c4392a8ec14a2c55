// --token: compared in constant time, from `Authorization: Bearer` or `?token=`.

import { createHash, timingSafeEqual } from 'node:crypto';
import { JobcastError } from '../errors.js';
import type { RequestHead } from './request.js';

export interface TokenCheck {
  /** Whether a token is configured. */
  readonly hasToken: boolean;
  /** True when no token is configured or the request carries the right one. */
  isAuthorized(head: RequestHead): boolean;
  /** Throws JobcastError('unauthorized') unless isAuthorized. */
  require(head: RequestHead): void;
}

export function createTokenCheck(token: string | null): TokenCheck {
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  const expected = token === null ? null : digest(token);
  const isAuthorized = (head: RequestHead): boolean => {
    if (expected === null) return true;
    const header = head.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : head.query.get('token');
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
  return {
    hasToken: expected !== null,
    isAuthorized,
    require(head) {
      if (!isAuthorized(head)) throw new JobcastError('unauthorized');
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
