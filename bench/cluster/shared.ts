// What the cluster benchmark's parts share: the children's ready message and command
// arguments, and a clock that processes of one machine can compare.

export interface NodeReady {
  url: string;
  pid: number;
}

export interface FloodArgs {
  ms: number;
}

export interface PacedArgs {
  /** Events per second from this process, spread over its jobs in turn. */
  rate: number;
  ms: number;
}

/** The wall clock in ms with sub-ms precision, comparable across processes of one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
