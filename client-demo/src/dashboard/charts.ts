// The dashboard's charts, drawn by uPlot (canvas, made for live time series): throughput
// in MB/s and files/s, queue depth, both over the last minutes; and the distribution of
// recent job durations with its p50 and p95. Each chart fits its container's width.

import uPlot from 'uplot';
import { formatDuration } from '../format.js';
import { BUCKET_EDGES_MS, bucketPosition, type DurationSummary } from './durations.js';

/** One sample per second over this many seconds. */
export const WINDOW_S = 300;
const HEIGHT_PX = 170;
const COLORS = { blue: '#2563eb', green: '#15803d', amber: '#b45309', muted: '#5b6470', grid: '#e5e7eb' };
const AXIS = { stroke: COLORS.muted, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 } };

/** Creates the chart in `container` and keeps it as wide as the container. */
function mount(container: HTMLElement, options: Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData): uPlot {
  const chart = new uPlot({ ...options, width: Math.max(200, container.clientWidth), height: HEIGHT_PX }, data, container);
  new ResizeObserver(() => {
    const width = Math.max(200, container.clientWidth);
    if (width !== chart.width) chart.setSize({ width, height: HEIGHT_PX });
  }).observe(container);
  return chart;
}

/** A y range that starts at 0 and leaves room above the largest value. */
const fromZero = (minimum: number): uPlot.Range.Function => (_u, _min, max) => [0, Math.max(minimum, max * 1.1)];

/** A rolling window of per-second samples for a time-series chart. */
class Window {
  readonly columns: number[][];
  constructor(series: number) {
    this.columns = Array.from({ length: series + 1 }, () => []);
  }
  push(seconds: number, values: number[]): uPlot.AlignedData {
    this.columns[0]!.push(seconds);
    values.forEach((v, i) => this.columns[i + 1]!.push(v));
    if (this.columns[0]!.length > WINDOW_S) for (const column of this.columns) column.shift();
    return this.columns as uPlot.AlignedData;
  }
}

export class ThroughputChart {
  private readonly chart: uPlot;
  private readonly window = new Window(2);

  constructor(container: HTMLElement) {
    this.chart = mount(
      container,
      {
        scales: { x: { time: true }, mbps: { range: fromZero(1) }, files: { range: fromZero(1) } },
        series: [
          {},
          { label: 'MB/s', scale: 'mbps', stroke: COLORS.blue, width: 2, fill: 'rgba(37, 99, 235, .08)', points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} MB/s`) },
          { label: 'files/s', scale: 'files', stroke: COLORS.green, width: 2, points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} files/s`) },
        ],
        axes: [
          AXIS,
          { ...AXIS, scale: 'mbps', label: 'MB/s', size: 50 },
          { ...AXIS, scale: 'files', label: 'files/s', side: 1, size: 50, grid: { show: false } },
        ],
      },
      this.window.columns as uPlot.AlignedData,
    );
  }

  /** One second's work: bytes and files finished. */
  push(seconds: number, bytes: number, files: number): void {
    this.chart.setData(this.window.push(seconds, [bytes / 1e6, files]));
  }
}

export class QueueChart {
  private readonly chart: uPlot;
  private readonly window = new Window(2);

  constructor(container: HTMLElement) {
    this.chart = mount(
      container,
      {
        scales: { x: { time: true }, jobs: { range: fromZero(4) } },
        series: [
          {},
          { label: 'queued', scale: 'jobs', stroke: COLORS.amber, width: 2, fill: 'rgba(180, 83, 9, .08)', points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v} jobs`) },
          { label: 'running', scale: 'jobs', stroke: COLORS.blue, width: 2, points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v} jobs`) },
        ],
        axes: [AXIS, { ...AXIS, scale: 'jobs', label: 'jobs', size: 50 }],
      },
      this.window.columns as uPlot.AlignedData,
    );
  }

  push(seconds: number, queued: number, running: number): void {
    this.chart.setData(this.window.push(seconds, [queued, running]));
  }
}

/** Short label of a bucket edge: "10 ms", "2 s", "5 min". */
function edgeLabel(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

export class DurationChart {
  private readonly chart: uPlot;
  private summary: DurationSummary | null = null;

  constructor(container: HTMLElement) {
    this.chart = mount(
      container,
      {
        scales: { x: { time: false, range: () => this.xRange() }, jobs: { range: fromZero(1) } },
        series: [
          { value: (_u, v) => (v === null ? '—' : `from ${edgeLabel(BUCKET_EDGES_MS[Math.floor(v)] ?? 0)}`) },
          { label: 'jobs', scale: 'jobs', stroke: COLORS.blue, fill: 'rgba(37, 99, 235, .35)', width: 1, paths: uPlot.paths.bars!({ size: [0.9, 80] }), points: { show: false } },
        ],
        axes: [
          { ...AXIS, label: 'job duration', splits: (u) => this.splits(u), values: (_u, splits) => splits.map((v) => edgeLabel(BUCKET_EDGES_MS[v] ?? 0)) },
          { ...AXIS, scale: 'jobs', label: 'jobs', size: 50 },
        ],
        legend: { show: false },
        hooks: { draw: [(u) => this.drawPercentiles(u)] },
      },
      [[], []],
    );
  }

  show(summary: DurationSummary): void {
    this.summary = summary;
    // Bar i is drawn at i + 0.5: bucket i spans i..i+1 on the axis, edges at the integers.
    // Empty buckets as gaps (null), not zero-height bars drawn as a line along the axis.
    this.chart.setData([summary.counts.map((_, i) => i + 0.5), summary.counts.map((n) => (n === 0 ? null : n))]);
  }

  /** The buckets that hold jobs, with one empty bucket each side (at least six in all). */
  private xRange(): uPlot.Range.MinMax {
    const counts = this.summary?.counts ?? [];
    const used = counts.flatMap((n, i) => (n > 0 ? [i] : []));
    if (used.length === 0) return [6, 12];
    let low = Math.max(0, used[0]! - 1);
    let high = Math.min(BUCKET_EDGES_MS.length, used[used.length - 1]! + 2);
    while (high - low < 6) (low > 0 ? low-- : high++);
    return [low, high];
  }

  private splits(u: uPlot): number[] {
    const [low, high] = this.xRange();
    const step = Math.max(1, Math.ceil(((high! - low!) * 56) / Math.max(1, u.bbox.width / devicePixelRatio)));
    const splits: number[] = [];
    for (let v = low!; v < high!; v += step) splits.push(v);
    return splits;
  }

  private drawPercentiles(u: uPlot): void {
    const summary = this.summary;
    if (summary === null || summary.p50Ms === null || summary.p95Ms === null) return;
    const { ctx, bbox } = u;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = devicePixelRatio;
    ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
    for (const [name, ms, color] of [['p50', summary.p50Ms, COLORS.green], ['p95', summary.p95Ms, COLORS.amber]] as const) {
      const x = u.valToPos(bucketPosition(ms), 'x', true);
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(`${name} ${formatDuration(ms)}`, x + 4 * devicePixelRatio, bbox.top + (name === 'p50' ? 14 : 30) * devicePixelRatio);
    }
    ctx.restore();
  }
}
