// The inbound message rate of one connection (--max-messages-per-second): a token
// bucket. It holds `burst` tokens and refills at `perSecond`; each message takes one.
// Two numbers per connection, and Date.now() per message: nothing else.

export class MessageRate {
  private tokens: number;
  private refilledAt: number;

  /**
   * @param perSecond messages per second on average (--max-messages-per-second).
   * @param burst messages that may arrive at once (the bucket's size).
   */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Takes a token for one message; false when the bucket is empty (the client sends too fast). */
  take(now = Date.now()): boolean {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
