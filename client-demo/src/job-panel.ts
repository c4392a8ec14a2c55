// Renders one job: the overall bar with elapsed time, then a row per file with its own
// bar, status, time taken, rate and ETA, error, and output download. Built once,
// updated in place, so a 1000-file job does not rebuild the DOM on every event.

import type { FileState, JobEvent, Snapshot } from '../../server/protocol/types.js';
import { formatBytes, formatDuration, formatPercent, formatRate } from './format.js';
import { createProgressBar, type ProgressBar } from './progress-bar.js';
import { serverNow } from './server-clock.js';

interface FileRow {
  element: HTMLLIElement;
  bar: ProgressBar;
  status: HTMLElement;
  details: HTMLElement;
  error: HTMLElement;
  download: HTMLAnchorElement;
}

/** The latest rate and ETAs from `file.progress` events (snapshots do not carry them). */
interface LiveFigures {
  rate: number | null;
  etaMs: number | null;
}

export class JobPanel {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly overall: ProgressBar;
  private readonly summary: HTMLElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly list: HTMLOListElement;
  private rows: FileRow[] = [];
  private live = new Map<number, LiveFigures>();
  private jobEtaMs: number | null = null;
  private snapshot: Snapshot | null = null;

  constructor(onCancel: (jobId: string) => void) {
    this.element = document.createElement('section');
    this.element.className = 'job';
    this.element.setAttribute('aria-label', 'job');
    this.element.innerHTML = `
      <header class="job-head">
        <h2 class="job-title"></h2>
        <span class="status" role="status"></span>
        <button type="button" class="cancel">Cancel</button>
      </header>
      <div class="overall"></div>
      <p class="summary" aria-live="polite"></p>
      <ol class="files"></ol>`;
    this.title = this.element.querySelector('.job-title')!;
    this.status = this.element.querySelector('.status')!;
    this.summary = this.element.querySelector('.summary')!;
    this.cancelButton = this.element.querySelector('.cancel')!;
    this.list = this.element.querySelector('.files')!;
    this.overall = createProgressBar('whole job');
    this.element.querySelector('.overall')!.append(this.overall.element);
    this.cancelButton.addEventListener('click', () => this.snapshot && onCancel(this.snapshot.id));
  }

  /** Shows the job as of `snapshot`; `event` is the event that produced it, when there was one. */
  update(snapshot: Snapshot, event?: JobEvent): void {
    if (this.snapshot?.id !== snapshot.id) this.build(snapshot);
    if (event?.name === 'file.progress') {
      this.live.set(event.data.file, { rate: event.data.rate, etaMs: event.data.etaMs });
      this.jobEtaMs = event.data.jobEtaMs;
    }
    if (event?.name === 'job.requeued') this.live.clear();
    this.snapshot = snapshot;
    this.title.innerHTML = '';
    this.title.append(`Job `, Object.assign(document.createElement('code'), { textContent: snapshot.id }));
    if (snapshot.label) this.title.append(` — ${snapshot.label}`);
    const position = snapshot.status === 'queued' && snapshot.queuePosition !== null ? ` (#${snapshot.queuePosition} in queue)` : '';
    this.status.textContent = `${snapshot.status}${position}`;
    this.status.dataset.status = snapshot.status;
    this.cancelButton.hidden = snapshot.status !== 'queued' && snapshot.status !== 'running';
    snapshot.files.forEach((file, i) => this.updateRow(this.rows[i]!, snapshot, file));
    this.tick();
  }

  /** Refreshes the clock-driven figures (elapsed time); called every few hundred ms. */
  tick(): void {
    const s = this.snapshot;
    if (s === null) return;
    const { progress } = s;
    const elapsed = s.startedAt === null ? null : (s.finishedAt ?? serverNow()) - s.startedAt;
    const eta = s.status === 'running' && this.jobEtaMs !== null ? ` · about ${formatDuration(this.jobEtaMs)} left` : '';
    const failed = progress.filesFailed > 0 ? `, ${progress.filesFailed} failed` : '';
    const text = `${progress.filesDone} of ${progress.filesTotal} files done${failed} · ${formatPercent(progress.fraction)} of ${formatBytes(progress.bytesTotal)} · elapsed ${formatDuration(elapsed)}${eta}`;
    this.summary.textContent = text;
    this.overall.set(progress.fraction, `${formatPercent(progress.fraction)}, ${s.status}`, barState(s.status));
  }

  private build(snapshot: Snapshot): void {
    this.list.innerHTML = '';
    this.live.clear();
    this.jobEtaMs = null;
    this.rows = snapshot.files.map((file) => {
      const element = document.createElement('li');
      element.className = 'file';
      const name = document.createElement('span');
      name.className = 'file-name';
      name.textContent = `${file.name} (${formatBytes(file.size)})`;
      const status = document.createElement('span');
      status.className = 'file-status';
      const bar = createProgressBar(`file ${file.name}`);
      const details = document.createElement('span');
      details.className = 'file-details';
      const error = document.createElement('span');
      error.className = 'file-error';
      const download = document.createElement('a');
      download.className = 'file-download';
      download.textContent = 'Download output';
      download.hidden = true;
      element.append(name, status, bar.element, details, error, download);
      this.list.append(element);
      return { element, bar, status, details, error, download };
    });
  }

  private updateRow(row: FileRow, snapshot: Snapshot, file: FileState): void {
    row.element.dataset.status = file.status;
    row.status.textContent = file.status;
    row.bar.set(file.fraction, `${formatPercent(file.fraction)}, ${file.status}`, barState(file.status));
    row.details.textContent = fileDetails(file, this.live.get(file.index));
    row.error.textContent = file.error === null ? '' : `${file.error.code}: ${file.error.message}`;
    row.download.hidden = !file.output;
    if (file.output) row.download.href = `/jobs/${snapshot.id}/files/${file.index}/output`;
  }
}

function fileDetails(file: FileState, live: LiveFigures | undefined): string {
  if (file.status === 'done' || file.status === 'failed') {
    const rate = file.durationMs ? (file.size / file.durationMs) * 1000 : null;
    return `took ${formatDuration(file.durationMs)} · ${formatRate(rate)}`;
  }
  if (file.status === 'running') {
    const elapsed = file.startedAt === null ? null : serverNow() - file.startedAt;
    const rate = live?.rate !== undefined && live.rate !== null && file.total === file.size ? formatRate(live.rate) : '—';
    const eta = live?.etaMs === undefined || live.etaMs === null ? '—' : formatDuration(live.etaMs);
    return `${formatDuration(elapsed)} so far · ${rate} · ETA ${eta}`;
  }
  return '';
}

function barState(status: string): 'running' | 'done' | 'failed' | 'cancelled' | 'pending' {
  switch (status) {
    case 'completed':
    case 'done':
      return 'done';
    case 'failed':
    case 'cancelled':
    case 'running':
    case 'pending':
      return status;
    default:
      return 'pending';
  }
}
