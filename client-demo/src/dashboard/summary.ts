// Once a second: the totals at the top, a sample for each time chart, and the duration
// figures when a job has finished since. Screen readers get the same figures as text on
// the charts (their aria-label), read on demand rather than announced.

import { formatBytes, formatDuration, formatPerSecond, formatRate } from '../format.js';
import { DurationChart, QueueChart, ThroughputChart } from './charts.js';
import { summariseDurations } from './durations.js';
import type { JobList } from './job-list.js';
import type { WorkMeter } from './live-figures.js';

const $ = (selector: string): HTMLElement => document.querySelector<HTMLElement>(selector)!;

export class Summary {
  private readonly throughput = new ThroughputChart($('#chart-throughput'));
  private readonly queue = new QueueChart($('#chart-queue'));
  private readonly durations = new DurationChart($('#chart-durations'));
  private areDurationsStale = true;
  private peakBytes = 0;
  /** Job slots of the server (`concurrency` from `GET /queue`), when known. */
  concurrency: number | null = null;

  constructor(
    private readonly list: JobList,
    private readonly work: WorkMeter,
  ) {}

  /** A job finished (or a page of old jobs arrived): the duration figures are due again. */
  durationsChanged(): void {
    this.areDurationsStale = true;
  }

  /** Takes one second's sample; `now` is the local clock. */
  sample(now: number): void {
    const seconds = Math.round(now / 1000);
    const { bytes, files } = this.work.take();
    const counts = this.list.liveCounts();
    this.throughput.push(seconds, bytes, files);
    this.queue.push(seconds, counts.queued, counts.running);
    this.peakBytes = Math.max(this.peakBytes * 0.995, bytes);
    text('#stat-running', String(counts.running));
    text('#stat-slots', this.concurrency === null ? '' : `of ${this.concurrency} slots`);
    text('#stat-queued', String(counts.queued));
    text('#stat-wait', counts.oldestQueuedAt === null ? '' : `oldest waiting ${formatDuration(now - counts.oldestQueuedAt)}`);
    text('#stat-bytes', formatRate(bytes));
    text('#stat-files', formatPerSecond(files, 'files').replace(/ files\/s$/, ''));
    label('#chart-throughput', `Throughput now ${formatRate(bytes)} and ${formatPerSecond(files, 'files')}; about ${formatBytes(this.peakBytes)}/s at the recent peak`);
    label('#chart-queue', `Queue depth now ${counts.queued} queued and ${counts.running} running`);
    if (this.areDurationsStale) this.showDurations();
  }

  private showDurations(): void {
    this.areDurationsStale = false;
    const summary = summariseDurations(this.list.all());
    this.durations.show(summary);
    text('#stat-p50', summary.p50Ms === null ? '—' : formatDuration(summary.p50Ms));
    text('#stat-p95', summary.p95Ms === null ? '—' : formatDuration(summary.p95Ms));
    text('#durations-caption', summary.count === 0 ? 'no completed jobs yet' : `last ${summary.count} completed jobs`);
    label(
      '#chart-durations',
      summary.count === 0
        ? 'Job durations: no completed jobs yet'
        : `Job durations of the last ${summary.count} completed jobs: p50 ${formatDuration(summary.p50Ms)}, p95 ${formatDuration(summary.p95Ms)}`,
    );
  }
}

function text(selector: string, value: string): void {
  const element = $(selector);
  if (element.textContent !== value) element.textContent = value;
}

function label(selector: string, value: string): void {
  $(selector).setAttribute('aria-label', value);
}
