// The part of the browser WebSocket API the SDK uses, written out structurally so the
// SDK needs neither the DOM lib nor the `ws` package: the browser's WebSocket and the
// `ws` package's WebSocket (Node 20 has no global one) both fit.

/** `readyState` of an open socket (the same number in the browser API and in `ws`). */
export const OPEN = 1;

/**
 * A handler slot. Written as a method type so that its parameter is checked
 * bivariantly: engines whose event objects carry more fields than the SDK reads
 * (the DOM's MessageEvent, `ws`'s MessageEvent) are accepted.
 */
type Handler<E> = { handle(event: E): void }['handle'] | null;

/** What the SDK reads from a message event: text frames carry a string. */
export interface MessageEventLike {
  data: unknown;
}

/** What the SDK reads from a close event. */
export interface CloseEventLike {
  code: number;
  reason: string;
}

/** One socket, as `new WebSocket(url)` returns it. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  onopen: Handler<unknown>;
  onmessage: Handler<MessageEventLike>;
  onclose: Handler<CloseEventLike>;
  onerror: Handler<unknown>;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor compatible with the browser API (`globalThis.WebSocket`, or `WebSocket` from `ws`). */
export interface WebSocketConstructorLike {
  new (url: string): WebSocketLike;
}
