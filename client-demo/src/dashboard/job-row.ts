// One row of the jobs table: what makes a job recognisable at a glance (name, processor,
// status, progress, rate, times) and what can be done to it. Rows are recycled as the
// table scrolls; every write is skipped when the text is already the one shown.

import type { Snapshot } from '../../../server/protocol/types.js';
import { formatAgo, formatBytes, formatDuration, formatExact, formatPercent, formatRate } from '../format.js';
import { createProgressBar, type BarState, type ProgressBar } from '../progress-bar.js';
import type { Owner } from './processes.js';

/** What a row shows besides the snapshot: figures from the live events, and the process running the job. */
export interface RowFigures {
  bytesPerSecond: number | null;
  etaMs: number | null;
  /** The process that runs the job, while a listed one does (`GET /queue`), else null. */
  owner: Owner | null;
}

/** The name a person knows a job by: its label, else its first file name. */
export function jobName(s: Snapshot): string {
  return s.label ?? s.files[0]?.name ?? s.id;
}

const TEMPLATE = document.createElement('template');
TEMPLATE.innerHTML = `
  <div role="cell" class="c-job">
    <div class="line"><button type="button" class="job-name link" data-action="open"></button><span class="more"></span></div>
    <div class="meta"><code class="job-id"></code> · <span class="processor"></span> · <time></time></div>
  </div>
  <div role="cell" class="c-status"><span class="status"></span><div class="sub status-detail"></div></div>
  <div role="cell" class="c-progress"><div class="sub progress-detail"></div></div>
  <div role="cell" class="c-time"><div class="rate"></div><div class="sub time-detail"></div></div>
  <div role="cell" class="c-actions">
    <button type="button" class="small cancel" data-action="cancel">Cancel</button>
    <a class="small button-link download" data-action="download" download>Output</a>
    <button type="button" class="small secondary outputs" data-action="open">Outputs</button>
    <button type="button" class="small secondary copy" data-action="copy">Copy link</button>
  </div>`;

export class JobRow {
  readonly element: HTMLElement;
  private readonly bar: ProgressBar;
  private readonly parts: Record<
    'name' | 'more' | 'id' | 'processor' | 'time' | 'status' | 'statusDetail' | 'progressDetail' | 'rate' | 'timeDetail' | 'cancel' | 'download' | 'outputs' | 'copy',
    HTMLElement
  >;
  /** What each part shows now, keyed by part and attribute. */
  private readonly shown = new Map<string, string | boolean>();

  constructor() {
    this.element = document.createElement('div');
    this.element.className = 'job-row';
    this.element.setAttribute('role', 'row');
    this.element.append(TEMPLATE.content.cloneNode(true));
    const q = (selector: string) => this.element.querySelector<HTMLElement>(selector)!;
    this.parts = {
      name: q('.job-name'),
      more: q('.more'),
      id: q('.job-id'),
      processor: q('.processor'),
      time: q('time'),
      status: q('.status'),
      statusDetail: q('.status-detail'),
      progressDetail: q('.progress-detail'),
      rate: q('.rate'),
      timeDetail: q('.time-detail'),
      cancel: q('.cancel'),
      download: q('.download'),
      outputs: q('.outputs'),
      copy: q('.copy'),
    };
    this.bar = createProgressBar('progress');
    q('.c-progress').prepend(this.bar.element);
  }

  /** Shows `s` as of `now` (the server's clock). */
  update(s: Snapshot, figures: RowFigures, now: number): void {
    const name = jobName(s);
    this.set('row', 'data-job', s.id);
    this.set('row', 'data-status', s.status);
    this.set('name', 'text', name);
    this.set('name', 'title', name);
    this.set('more', 'text', s.label === null && s.files.length > 1 ? `+${s.files.length - 1} more` : '');
    this.set('id', 'text', s.id.slice(0, 10));
    this.set('id', 'title', s.id);
    this.set('processor', 'text', s.processor);
    this.set('time', 'text', formatAgo(s.createdAt, now));
    this.set('time', 'title', `created ${formatExact(s.createdAt)}`);
    this.set('time', 'datetime', new Date(s.createdAt).toISOString());
    this.set('status', 'text', s.status);
    this.set('status', 'data-status', s.status);
    const owner = s.status === 'running' ? figures.owner : null;
    this.set('statusDetail', 'text', owner?.text ?? statusDetail(s, now));
    this.set('statusDetail', 'title', owner?.title ?? '');
    this.set('statusDetail', 'data-reporting', owner === null ? '' : String(owner.isReporting));
    this.showProgress(s);
    this.showTimes(s, figures, now);
    this.showActions(s, name);
  }

