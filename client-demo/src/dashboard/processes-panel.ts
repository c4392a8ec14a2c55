// The processes panel: a row per process sharing the queue (the `processes` of
// `GET /queue`), with its role, host and pid, jobs running, workers busy and last
// heartbeat, and a visible mark on one that stopped reporting. It also answers which
// process runs a job, for the job rows. A server that lists no processes (a request
// without the token it wants) gets no panel: the element stays hidden.

import type { ProcessInfo } from '../../../server/protocol/types.js';
import { formatAgo, formatExact } from '../format.js';
import { isReporting, ownerOf, ownersOf, processName, readProcesses, type Owner } from './processes.js';

const ROW = document.createElement('template');
ROW.innerHTML = `
  <th scope="row"><code class="process-name"></code></th>
  <td class="process-role"></td>
  <td class="process-jobs"></td>
  <td class="process-workers"></td>
  <td class="process-heartbeat"><time></time> <span class="stale-mark" hidden>not reporting</span></td>`;

export class ProcessesPanel {
  private processes: ProcessInfo[] = [];
  private owners = new Map<string, ProcessInfo>();
  /** When the last answer came, on the server's clock. */
  private answeredAt = 0;
  private readonly rows = new Map<string, HTMLTableRowElement>();
  private readonly title: HTMLElement;
  private readonly body: HTMLTableSectionElement;

  constructor(private readonly panel: HTMLElement) {
    this.title = Object.assign(document.createElement('h2'), { id: 'processes-title' });
    const table = document.createElement('table');
    table.className = 'processes';
    table.setAttribute('aria-labelledby', 'processes-title');
    table.innerHTML =
      '<thead><tr><th scope="col">Process</th><th scope="col">Role</th><th scope="col">Jobs running</th><th scope="col">Workers busy</th><th scope="col">Last heartbeat</th></tr></thead><tbody></tbody>';
    this.body = table.tBodies[0]!;
    const scroller = Object.assign(document.createElement('div'), { className: 'table-scroll' });
    scroller.append(table);
    panel.replaceChildren(this.title, scroller);
  }

  /** A new answer of `GET /queue`: `reported` is its `processes` field, whatever it holds; `answeredAt` on the server's clock. */
  show(reported: unknown, answeredAt: number): void {
    const processes = readProcesses(reported);
    this.answeredAt = answeredAt;
    this.processes = processes ?? [];
    this.owners = ownersOf(this.processes);
    this.panel.hidden = processes === null || processes.length === 0;
    setText(this.title, `Processes (${this.processes.length})`);
    const seen = new Set<string>();
    for (const p of this.processes) {
      seen.add(p.id);
      let row = this.rows.get(p.id);
      if (row === undefined) {
        row = document.createElement('tr');
        row.dataset.process = p.id;
        row.append(ROW.content.cloneNode(true));
        this.rows.set(p.id, row);
      }
      // Appending an existing row moves it: the table keeps the server's order.
      this.body.append(row);
      this.fill(row, p);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    this.tick(answeredAt);
  }

  /** Rewrites the relative times as of `now` (the server's clock): called every second. */
  tick(now: number): void {
    for (const p of this.processes) {
      const time = this.rows.get(p.id)?.querySelector('time');
      if (time) setText(time, formatAgo(Math.min(p.lastHeartbeatAt, now), now));
    }
  }

  /** The process that runs `job`, when a listed one does, else null. */
  ownerOf(job: string): Owner | null {
    const owner = this.owners.get(job);
    return owner === undefined ? null : ownerOf(owner, this.answeredAt);
  }

  /** Job slots of every listed process (their --concurrency summed), or null when none is listed. */
  get slots(): number | null {
    return this.processes.length === 0 ? null : this.processes.reduce((sum, p) => sum + p.concurrency, 0);
  }

  private fill(row: HTMLTableRowElement, p: ProcessInfo): void {
    const cell = (selector: string): HTMLElement => row.querySelector<HTMLElement>(selector)!;
    const reporting = isReporting(p, this.answeredAt);
    row.dataset.reporting = String(reporting);
    const name = cell('.process-name');
    setText(name, processName(p));
    name.title = p.id;
    setText(cell('.process-role'), p.role);
    const jobs = cell('.process-jobs');
    setText(jobs, `${p.jobs.length} of ${p.concurrency}`);
    jobs.title = p.jobs.length === 0 ? 'no job running' : `running ${p.jobs.join(', ')}`;
    setText(cell('.process-workers'), `${p.workersBusy} of ${p.workers}`);
    const time = row.querySelector('time')!;
    time.title = `last heartbeat ${formatExact(p.lastHeartbeatAt)}; started ${formatExact(p.startedAt)}`;
    time.dateTime = new Date(p.lastHeartbeatAt).toISOString();
    cell('.stale-mark').hidden = reporting;
  }
}

function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
