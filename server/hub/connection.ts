// What the hub needs of one client connection, defined here, by the hub: each transport
// implements it (the WebSocket adapter of each engine in server/engines/, the SSE
// stream in server/transport/sse.ts) and calls the handlers the hub gives back.

import type { Frame } from './frame.js';

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
