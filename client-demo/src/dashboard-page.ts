// The live dashboard: every queued, running and recently finished job through the
// `*` subscription, with queue positions, progress, and a throughput chart.

import { createClient, type JobcastClient } from '../../client/jobcast-client.js';
import type { Snapshot } from '../../server/protocol/types.js';
import { savedToken, saveToken } from './api.js';
import { renderConnection } from './connection-badge.js';
import { formatBytes, formatPercent, formatRate } from './format.js';
import { createProgressBar, type ProgressBar } from './progress-bar.js';
import { ThroughputChart } from './throughput-chart.js';
import { askForToken } from './token-prompt.js';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;
/** Rows shown at most; the rest are counted in the totals. */
const MAX_ROWS = 200;

interface Row {
  element: HTMLTableRowElement;
  status: HTMLElement;
  bar: ProgressBar;
  files: HTMLElement;
}

const rows = new Map<string, Row>();
const tbody = $<HTMLTableSectionElement>('#jobs');
const chart = new ThroughputChart($<HTMLCanvasElement>('#chart'));
let jobs: ReadonlyMap<string, Snapshot> = new Map();
let client: JobcastClient;
let stop: (() => void) | null = null;

function start(): void {
  stop?.();
  client?.close();
  client = createClient({ url: location.origin, token: savedToken() ?? undefined });
  client.onConnectionState((state, detail) => renderConnection($('#connection'), state, detail));
  stop = client.watchAll(
    (all) => {
      jobs = all;
      render();
    },
    (error) => void onError(error),
  );
}

async function onError(error: { code: string; message: string }): Promise<void> {
  if (error.code !== 'unauthorized') return showMessage(`${error.code}: ${error.message}`);
  const token = await askForToken();
  if (token === null) return showMessage('The dashboard needs the server token.');
  saveToken(token);
  showMessage('');
  start();
}

function showMessage(text: string): void {
  const message = $('#message');
  message.textContent = text;
  message.hidden = text === '';
}

/** Running first, then the queue in order, then the most recently finished. */
function order(a: Snapshot, b: Snapshot): number {
  const rank = (s: Snapshot) => (s.status === 'running' ? 0 : s.status === 'queued' ? 1 : 2);
  return (
    rank(a) - rank(b) ||
    (a.queuePosition ?? 0) - (b.queuePosition ?? 0) ||
    (b.finishedAt ?? 0) - (a.finishedAt ?? 0) ||
    b.createdAt - a.createdAt
  );
}

function render(): void {
  const all = [...jobs.values()].sort(order);
  const shown = all.slice(0, MAX_ROWS);
  const keep = new Set(shown.map((s) => s.id));
  for (const [id, row] of rows) if (!keep.has(id)) (row.element.remove(), rows.delete(id));
  shown.forEach((snapshot, i) => {
    const row = rows.get(snapshot.id) ?? createRow(snapshot);
    updateRow(row, snapshot);
    if (tbody.children[i] !== row.element) tbody.insertBefore(row.element, tbody.children[i] ?? null);
  });
  const count = (status: string) => all.filter((s) => s.status === status).length;
  $('#stat-queued').textContent = String(count('queued'));
  $('#stat-running').textContent = String(count('running'));
  $('#stat-finished').textContent = String(all.length - count('queued') - count('running'));
}

function createRow(snapshot: Snapshot): Row {
  const element = document.createElement('tr');
  const name = document.createElement('td');
  const link = document.createElement('a');
  link.href = `/?job=${encodeURIComponent(snapshot.id)}`;
  link.textContent = snapshot.label ?? snapshot.id;
  name.append(link);
  const status = document.createElement('td');
  const progress = document.createElement('td');
  const bar = createProgressBar(`job ${snapshot.label ?? snapshot.id}`);
  progress.append(bar.element);
  const files = document.createElement('td');
  const size = document.createElement('td');
  size.textContent = formatBytes(snapshot.progress.bytesTotal);
  element.append(name, status, progress, files, size);
  const row = { element, status, bar, files };
  rows.set(snapshot.id, row);
  return row;
}

function updateRow(row: Row, s: Snapshot): void {
  row.element.dataset.status = s.status;
  row.status.textContent = s.status === 'queued' && s.queuePosition !== null ? `queued #${s.queuePosition}` : s.status;
  const state = s.status === 'completed' ? 'done' : s.status === 'queued' ? 'pending' : s.status;
  row.bar.set(s.progress.fraction, `${formatPercent(s.progress.fraction)}, ${s.status}`, state);
  const failed = s.progress.filesFailed > 0 ? ` (${s.progress.filesFailed} failed)` : '';
  row.files.textContent = `${s.progress.filesDone}/${s.progress.filesTotal}${failed}`;
}

// Throughput: bytes processed per second, from how far every job's progress moved.
let lastProcessed: Map<string, number> = new Map();
setInterval(() => {
  let delta = 0;
  const processed = new Map<string, number>();
  for (const s of jobs.values()) {
    const bytes = s.progress.fraction * s.progress.bytesTotal;
    processed.set(s.id, bytes);
    // A requeued job starts its file again: progress going back is not negative work.
    delta += Math.max(0, bytes - (lastProcessed.get(s.id) ?? (s.status === 'queued' ? 0 : bytes)));
  }
  lastProcessed = processed;
  chart.push(delta);
  $('#stat-rate').textContent = formatRate(delta);
}, 1000);

start();
