// The upload page: choose or drop files, pick a processor, start; an upload bar while
// the bytes go up, then the job live over WebSocket through the client SDK. The job's
// URL (?job=ID) can be shared: another tab picks the job up from its snapshot.

import { createClient, type JobcastClient } from '../../client/jobcast-client.js';
import { ApiError, cancelJob, fetchProcessors, savedToken, saveToken, serverNeedsToken, uploadJob } from './api.js';
import { renderConnection } from './connection-badge.js';
import { formatBytes, formatPercent, formatRate } from './format.js';
import { JobPanel } from './job-panel.js';
import { createProgressBar } from './progress-bar.js';
import { observeServerTime } from './server-clock.js';
import { askForToken } from './token-prompt.js';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;

const form = $<HTMLFormElement>('#upload-form');
const fileInput = $<HTMLInputElement>('#files');
const dropZone = $<HTMLElement>('#drop-zone');
const chosen = $<HTMLElement>('#chosen');
const processorSelect = $<HTMLSelectElement>('#processor');
const startButton = $<HTMLButtonElement>('#start');
const uploadArea = $<HTMLElement>('#upload-progress');
const uploadText = $<HTMLElement>('#upload-text');
const message = $<HTMLElement>('#message');
const jobArea = $<HTMLElement>('#job-area');
const uploadBar = createProgressBar('upload');
uploadArea.prepend(uploadBar.element);

let files: File[] = [];
let client: JobcastClient = connect();
let unwatch: (() => void) | null = null;
const panel = new JobPanel((id) => {
  cancelJob(id).catch((err: unknown) => showMessage(err instanceof Error ? err.message : String(err)));
});

function connect(): JobcastClient {
  const c = createClient({ url: location.origin, token: savedToken() ?? undefined });
  c.onConnectionState((state, detail) => renderConnection($('#connection'), state, detail));
  return c;
}

function watch(jobId: string): void {
  unwatch?.();
  jobArea.replaceChildren(panel.element);
  unwatch = client.watch(jobId, (snapshot, info) => {
    if (info.event) observeServerTime(info.event.ts);
    if (snapshot === null) return showMessage(`Job ${jobId}: ${info.error?.message ?? 'not found'}`);
    panel.update(snapshot, info.event);
  });
}

function setFiles(list: FileList | File[]): void {
  files = [...list];
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  chosen.textContent = files.length === 0 ? 'No files chosen' : `${files.length} file(s), ${formatBytes(bytes)}`;
  startButton.disabled = files.length === 0;
}

function showMessage(text: string): void {
  message.textContent = text;
  message.hidden = text === '';
}

/** Asks for the token and reconnects with it; false when the dialog was cancelled. */
async function useNewToken(problem?: string): Promise<boolean> {
  const token = await askForToken(problem);
  if (token === null) return false;
  saveToken(token);
  client.close();
  client = connect();
  return true;
}

async function start(): Promise<void> {
  showMessage('');
  // Asked before the upload rather than after its 401, which the browser would log as an error.
  if (serverNeedsToken() && savedToken() === null && !(await useNewToken())) return showMessage('This server needs its token to upload.');
  const body = new FormData();
  body.append('processor', processorSelect.value);
  const label = $<HTMLInputElement>('#label').value.trim();
  if (label !== '') body.append('label', label);
  if ($<HTMLInputElement>('#fail-fast').checked) body.append('failFast', 'true');
  // webkitRelativePath keeps folder structure when a folder was chosen.
  for (const f of files) body.append('file', f, f.webkitRelativePath || f.name);
  startButton.disabled = true;
  uploadArea.hidden = false;
  try {
    const snapshot = await uploadJob(body, ({ loaded, total, bytesPerSecond }) => {
      const fraction = total > 0 ? loaded / total : 0;
      uploadBar.set(fraction, `${formatPercent(fraction)} uploaded`);
      uploadText.textContent = `Uploading ${formatBytes(loaded)} of ${formatBytes(total)} · ${formatRate(bytesPerSecond)}`;
    });
    uploadBar.set(1, 'upload complete', 'done');
    uploadText.textContent = 'Upload complete';
    history.pushState(null, '', `?job=${encodeURIComponent(snapshot.id)}`);
    watch(snapshot.id);
  } catch (err) {
    uploadArea.hidden = true;
    if (err instanceof ApiError && err.code === 'unauthorized' && (await useNewToken('The server refused the token.'))) return start();
    showMessage(err instanceof Error ? err.message : String(err));
  } finally {
    startButton.disabled = files.length === 0;
  }
}

fileInput.addEventListener('change', () => setFiles(fileInput.files ?? []));
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('over');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  if (e.dataTransfer?.files) setFiles(e.dataTransfer.files);
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  void start();
});
setInterval(() => panel.tick(), 250);

fetchProcessors().then(
  ({ default: preferred, processors }) => {
    processorSelect.replaceChildren(...processors.map((name) => new Option(name, name, name === preferred, name === preferred)));
  },
  () => showMessage('Could not load the processor list'),
);
const shared = new URLSearchParams(location.search).get('job');
if (shared !== null) watch(shared);
window.addEventListener('popstate', () => {
  const id = new URLSearchParams(location.search).get('job');
  if (id !== null) watch(id);
});
