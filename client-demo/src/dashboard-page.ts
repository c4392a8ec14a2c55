// The live dashboard: every job of the `*` subscription and, page by page, older ones
// from `GET /jobs`, in one filtered and searchable table drawn once per animation frame;
// charts of throughput, queue depth and job durations; a job opened in a dialog with
// its per-file bars. The parts live in dashboard/; this file wires them together.

import 'uplot/dist/uPlot.min.css';
import { createClient, type JobcastClient } from '../../client/jobcast-client.js';
import type { JobEvent, Snapshot } from '../../server/protocol/types.js';
import { isFinalStatus, JOB_STATUSES } from '../../server/protocol/types.js';
import { ApiError, cancelJob, fetchQueue, listJobs, savedToken, saveToken, serverNeedsToken } from './api.js';
import { renderConnection } from './connection-badge.js';
import { HistoryPager } from './dashboard/history.js';
import { JobDialog } from './dashboard/job-dialog.js';
import { JobList, type Filter, type StatusFilter } from './dashboard/job-list.js';
import { jobName } from './dashboard/job-row.js';
import { JobsTable } from './dashboard/jobs-table.js';
import { JobFiguresTable, WorkMeter } from './dashboard/live-figures.js';
import { ProcessesPanel } from './dashboard/processes-panel.js';
import { Summary } from './dashboard/summary.js';
import { observeServerTime, serverNow } from './server-clock.js';
import { askForToken } from './token-prompt.js';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;
const statusSelect = $<HTMLSelectElement>('#status-filter');
const searchInput = $<HTMLInputElement>('#search');
const olderButton = $<HTMLButtonElement>('#load-older');

const list = new JobList();
const figures = new JobFiguresTable();
const work = new WorkMeter();
const summary = new Summary(list, work);
const processes = new ProcessesPanel($('#processes'));
let client: JobcastClient | null = null;
let hasReadHistory = false;

const table = new JobsTable($('#job-rows'), $('#job-table'), {
  list,
  figures,
  onOpen: (id, from) => dialog.open(id, list.get(id), from),
  onCancel: (id) => void cancel(id),
  onCopyLink: (id) => void copyLink(id),
  ownerOf: (id) => processes.ownerOf(id),
  onDrawn: (count) => showCount(count),
});
const pager = new HistoryPager(
  list,
  () => {
    summary.durationsChanged();
    table.changedAll();
    showOlderButton();
  },
  (error) => void onRequestError(error),
);
const dialog = new JobDialog({
  client: () => client!,
  onCancel: (id) => void cancel(id),
  onCopyLink: (id) => void copyLink(id),
  onGone: (id) => {
    list.forget(id);
    table.changedAll();
  },
});

/** (Re)connects with the saved token and follows `*`. */
function connect(): void {
  client?.close();
  list.clearLive();
  hasReadHistory = false;
  const current = createClient({ url: location.origin, token: savedToken() ?? undefined });
  client = current;
  current.onConnectionState((state, detail) => {
    renderConnection($('#connection'), state, detail);
    if (state === 'live' && !hasReadHistory) {
      // The `*` catch-up was accepted, so the token is good for `GET /jobs` too.
      hasReadHistory = true;
      void pager.reset(currentFilter()).then(showOlderButton);
      showOlderButton();
      void refreshQueue();
    }
    if (state === 'reconnecting' && detail.attempt === 3 && !hasReadHistory && savedToken() !== null) void checkToken();
  });
  current.watchAllChanges(jobOnChange, (error) => {
    if (error.code === 'unauthorized') void askAgain('The server refused the token.');
    else showMessage(`${error.code}: ${error.message}`);
  });
  dialog.rewatch();
}

function jobOnChange(id: string, snapshot: Snapshot | null, event?: JobEvent): void {
  if (event !== undefined) observeServerTime(event.ts);
  if (snapshot === null) figures.forget(id);
  else {
    figures.onChange(snapshot, event, Date.now());
    work.onChange(list.get(id), snapshot, event);
    if (isFinalStatus(snapshot.status)) summary.durationsChanged();
  }
  list.setLive(id, snapshot);
  table.changed(id);
}

// The token (--token): asked for once, kept for the session (sessionStorage).

let asking: Promise<boolean> | null = null;

/** Asks for the token (once at a time); true when one was given. */
function ensureToken(problem?: string): Promise<boolean> {
  asking ??= askForToken(problem).then((token) => {
    asking = null;
    if (token === null) {
      showMessage('The dashboard needs the server token.', 'Enter the token', () => void askAgain());
      return false;
    }
    saveToken(token);
    showMessage('');
    return true;
  });
  return asking;
}

async function askAgain(problem?: string): Promise<void> {
  saveToken(null);
  if (await ensureToken(problem)) connect();
}

/** A socket that never gets in with a saved token may be refused at the door (1008): ask the HTTP API which. */
async function checkToken(): Promise<void> {
  try {
    await listJobs({ limit: 1 });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthorized') await askAgain('The server refused the token.');
  }
}