  private showProgress(s: Snapshot): void {
    const { progress } = s;
    const percent = formatPercent(progress.fraction);
    this.bar.set(progress.fraction, `${percent}, ${s.status}`, barState(s.status));
    const failed = progress.filesFailed > 0 ? `, ${progress.filesFailed} failed` : '';
    this.set('progressDetail', 'text', `${percent} · ${progress.filesDone}/${progress.filesTotal} files${failed} · ${formatBytes(progress.bytesTotal)}`);
  }

  private showTimes(s: Snapshot, figures: RowFigures, now: number): void {
    if (s.status === 'running') {
      this.set('rate', 'text', formatRate(figures.bytesPerSecond));
      const eta = figures.etaMs === null ? '—' : formatDuration(figures.etaMs);
      this.set('timeDetail', 'text', `${formatDuration(now - (s.startedAt ?? now))} elapsed · ETA ${eta}`);
    } else if (s.startedAt !== null && s.finishedAt !== null) {
      const tookMs = s.finishedAt - s.startedAt;
      this.set('rate', 'text', s.status === 'completed' && tookMs > 0 ? `${formatRate((s.progress.bytesTotal / tookMs) * 1000)} avg` : '—');
      this.set('timeDetail', 'text', `took ${formatDuration(tookMs)}`);
    } else {
      this.set('rate', 'text', '—');
      this.set('timeDetail', 'text', '');
    }
  }

  private showActions(s: Snapshot, name: string): void {
    const isActive = s.status === 'queued' || s.status === 'running';
    const outputs = s.files.filter((f) => f.output);
    this.set('cancel', 'hidden', !isActive);
    this.set('cancel', 'aria-label', `Cancel ${name}`);
    this.set('name', 'aria-label', `Open ${name}`);
    this.set('copy', 'aria-label', `Copy the link of ${name}`);
    this.set('download', 'hidden', outputs.length !== 1);
    this.set('download', 'aria-label', `Download the output of ${name}`);
    this.set('download', 'href', outputs.length === 1 ? `/jobs/${encodeURIComponent(s.id)}/files/${outputs[0]!.index}/output` : '');
    this.set('outputs', 'hidden', outputs.length < 2);
    this.set('outputs', 'text', `Outputs (${outputs.length})`);
    this.set('outputs', 'aria-label', `Open ${name} to download its ${outputs.length} outputs`);
  }

  /** Writes `value` to an attribute (or text, or hidden) of a part unless it is already there. */
  private set(part: keyof JobRow['parts'] | 'row', what: string, value: string | boolean): void {
    const key = `${part}.${what}`;
    if (this.shown.get(key) === value) return;
    this.shown.set(key, value);
    const element = part === 'row' ? this.element : this.parts[part];
    if (what === 'text') element.textContent = value as string;
    else if (what === 'hidden') element.hidden = value as boolean;
    else if (value === '') element.removeAttribute(what);
    else element.setAttribute(what, value as string);
  }
}

function statusDetail(s: Snapshot, now: number): string {
  if (s.status === 'queued') {
    const position = s.queuePosition === null ? '' : `#${s.queuePosition} · `;
    return `${position}waited ${formatDuration(now - s.createdAt)}`;
  }
  if (s.status === 'failed') return s.error?.code ?? s.files.find((f) => f.error !== null)?.error?.code ?? '';
  return '';
}

function barState(status: Snapshot['status']): BarState {
  return status === 'completed' ? 'done' : status === 'queued' ? 'pending' : status;
}
