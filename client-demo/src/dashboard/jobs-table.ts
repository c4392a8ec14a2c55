// The jobs table: the filtered, ordered list drawn as virtual rows, redrawn at most once
// per animation frame however many events arrive in between (only the rows in view
// whose job changed are touched), and the row buttons' actions.

import { serverNow } from '../server-clock.js';
import type { JobFiguresTable } from './live-figures.js';
import { JobRow } from './job-row.js';
import type { Owner } from './processes.js';
import type { JobList } from './job-list.js';
import { VirtualRows, type VirtualRow } from './virtual-rows.js';

export interface JobsTableOptions {
  list: JobList;
  figures: JobFiguresTable;
  onOpen(id: string, from: HTMLElement): void;
  onCancel(id: string): void;
  onCopyLink(id: string): void;
  /** The process that runs the job, when a listed one does. */
  ownerOf(id: string): Owner | null;
  /** After each redraw: how many jobs the list shows. */
  onDrawn(count: number): void;
}

export class JobsTable {
  private readonly rows: VirtualRows<VirtualRow>;
  private readonly changedIds = new Set<string>();
  private isAllChanged = true;
  private frame: number | null = null;

  constructor(
    body: HTMLElement,
    private readonly table: HTMLElement,
    private readonly opts: JobsTableOptions,
  ) {
    this.rows = new VirtualRows(body, () => this.createRow());
    body.addEventListener('click', (e) => this.bodyOnClick(e));
    window.addEventListener('scroll', () => this.schedule(), { passive: true });
    window.addEventListener('resize', () => {
      this.rows.measure();
      this.schedule();
    });
  }

  /** A job changed: its row is redrawn at the next frame (if it is in view). */
  changed(id: string): void {
    this.changedIds.add(id);
    this.schedule();
  }

  /** Every row in view is redrawn at the next frame: the clock moved, or the filter changed. */
  changedAll(): void {
    this.isAllChanged = true;
    this.schedule();
  }

  private schedule(): void {
    this.frame ??= requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = null;
    const ids = this.opts.list.ids();
    this.rows.setIds(ids);
    this.rows.render(this.isAllChanged ? 'all' : this.changedIds);
    this.isAllChanged = false;
    this.changedIds.clear();
    const rowCount = String(ids.length + 1);
    if (this.table.getAttribute('aria-rowcount') !== rowCount) this.table.setAttribute('aria-rowcount', rowCount);
    this.opts.onDrawn(ids.length);
  }

  private createRow(): VirtualRow {
    const row = new JobRow();
    const { list, figures } = this.opts;
    return {
      element: row.element,
      update: (id) => {
        const snapshot = list.get(id);
        if (snapshot === undefined) return;
        const now = serverNow();
        row.update(
          snapshot,
          { bytesPerSecond: figures.get(id)?.bytesPerSecond ?? null, etaMs: figures.etaMs(id, Date.now()), owner: this.opts.ownerOf(id) },
          now,
        );
      },
    };
  }

  private bodyOnClick(e: MouseEvent): void {
    const target = (e.target as Element).closest<HTMLElement>('[data-action]');
    const id = target?.closest<HTMLElement>('[data-job]')?.dataset.job;
    if (target == null || id === undefined) return;
    switch (target.dataset.action) {
      case 'open':
        return this.opts.onOpen(id, target);
      case 'cancel':
        return this.opts.onCancel(id);
      case 'copy':
        return this.opts.onCopyLink(id);
      default:
        // `download` is a plain link: the browser follows it.
        return;
    }
  }
}