async function onRequestError(error: unknown): Promise<void> {
  if (error instanceof ApiError && error.code === 'unauthorized') return askAgain('The server refused the token.');
  showMessage(error instanceof Error ? error.message : String(error));
}

// Actions.

async function cancel(id: string): Promise<void> {
  const name = jobName(list.get(id) ?? ({ id, label: null, files: [] } as unknown as Snapshot));
  try {
    await cancelJob(id);
    announce(`Cancel sent for ${name}.`);
  } catch (error) {
    await onRequestError(error);
  }
}

async function copyLink(id: string): Promise<void> {
  const url = `${location.origin}/dashboard?job=${encodeURIComponent(id)}`;
  try {
    await navigator.clipboard.writeText(url);
    announce('Link copied.');
  } catch {
    // No clipboard (an insecure origin, a denied permission): show the link to copy by hand.
    showMessage(`Copy this link: ${url}`);
  }
}

// Filter and search.

function currentFilter(): Filter {
  return { status: statusSelect.value as StatusFilter, q: searchInput.value };
}

function filterChanged(): void {
  const filter = currentFilter();
  list.setFilter(filter);
  table.changedAll();
  const url = new URL(location.href);
  for (const [key, value] of [['status', filter.status === 'all' ? '' : filter.status], ['q', filter.q.trim()]] as const) {
    if (value === '') url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  window.history.replaceState(window.history.state, '', url);
  if (hasReadHistory) {
    void pager.reset(filter).then(() => {
      showOlderButton();
      announce(`${list.ids().length} ${list.ids().length === 1 ? 'job' : 'jobs'} shown.`);
    });
  }
  showOlderButton();
}

function showOlderButton(): void {
  olderButton.hidden = !pager.hasMore;
  olderButton.disabled = pager.isLoading;
}

/** Called after every frame drawn: writes only what changed (a text write would cost a layout per frame). */
function showCount(count: number): void {
  const text = `${count} ${count === 1 ? 'job' : 'jobs'}${pager.hasMore ? '; older ones on the server' : ''}`;
  const element = $('#list-count');
  if (element.textContent !== text) element.textContent = text;
  const empty = $('#empty');
  if (empty.hidden !== count > 0) empty.hidden = count > 0;
}

// Messages.

function showMessage(text: string, action?: string, onAction?: () => void): void {
  const message = $('#message');
  message.querySelector('.text')!.textContent = text;
  message.hidden = text === '';
  const button = $<HTMLButtonElement>('#message-action');
  button.hidden = action === undefined;
  button.textContent = action ?? '';
  button.onclick = onAction ?? null;
}

function announce(text: string): void {
  $('#announce').textContent = text;
}

// `GET /queue` is polled rather than pushed: it is a few reads of the store, the
// processes report every few seconds anyway, and the WebSocket protocol stays as it is.
const QUEUE_POLL_MS = 2000;
let isRefreshing = false;

async function refreshQueue(): Promise<void> {
  if (client?.connectionState !== 'live' || isRefreshing || document.hidden) return;
  isRefreshing = true;
  try {
    const queue = await fetchQueue();
    processes.show(queue.processes, serverNow());
    // Every process's slots when they are listed: the running count is the cluster's too.
    summary.concurrency = processes.slots ?? queue.concurrency;
    table.changedAll();
  } catch {
    // The figures wait for the next try; the connection badge already tells of an outage.
  } finally {
    isRefreshing = false;
  }
}

// Start.

const params = new URLSearchParams(location.search);
const status = params.get('status');
if (status !== null && (status === 'active' || (JOB_STATUSES as readonly string[]).includes(status))) statusSelect.value = status;
searchInput.value = params.get('q') ?? '';
list.setFilter(currentFilter());

statusSelect.addEventListener('change', filterChanged);
let searchTimer: ReturnType<typeof setTimeout> | undefined;
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(filterChanged, 250);
});
$('#filters').addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(searchTimer);
  filterChanged();
});
olderButton.addEventListener('click', () => {
  void pager.loadMore().then(showOlderButton);
  showOlderButton();
});
window.addEventListener('popstate', () => {
  const id = new URLSearchParams(location.search).get('job');
  if (id === null) dialog.close();
  else if (id !== dialog.jobId) dialog.open(id, list.get(id));
});
setInterval(() => {
  summary.sample(Date.now());
  processes.tick(serverNow());
  table.changedAll();
}, 1000);
setInterval(() => void refreshQueue(), QUEUE_POLL_MS);
document.addEventListener('visibilitychange', () => void refreshQueue());

void (async () => {
  if (serverNeedsToken() && savedToken() === null && !(await ensureToken())) return;
  connect();
  const opened = params.get('job');
  if (opened !== null) dialog.open(opened, list.get(opened), searchInput);
})();
