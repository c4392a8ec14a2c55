// Small HTTP helpers over the global fetch (undici) for tests.

import type { Snapshot } from '../../server/protocol/types.js';
import { HANG_MS } from './patience.js';

export interface UploadFile {
  name: string;
  content: string | Uint8Array;
  type?: string;
}

/** POST /jobs with real multipart built by FormData. */
export async function uploadFiles(
  baseUrl: string,
  files: UploadFile[],
  fields: Record<string, string> = {},
  query = '',
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) form.append('file', new Blob([f.content], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fetch(`${baseUrl}/jobs${query}`, { method: 'POST', body: form, headers });
}

/** Uploads and returns the 202 snapshot, failing the test on any other status. */
export async function createJob(baseUrl: string, files: UploadFile[], fields: Record<string, string> = {}): Promise<Snapshot> {
  const res = await uploadFiles(baseUrl, files, fields);
  const body = await res.json();
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body)}`);
  return body as Snapshot;
}

export async function getJob(baseUrl: string, id: string): Promise<Snapshot> {
  const res = await fetch(`${baseUrl}/jobs/${id}`);
  if (res.status !== 200) throw new Error(`GET /jobs/${id} answered ${res.status}`);
  return (await res.json()) as Snapshot;
}

/** GET /jobs?limit=: the newest jobs, newest first. */
export async function listJobs(baseUrl: string, limit = 50): Promise<Snapshot[]> {
  const res = await fetch(`${baseUrl}/jobs?limit=${limit}`);
  if (res.status !== 200) throw new Error(`GET /jobs answered ${res.status}`);
  return ((await res.json()) as { jobs: Snapshot[] }).jobs;
}

/** Polls GET /jobs/{id} until `isDone(snapshot)` (what a polling client does); the deadline catches a hang. */
export async function pollJob(
  baseUrl: string,
  id: string,
  isDone: (s: Snapshot) => boolean = (s) => ['completed', 'failed', 'cancelled'].includes(s.status),
  timeoutMs = HANG_MS,
): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await getJob(baseUrl, id);
    if (isDone(snapshot)) return snapshot;
    if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state: ${JSON.stringify(snapshot)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves the error body `{error: {code, message}}` of a response. */
export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code ?? `(no error code; status ${res.status})`;
}
