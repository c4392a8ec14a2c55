// The part of the browser WebSocket API the SDK uses, written out structurally so the
// SDK needs neither the DOM lib nor the `ws` package: the browser's WebSocket and the
// `ws` package's WebSocket (Node 20 has no global one) both fit.
/** `readyState` of an open socket (the same number in the browser API and in `ws`). */
export const OPEN = 1;
//# sourceMappingURL=websocket-like.js.map