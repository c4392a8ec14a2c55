// The public shape of the client SDK: what createClient() returns and what its
// callbacks receive. Protocol types (Snapshot, JobEvent, ...) live in server/protocol.
export {};
//# sourceMappingURL=api.js.map