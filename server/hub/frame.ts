// One outbound message, serialised once and shared by every connection it goes to
// (STYLE: never loop over clients re-serialising). Adapters read the form they need.

import type { JobEvent, ServerMessage, Snapshot } from '../protocol/types.js';

const FINAL_EVENTS: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled']);

export class Frame {
  /** The JSON text of the message. */
  readonly text: string;
  /** The job it concerns, if any. */
  readonly job: string | null;
  /** The event's seq, or a snapshot's seq (SSE `id:`); null for other messages. */
  readonly seq: number | null;
  /** SSE `event:` name: the event name, `snapshot`, `position`, or the message type. */
  readonly name: string;
  /** True when nothing follows for this job (a final event, or a snapshot of a finished job). */
  readonly isFinal: boolean;
  #buffer: Buffer | null = null;
  #sse: string | null = null;
  #wire: unknown = null;
  #wireOf: ((frame: Frame) => unknown) | null = null;

  private constructor(message: ServerMessage, job: string | null, seq: number | null, name: string, isFinal: boolean) {
    this.text = JSON.stringify(message);
    this.job = job;
    this.seq = seq;
    this.name = name;
    this.isFinal = isFinal;
  }

  static event(event: JobEvent): Frame {
    return new Frame(event, event.job, event.seq, event.name, FINAL_EVENTS.has(event.name));
  }

  static snapshot(snapshot: Snapshot): Frame {
    const isFinal = snapshot.status === 'completed' || snapshot.status === 'failed' || snapshot.status === 'cancelled';
    return new Frame({ type: 'snapshot', job: snapshot }, snapshot.id, snapshot.seq, 'snapshot', isFinal);
  }

  static position(job: string, position: number): Frame {
    return new Frame({ type: 'position', job, position }, job, null, 'position', false);
  }

  /** Any other message (subscribed, unsubscribed, error, pong): sent to one connection only. */
  static control(message: ServerMessage): Frame {
    const job = 'job' in message && typeof message.job === 'string' ? message.job : null;
    return new Frame(message, job, null, message.type, false);
  }

  /** UTF-8 bytes of `text`, made once on first use. */
  get buffer(): Buffer {
    return (this.#buffer ??= Buffer.from(this.text));
  }

  /** The SSE message (SPEC 3.4), made once on first use. */
  get sse(): string {
    return (this.#sse ??= `${this.seq === null ? '' : `id: ${this.seq}\n`}event: ${this.name}\ndata: ${this.text}\n\n`);
  }

  /**
   * What an engine puts on the wire for this message (the ws engine: the whole WebSocket
   * frame), made by `encode` on first use and then shared by every connection it goes to.
   * One slot: a process serves its WebSocket connections with one engine.
   */
  wire<T>(encode: (frame: Frame) => T): T {
    if (this.#wireOf !== encode) {
      this.#wire = encode(this);
      this.#wireOf = encode;
    }
    return this.#wire as T;
  }
}
