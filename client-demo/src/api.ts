// The HTTP calls the pages make, with the token (when the server wants one) kept in sessionStorage.

import type { JobStatus, QueueStats, Snapshot } from '../../server/protocol/types.js';

const TOKEN_KEY = 'jobcast.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Whether the server has a --token: the page shell says so (static-routes.ts), so pages ask before a 401. */
export function serverNeedsToken(): boolean {
  return document.querySelector('meta[name="jobcast-token"]')?.getAttribute('content') === 'required';
}

export function saveToken(token: string | null): void {
  if (token === null || token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An answer in the server's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function authHeaders(): Record<string, string> {
  const token = savedToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

async function asApiError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  return new ApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? `HTTP ${res.status}`);
}

export async function fetchProcessors(): Promise<{ default: string; processors: string[] }> {
  const res = await fetch('/processors');
  if (!res.ok) throw await asApiError(res);
  return (await res.json()) as { default: string; processors: string[] };
}

export interface JobsQuery {
  status?: JobStatus;
  q?: string;
  cursor?: string;
  limit: number;
}

/** GET /jobs: one page, newest first. */
export async function listJobs(query: JobsQuery): Promise<{ jobs: Snapshot[]; next: string | null }> {
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.status !== undefined) params.set('status', query.status);
  if (query.q !== undefined && query.q.trim() !== '') params.set('q', query.q.trim());
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  const res = await fetch(`/jobs?${params}`, { headers: authHeaders() });
  if (!res.ok) throw await asApiError(res);
  return (await res.json()) as { jobs: Snapshot[]; next: string | null };
}

/** GET /queue: the backlog, and the processes sharing the queue (listed only with the token, when the server has one). */
export async function fetchQueue(): Promise<QueueStats & { processes?: unknown }> {
  const res = await fetch('/queue', { headers: authHeaders() });
  if (!res.ok) throw await asApiError(res);
  return (await res.json()) as QueueStats & { processes?: unknown };
}

export async function cancelJob(id: string): Promise<void> {
  const res = await fetch(`/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST', headers: authHeaders() });
  if (!res.ok && res.status !== 409) throw await asApiError(res);
}

export interface UploadProgress {
  loaded: number;
  total: number;
  bytesPerSecond: number | null;
}

/**
 * POST /jobs with XMLHttpRequest, the one browser API that reports upload progress.
 * Resolves with the job's first snapshot; rejects with ApiError.
 */
export function uploadJob(form: FormData, onProgress: (progress: UploadProgress) => void): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const startedAt = performance.now();
    xhr.open('POST', '/jobs');
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      const seconds = (performance.now() - startedAt) / 1000;
      onProgress({ loaded: e.loaded, total: e.total, bytesPerSecond: seconds > 0 ? e.loaded / seconds : null });
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: reported below
      }
      if (xhr.status === 202 || xhr.status === 200) return resolve(body as Snapshot);
      const error = (body as { error?: { code: string; message: string } } | null)?.error;
      reject(new ApiError(xhr.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'the upload could not reach the server'));
    xhr.send(form);
  });
}
