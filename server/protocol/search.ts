// What the `q` of `GET /jobs` matches (and the dashboard's search box, which must agree
// with the server): a case-insensitive substring of the job's id, its label or any of
// its file names. No node: imports: the browser bundles this too.

/** The longest `q` accepted, in characters: as long as a label; a part of a longer file name matches too. */
export const MAX_SEARCH_LENGTH = 200;

/** What a job is searched by, lowercased once: id, label and every file name, one per line. */
export function searchTextOf(job: { id: string; label: string | null; files: ReadonlyArray<{ name: string }> }): string {
  const parts = [job.id, job.label ?? '', ...job.files.map((f) => f.name)];
  return parts.join('\n').toLowerCase();
}

/** The form of `q` that is looked for in a search text; '' matches every job. */
export function normaliseSearch(q: string): string {
  return q.trim().toLowerCase();
}

/** Why `q` cannot be a query (too long, or holding control characters), or null when it can. */
export function searchProblem(q: string): string | null {
  if (q.length > MAX_SEARCH_LENGTH) return `q must be at most ${MAX_SEARCH_LENGTH} characters, got ${q.length}`;
  if (/[\u0000-\u001f\u007f]/.test(q)) return 'q must not contain control characters';
  return null;
}

/**
 * Whether a search text (from searchTextOf) contains a normalised query. Queries carry no
 * control characters (searchProblem refuses them), so a match never spans two fields.
 */
export function searchTextMatches(text: string, normalisedQuery: string): boolean {
  return normalisedQuery === '' || text.includes(normalisedQuery);
}
