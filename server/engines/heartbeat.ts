// The WebSocket heartbeat of SPEC 3.3, for every engine: each socket is pinged once per
// --heartbeat and dropped when it has left MAX_MISSED_PONGS pings in a row unanswered.
//
// Sockets are pinged in HEARTBEAT_GROUPS groups, one group every 1/30 of --heartbeat,
// rather than all at once: pinging 10,000 sockets in one turn of the event loop blocked it
// for 0.15 to 0.5 s on a busy 2-core machine, and the 10,000 pongs took as long again to
// read; every event in flight waited behind them.

import { MAX_MISSED_PONGS } from './engine.js';

const HEARTBEAT_GROUPS = 30;

/** What the heartbeat needs of a socket (the engine's own connection class). */
export interface Beating {
  /** Pings sent since the last pong; the engine sets it to 0 when a pong arrives. */
  missedPongs: number;
  ping(): void;
  /** Drops the connection without a close handshake (the client then sees 1006). */
  terminate(): void;
}

export class Heartbeat<T extends Beating> {
  private readonly groups = Array.from({ length: HEARTBEAT_GROUPS }, () => new Set<T>());
  private joined = 0;
  private turn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(heartbeatMs: number) {
    this.timer = setInterval(() => this.beat(), heartbeatMs / HEARTBEAT_GROUPS);
    this.timer.unref();
  }

  /** Adds `socket` to a group and returns that group, which the socket leaves when it closes. */
  join(socket: T): Set<T> {
    const group = this.groups[this.joined++ % HEARTBEAT_GROUPS]!;
    group.add(socket);
    return group;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One group's turn; each comes once per --heartbeat. */
  private beat(): void {
    for (const socket of this.groups[this.turn++ % HEARTBEAT_GROUPS]!) {
      if (socket.missedPongs >= MAX_MISSED_PONGS) {
        socket.terminate();
        continue;
      }
      socket.missedPongs++;
      socket.ping();
    }
  }
}
