// The inbound side of one connection (SPEC 7 "one client cannot take the server down"):
// messages wait here until the session may handle them, so that what a client sends
// costs the server no more than what the client reads back.
//
// - A message is handled only while the client's send buffer is under the soft limit and
//   few catch-up reads wait: a reply (even a pong or a bad_message) that the client does
//   not read is not made, and a subscribe it will not read is not read from the store.
// - Messages that cannot be handled yet wait in order; while any wait with the buffer
//   over the soft limit, or more than a few wait, the connection stops being read, so the
//   client's own sends back up in TCP (the server's memory does not).
// - Past --max-messages-per-second (a token bucket) the owner closes the connection with
//   1008. So it does if messages keep coming once reading has stopped (an engine that
//   does not stop at once): the client sends faster than it reads.

import type { Connection } from '../transport/connection.js';
import { MessageRate } from './message-rate.js';

/** Messages waiting before the connection stops being read even under the soft limit. */
const PAUSE_AT = 16;
/**
 * Bytes of waiting messages past which the connection is closed. Reading stops long before:
 * only what the engine had already read (ws: the rest of one 64 KiB socket read) may arrive after.
 */
const MAX_WAITING_BYTES = 1024 * 1024;
/**
 * Messages let through once the connection is closing (and read again, so that the client's
 * close frame can arrive): a client that keeps sending is paused again after these, and cut
 * when the close times out.
 */
const MAX_AFTER_CLOSE = 64;

/** What the inbox needs from its session. */
export interface InboxOwner {
  /** Whether the next message may be handled now (buffer under the soft limit, few reads waiting). */
  mayHandle(): boolean;
  /** Whether the send buffer is over the soft limit (then reading stops as soon as a message waits). */
  isOverSoftLimit(): boolean;
  handle(text: string | null): void;
}

/** Why a message was refused; the owner closes the connection with 1008 (too_many_messages). */
export type Refusal = 'rate' | 'backlog';

export class Inbox {
  private readonly waiting: Array<string | null> = [];
  private waitingBytes = 0;
  private isPaused = false;
  /** Messages that came after close(); null while open. */
  private afterClose: number | null = null;
  private readonly rate: MessageRate;

  constructor(
    private readonly connection: Connection,
    private readonly owner: InboxOwner,
    /** --max-messages-per-second, and how many may come at once. */
    limits: { perSecond: number; burst: number },
  ) {
    this.rate = new MessageRate(limits.perSecond, limits.burst);
  }

  /** A message arrived. Null when it is taken (handled now or later), else why it is refused. */
  push(text: string | null): Refusal | null {
    if (this.afterClose !== null) {
      if (++this.afterClose > MAX_AFTER_CLOSE) this.setPaused(true);
      return null;
    }
    if (!this.rate.take()) return 'rate';
    this.waiting.push(text);
    this.waitingBytes += text === null ? 0 : text.length;
    if (this.waitingBytes > MAX_WAITING_BYTES) return 'backlog';
    this.pump();
    return null;
  }

  /** Handles what may be handled now, then stops or resumes reading. Called again on drain and when a read is over. */
  pump(): void {
    if (this.afterClose !== null) return;
    while (this.waiting.length > 0 && this.owner.mayHandle()) {
      const text = this.waiting.shift()!;
      this.waitingBytes -= text === null ? 0 : text.length;
      this.owner.handle(text);
    }
    const count = this.waiting.length;
    this.setPaused(count >= PAUSE_AT || (count > 0 && this.owner.isOverSoftLimit()));
  }

  /**
   * The connection is closing: what waits is dropped and nothing more is handled, but it is
   * read again for its close frame (the close handshake of a client that was paused).
   */
  close(): void {
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.afterClose ??= 0;
    this.setPaused(false);
  }

  /** Whether the connection is not being read now (for stats). */
  get isReadingPaused(): boolean {
    return this.isPaused;
  }

  private setPaused(isPaused: boolean): void {
    if (isPaused === this.isPaused) return;
    this.isPaused = isPaused;
    if (isPaused) this.connection.pauseReading();
    else this.connection.resumeReading();
  }
}
