// Paging back through `GET /jobs` for the current filter, beyond what `*` carries (every
// queued and running job, and only the 100 most recently finished). Each page adds its
// jobs to the list; a new filter starts again from the newest page.

import { listJobs } from '../api.js';
import type { Filter, JobList } from './job-list.js';

/** Jobs per page. */
const PAGE_SIZE = 100;

export class HistoryPager {
  /** `next` of the last page read; undefined before the first page, null after the last. */
  private cursor: string | null | undefined = undefined;
  private filter: Filter = { status: 'all', q: '' };
  /** Bumped by each reset, so that a page for an older filter is dropped when it lands. */
  private generation = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly list: JobList,
    private readonly onPage: (found: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether older jobs may be read. */
  get hasMore(): boolean {
    return this.cursor !== null && this.filter.status !== 'active';
  }

  get isLoading(): boolean {
    return this.loading !== null;
  }

  /** Starts over for `filter` with its newest page. */
  reset(filter: Filter): Promise<void> {
    this.filter = filter;
    this.cursor = undefined;
    this.generation++;
    this.loading = null;
    return this.loadMore();
  }

  /** Reads the next page, unless one is on its way or none is left. */
  loadMore(): Promise<void> {
    // Every active job is in the live view: `active` needs no page.
    if (!this.hasMore) return Promise.resolve();
    if (this.loading !== null) return this.loading;
    const loading = this.readPage(this.generation).finally(() => {
      if (this.loading === loading) this.loading = null;
    });
    this.loading = loading;
    return loading;
  }

  private async readPage(generation: number): Promise<void> {
    const { status, q } = this.filter;
    try {
      const page = await listJobs({
        limit: PAGE_SIZE,
        ...(status !== 'all' && status !== 'active' && { status }),
        ...(q.trim() !== '' && { q }),
        ...(this.cursor !== undefined && this.cursor !== null && { cursor: this.cursor }),
      });
      if (generation !== this.generation) return;
      this.list.addPaged(page.jobs);
      this.cursor = page.next;
      this.onPage(page.jobs.length);
    } catch (error) {
      if (generation === this.generation) this.onError(error);
    }
  }
}
