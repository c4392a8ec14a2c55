// --token: compared in constant time, from `Authorization: Bearer` or `?token=`.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { JobcastError } from '../errors.js';

export interface TokenCheck {
  /** Whether a token is configured. */
  readonly hasToken: boolean;
  /** True when no token is configured or the request carries the right one. */
  isAuthorized(req: IncomingMessage, url: URL): boolean;
  /** Throws JobcastError('unauthorized') unless isAuthorized. */
  require(req: IncomingMessage, url: URL): void;
}

export function createTokenCheck(token: string | null): TokenCheck {
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  const expected = token === null ? null : digest(token);
  const isAuthorized = (req: IncomingMessage, url: URL): boolean => {
    if (expected === null) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('token');
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
  return {
    hasToken: expected !== null,
    isAuthorized,
    require(req, url) {
      if (!isAuthorized(req, url)) throw new JobcastError('unauthorized');
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
