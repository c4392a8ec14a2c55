// A bounded map of what a process knows of jobs (their snapshots), least recently used
// dropped first: a few hundred running jobs are hot, and 10,000 queued 1000-file jobs
// must not hold gigabytes. Whatever it holds is checked against Redis before it is
// trusted (by seq), so dropping an entry only costs a read.

export interface JobSnapshots<T> {
  get(id: string): T | undefined;
  set(id: string, value: T): void;
  delete(id: string): void;
  clear(): void;
  readonly size: number;
}

/** A least-recently-used map of at most `max` jobs. */
export function jobSnapshots<T>(max: number): JobSnapshots<T> {
  const entries = new Map<string, T>();
  return {
    get(id) {
      const value = entries.get(id);
      if (value !== undefined) {
        // Map order is insertion order: re-inserting marks it most recently used.
        entries.delete(id);
        entries.set(id, value);
      }
      return value;
    },
    set(id, value) {
      entries.delete(id);
      entries.set(id, value);
      if (entries.size > max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    delete: (id) => void entries.delete(id),
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
