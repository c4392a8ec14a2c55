// The engine-neutral view of one client connection. The hub speaks only to this;
// each engine (ws, uWebSockets.js, an SSE response) supplies a small adapter.

import type { Frame } from '../hub/frame.js';

export interface Connection {
  /** Queues one message. The same Frame object goes to every subscriber: serialised once. */
  send(frame: Frame): void;
  /** Bytes accepted by send() and not yet written to the socket. */
  bufferedAmount(): number;
  /** Closes the connection with a WebSocket close code (an SSE adapter just ends the response). */
  close(code: number, reason: string): void;
  /**
   * Stops taking inbound messages until resumeReading(): what the client sends then waits
   * in the kernel, and TCP slows the client down. A few messages the engine had already
   * read may still arrive. Engines without inbound messages (SSE) do nothing.
   */
  pauseReading(): void;
  resumeReading(): void;
}

/** What an adapter tells the hub about its connection. */
export interface ConnectionHandlers {
  /** A text message arrived (binary frames are passed as null: they are always a bad_message). */
  onMessage(text: string | null): void;
  /** The send buffer emptied after it had filled up. */
  onDrain(): void;
  /** The connection is gone; called once. */
  onClose(): void;
}
