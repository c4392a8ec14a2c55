// JSON logs with pino. One root logger per server; parts take a child with their name.
import { pino } from 'pino';
/** A pino logger writing JSON lines to stdout at `level` ('silent' in most tests). */
export function createLogger(level) {
    return pino({ level, base: { service: 'jobcast' }, timestamp: pino.stdTimeFunctions.isoTime });
}
//# sourceMappingURL=logger.js.map