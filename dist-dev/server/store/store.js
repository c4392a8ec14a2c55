// The store interface: job records and their event logs. The HTTP, hub and job code
// see only this, so sqlite, memory and (later) Redis implementations are interchangeable.
export {};
//# sourceMappingURL=store.js.map