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

/** Messages waiting before the connection stops being read even under the soft limit. */
const PAUSE_AT = 16;
/**
 * Waiting messages (and their bytes) past which the connection is closed. Reading stops long
 * before: only what the engine had already read may arrive after (ws: the rest of one 64 KiB
 * socket read, up to ~11,000 empty frames, and 16 KiB the socket buffers), so these are
 * reached only by an engine that does not stop.
 */
const MAX_WAITING = 65_536;
const MAX_WAITING_BYTES = 16 * 1024 * 1024;
/**
 * Messages let through once the connection is closing (and read again, so that the client's
 * close frame can arrive): a client that keeps sending is paused again after these, and cut
 * when the close times out.
 */
const MAX_AFTER_CLOSE = 64;

/** What the inbox needs from its session. */
export interface InboxOwner {
  readonly connection: Connection;
  /** Whether the next message may be handled now (buffer under the soft limit, few reads waiting). */
  mayHandle(): boolean;
  /** Whether the send buffer is over the soft limit (then reading stops as soon as a message waits). */
  isOverSoftLimit(): boolean;
  handle(text: string | null): void;
}

/**
 * --max-messages-per-second as a token bucket of `burst` tokens refilled at `perSecond`,
 * kept as one number per connection (the "theoretical arrival time" of GCRA): `tat` is when
 * the bucket would be full again. Returns the new `tat` for an admitted message, or null
 * when the bucket is empty (the client sends too fast).
 */
export function admitMessage(tat: number, now: number, rate: { readonly perSecond: number; readonly burst: number }): number | null {
  const interval = 1000 / rate.perSecond;
  const next = Math.max(tat, now) + interval;
  return next - now > rate.burst * interval ? null : next;
}

/**
 * The messages of one connection that wait. Made when the first one has to wait and let go
 * once none does: most connections are idle, and thousands of them each hold a session.
 */
export class Inbox {
  private readonly waiting: Array<string | null> = [];
  private waitingBytes = 0;
  private isPaused = false;
  /** Messages that came after close(); -1 while open. */
  private afterClose = -1;

  constructor(private readonly owner: InboxOwner) {}

  /** A message that cannot be handled now; 'backlog' when too much already waits (the owner closes with 1008). */
  push(text: string | null): 'backlog' | null {
    if (this.afterClose >= 0) {
      if (++this.afterClose > MAX_AFTER_CLOSE) this.setPaused(true);
      return null;
    }
    this.waiting.push(text);
    this.waitingBytes += text === null ? 0 : text.length;
    if (this.waiting.length > MAX_WAITING || this.waitingBytes > MAX_WAITING_BYTES) return 'backlog';
    this.pump();
    return null;
  }

  /**
   * Handles what may be handled now, then stops or resumes reading. Called again on drain
   * and when a read is over. True once nothing waits and the connection is read: the inbox can go.
   */
  pump(): boolean {
    if (this.afterClose >= 0) return false;
    const waiting = this.waiting;
    let handled = 0;
    while (handled < waiting.length && this.afterClose < 0 && this.owner.mayHandle()) {
      const text = waiting[handled++]!;
      this.waitingBytes -= text === null ? 0 : text.length;
      this.owner.handle(text);
    }
    // handle() may have closed the connection: close() has dropped what waited.
    if (this.afterClose >= 0) return false;
    waiting.splice(0, handled);
    const count = waiting.length;
    this.setPaused(count >= PAUSE_AT || (count > 0 && this.owner.isOverSoftLimit()));
    return count === 0;
  }

  /**
   * The connection is closing: what waits is dropped and nothing more is handled, but it is
   * read again for its close frame (the close handshake of a client that was paused).
   */
  close(): void {
    this.waiting.length = 0;
    this.waitingBytes = 0;
    if (this.afterClose < 0) this.afterClose = 0;
    this.setPaused(false);
  }

  /** Nothing waits and the connection is read: the owner may let the inbox go. */
  get isIdle(): boolean {
    return this.waiting.length === 0 && !this.isPaused && this.afterClose < 0;
  }

  /** Whether the connection is not being read now (for stats). */
  get isReadingPaused(): boolean {
    return this.isPaused;
  }

  private setPaused(isPaused: boolean): void {
    if (isPaused === this.isPaused) return;
    this.isPaused = isPaused;
    if (isPaused) this.owner.connection.pauseReading();
    else this.owner.connection.resumeReading();
  }
}
