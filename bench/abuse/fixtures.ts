// What the attacks need on the server before they start: a large finished job, and a
// queue of large waiting jobs behind one that never ends. Made through the public API.

/** A file name of 250 characters: 1,000 of them make a snapshot of about 450 KiB. */
function longName(i: number): string {
  return `${String(i).padStart(4, '0')}-${'n'.repeat(245)}`;
}

async function upload(base: string, files: number, fields: Record<string, string>, query = ''): Promise<{ id: string; status: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (let i = 0; i < files; i++) form.append('file', new Blob(['x']), longName(i));
  const res = await fetch(`${base}/jobs${query}`, { method: 'POST', body: form, headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  const body = (await res.json()) as { id: string; status: string };
  if (res.status !== 200 && res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The token of servers started with --token (any server accepts the header when it has none). */
export const BENCH_TOKEN = 'bench-abuse-token';

/** A finished job of 1,000 files with long names; resolves with its id. */
export async function largeFinishedJob(base: string): Promise<string> {
  const job = await upload(base, 1000, { processor: 'delay', options: '{"msPerMiB":0}' }, '?wait=300');
  if (job.status !== 'completed') throw new Error(`the large job ended ${job.status}`);
  return job.id;
}

/** One job that runs for an hour, then `count` jobs of 1,000 files waiting behind it. */
export async function queuedLargeJobs(base: string, count: number): Promise<string[]> {
  await upload(base, 1, { processor: 'delay', options: '{"minMs":3600000}' });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await upload(base, 1000, { processor: 'delay', options: '{"msPerMiB":0}' })).id);
  return ids;
}
