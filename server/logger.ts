// JSON logs with pino. One root logger per server; parts take a child with their name.

import { pino, type Logger } from 'pino';

export type { Logger };

/** A pino logger writing JSON lines to stdout at `level` ('silent' in most tests). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'jobcast' }, timestamp: pino.stdTimeFunctions.isoTime });
}
