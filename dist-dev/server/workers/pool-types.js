// What the job runner asks of the processor pool, and what it gets back.
export {};
//# sourceMappingURL=pool-types.js.map