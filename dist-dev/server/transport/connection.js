// The engine-neutral view of one client connection. The hub speaks only to this;
// each engine (ws, uWebSockets.js, an SSE response) supplies a small adapter.
export {};
//# sourceMappingURL=connection.js.map