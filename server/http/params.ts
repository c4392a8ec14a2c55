// Path parameters every route reads the same way.

import { JobcastError } from '../errors.js';
import { isJobId } from '../protocol/types.js';

/** The `id` of the route's pattern, or 404 job_not_found without touching the store for one that cannot be an id. */
export function jobIdParam(params: Record<string, string>): string {
  const id = params.id!;
  if (!isJobId(id)) throw new JobcastError('job_not_found');
  return id;
}
