// The linger of a refused request whose body is still arriving (LingerLimits in
// engine.ts), for every engine: the rest of the body is read and dropped, within bounds.

import type { Readable } from 'node:stream';
import type { LingerLimits } from './engine.js';

/**
 * Reads and discards the rest of `body`; resolves at its end, when it breaks off, or at
 * the bounds. `isOver`: the body had already ended (or broken off) before the call.
 */
export function discardBody(body: Readable, linger: LingerLimits, isOver: boolean): Promise<void> {
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = (): void => {
      clearTimeout(timer);
      body.off('data', count);
      body.off('end', finish);
      body.off('close', finish);
      resolve();
    };
    const count = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > linger.maxBytes) finish();
    };
    const timer = setTimeout(finish, linger.maxMs);
    body.on('data', count);
    body.once('end', finish);
    body.once('close', finish);
    // Past the bounds the data goes on being discarded until the connection closes.
    body.resume();
    if (isOver || body.readableEnded || body.destroyed) finish();
  });
}
