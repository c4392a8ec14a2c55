// An opened job: the upload page's job panel (overall bar, a bar per file with its time,
// rate, ETA, error and output download) in a modal dialog, followed by its own watch so
// that per-file rates and ETAs arrive with their events. The URL says which job is open
// (?job=ID), so the link can be shared and the back button closes it.

import type { JobcastClient } from '../../../client/jobcast-client.js';
import type { Snapshot } from '../../../server/protocol/types.js';
import { JobPanel } from '../job-panel.js';
import { observeServerTime } from '../server-clock.js';

export interface JobDialogOptions {
  client: () => JobcastClient;
  onCancel(id: string): void;
  onCopyLink(id: string): void;
  /** The server no longer has the job. */
  onGone(id: string): void;
}

export class JobDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly body: HTMLElement;
  private readonly message: HTMLElement;
  private panel: JobPanel | null = null;
  private unwatch: (() => void) | null = null;
  private openId: string | null = null;
  /** Where the focus goes back to when the dialog closes. */
  private returnFocus: HTMLElement | null = null;

  constructor(private readonly opts: JobDialogOptions) {
    this.dialog = document.querySelector<HTMLDialogElement>('#job-dialog')!;
    this.body = this.dialog.querySelector<HTMLElement>('.dialog-body')!;
    this.message = this.dialog.querySelector<HTMLElement>('.dialog-message')!;
    this.dialog.querySelector('.dialog-close')!.addEventListener('click', () => this.dialog.close());
    this.dialog.querySelector('.dialog-copy')!.addEventListener('click', () => this.openId !== null && opts.onCopyLink(this.openId));
    this.dialog.addEventListener('close', () => this.closed());
    // A click on the backdrop (outside the dialog's box) closes it, as Escape does.
    this.dialog.addEventListener('click', (e) => e.target === this.dialog && this.dialog.close());
    setInterval(() => this.panel?.tick(), 250);
  }

  get jobId(): string | null {
    return this.openId;
  }

  /** Opens job `id`, showing `known` at once when the page has it. */
  open(id: string, known?: Snapshot, returnFocus?: HTMLElement | null): void {
    this.unwatch?.();
    this.openId = id;
    this.returnFocus = returnFocus ?? (document.activeElement as HTMLElement | null);
    this.panel = new JobPanel((jobId) => this.opts.onCancel(jobId));
    this.body.replaceChildren(this.panel.element);
    this.showMessage('');
    if (known !== undefined) this.panel.update(known);
    const panel = this.panel;
    this.unwatch = this.opts.client().watch(id, (snapshot, info) => {
      if (info.event) observeServerTime(info.event.ts);
      if (snapshot === null) {
        this.showMessage(`This job is gone from the server (${info.error?.code ?? 'job_not_found'}).`);
        this.opts.onGone(id);
        return;
      }
      panel.update(snapshot, info.event);
    });
    if (new URLSearchParams(location.search).get('job') !== id) {
      const url = new URL(location.href);
      url.searchParams.set('job', id);
      history.pushState({ job: id }, '', url);
    }
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector<HTMLElement>('.dialog-close')!.focus();
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }

  /** Follows the job again on a new client (after the token changed). */
  rewatch(): void {
    if (this.openId !== null && this.dialog.open) this.open(this.openId, undefined, this.returnFocus);
  }

  private closed(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.openId = null;
    this.panel = null;
    if (new URLSearchParams(location.search).has('job')) {
      // Opened here: going back takes the job out of the URL. Opened from a link: drop it.
      if ((history.state as { job?: string } | null)?.job !== undefined) history.back();
      else {
        const url = new URL(location.href);
        url.searchParams.delete('job');
        history.replaceState(null, '', url);
      }
    }
    if (this.returnFocus?.isConnected) this.returnFocus.focus();
  }

  private showMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = text === '';
  }
}
