// The processes sharing the queue, when the server reports them (`processes` in the body
// of `GET /queue`, from a server that runs several processes on one store): jobs
// running, workers busy and last heartbeat of each. A server that reports no list gets
// no panel: the element stays hidden and empty.

import { formatAgo, formatExact } from '../format.js';

/** One process as `GET /queue` may report it. */
export interface ProcessInfo {
  id: string;
  jobsRunning: number;
  workersBusy: number;
  workers: number;
  /** Unix ms of its last heartbeat. */
  lastHeartbeatAt: number;
}

function isProcessInfo(value: unknown): value is ProcessInfo {
  const p = value as Partial<ProcessInfo> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.id === 'string' &&
    typeof p.jobsRunning === 'number' &&
    typeof p.workersBusy === 'number' &&
    typeof p.workers === 'number' &&
    typeof p.lastHeartbeatAt === 'number'
  );
}

/** Shows `reported` (the `processes` field of `GET /queue`, whatever it holds); hides the panel when it is not a list. */
export function renderProcesses(panel: HTMLElement, reported: unknown, now: number): void {
  const processes = Array.isArray(reported) ? reported.filter(isProcessInfo) : null;
  if (processes === null || processes.length === 0) {
    panel.hidden = true;
    panel.replaceChildren();
    return;
  }
  const title = Object.assign(document.createElement('h2'), { textContent: `Processes (${processes.length})` });
  const list = document.createElement('ul');
  list.className = 'processes';
  for (const p of processes) {
    const item = document.createElement('li');
    const heartbeat = Object.assign(document.createElement('time'), {
      textContent: formatAgo(p.lastHeartbeatAt, now),
      title: formatExact(p.lastHeartbeatAt),
      dateTime: new Date(p.lastHeartbeatAt).toISOString(),
    });
    item.append(
      Object.assign(document.createElement('code'), { textContent: p.id }),
      ` · ${p.jobsRunning} jobs running · ${p.workersBusy}/${p.workers} workers busy · heartbeat `,
      heartbeat,
    );
    list.append(item);
  }
  panel.replaceChildren(title, list);
  panel.hidden = false;
}
