// One connection's requests: what its client sends (subscribe, unsubscribe, ping, `*`),
// and the handlers its transport calls (onMessage, onDrain, onClose). What goes out, and
// the limits every write counts against, is Delivery's (delivery.ts).
//
// What a client sends costs no more than what it reads (SPEC 7): messages wait in the
// Inbox while the send buffer is over the soft limit (and then the connection is not
// read); catch-up reads go through a ReadQueue (one per job or `*` at a time, the latest
// request winning; a few at once; none while the buffer is over the soft limit); a `*`
// catch-up reads and sends one snapshot at a time as the client takes them; past
// --max-messages-per-second the connection is closed with 1008.
//
// The session is the transport's handler object: one object per connection rather than
// an object of closures around it.

import { CLOSE_CODES } from '../errors.js';
import type { ClientMessage } from '../protocol/types.js';
import type { Connection, ConnectionHandlers } from '../transport/connection.js';
import { parseClientMessage } from './client-message.js';
import { Delivery, type SessionHost } from './delivery.js';
import { Frame } from './frame.js';
import { admitMessage, Inbox, type InboxOwner } from './inbox.js';
import { ReadQueue, type ReadQueueOwner, type ReadTask } from './read-queue.js';
import { DashboardWalk, View } from './views.js';

export type { SessionHost } from './delivery.js';

/** What a transport calls for its connection. */
export interface SessionHandlers extends ConnectionHandlers {
  /** Subscribes as if the client had sent `subscribe` (SSE names its job in the URL). */
  subscribe(job: string, since?: number): void;
}

/**
 * Catch-up reads of one connection under way at once; more wait in its ReadQueue, and
 * past as many waiting its messages wait too.
 */
const MAX_READS = 4;

export class Session extends Delivery implements SessionHandlers, InboxOwner, ReadQueueOwner {
  /** Catch-up reads under way or waiting; null when there are none (most connections, most of the time). */
  private reads: ReadQueue | null = null;
  /** Messages that wait; null when none does. */
  private inbox: Inbox | null = null;
  /** The --max-messages-per-second bucket (see admitMessage). */
  private messagesTat = 0;

  constructor(
    connection: Connection,
    host: SessionHost,
    /** Whether `*` is allowed: true unless a token is configured and was not given. */
    private readonly mayWatchAll: boolean,
  ) {
    super(connection, host);
  }

  /** Whether reading the connection is paused now (for stats). */
  get isReadingPaused(): boolean {
    return this.inbox?.isReadingPaused ?? false;
  }

  /** One inbound text frame (null for a binary one): handled now, or once the client has read enough. */
  onMessage(text: string | null): void {
    if (this.isClosed) return;
    // Closing: the inbox only counts what still comes (see Inbox.close).
    if (this.isEnding) return void this.inbox?.push(text);
    const tat = admitMessage(this.messagesTat, Date.now(), this.host.messageRate);
    if (tat === null) return this.closeAsFlooding('rate');
    this.messagesTat = tat;
    if (this.inbox === null && this.mayHandle()) return this.handle(text);
    this.inbox ??= new Inbox(this);
    if (this.inbox.push(text) === 'backlog') return this.closeAsFlooding('backlog');
    if (this.inbox.isIdle) this.inbox = null;
  }

  /** Subscribes without a message from the client (SSE: the request names the job). */
  subscribe(job: string, since?: number): void {
    this.subscribeJob(job, since);
  }

  /** The send buffer emptied: reads and messages that waited go on, and every view left behind gets one fresh snapshot. */
  onDrain(): void {
    if (this.isEnding) return;
    if (this.behindSince !== null) {
      this.behindSince = null;
      this.host.setBehind(this, false);
    }
    for (const view of this.views) if (view.state === 'behind' && !this.reads?.has(view.job)) this.requestRefresh(view);
    this.reads?.pump();
    this.pumpInbox();
  }

  /** The connection is gone: forgets everything and tells the hub. */
  onClose(): void {
    if (this.isClosed) return;
    this.phase = 'closed';
    this.reads = this.inbox = null;
    for (const view of this.views) if (view.isExplicit) this.host.unwatchJob(this, view.job);
    if (this.dashboard !== 'off') this.host.watchAll(this, false);
    if (this.behindSince !== null) this.host.setBehind(this, false);
    this.host.onSessionClosed(this);
  }

  // Inbox: what the session does with a client's message once it may.

  /** @internal (ReadQueueOwner) No read for an answer the client cannot take now. */
  canStartRead(): boolean {
    return !this.isEnding && !this.isOverSoftLimit();
  }

  /** @internal (ReadQueueOwner) Messages that waited for a read may go on. */
  onReadDone(): void {
    if (this.reads?.isIdle) this.reads = null;
    this.pumpInbox();
  }

  /** @internal (ReadQueueOwner) */
  onReadError(err: unknown): void {
    this.host.onSessionError(this, err);
  }

  /** @internal (InboxOwner) */
  mayHandle(): boolean {
    return !this.isEnding && !this.isOverSoftLimit() && (this.reads?.backlog ?? 0) < MAX_READS;
  }

  /** @internal (InboxOwner) */
  handle(text: string | null): void {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.sendError('bad_message', parsed.reason);
    const message: ClientMessage = parsed.message;
    switch (message.op) {
      case 'ping':
        return this.write(Frame.control({ type: 'pong' }));
      case 'subscribe':
        return message.job === '*' ? this.subscribeAll() : this.subscribeJob(message.job, message.since);
      case 'unsubscribe':
        return message.job === '*' ? this.unsubscribeAll() : this.unsubscribeJob(message.job);
    }
  }

  // Subscriptions by name.

  private subscribeJob(job: string, since: number | undefined): void {
    if (this.isEnding) return;
    let view = this.views.get(job);
    if (view === undefined || !view.isExplicit) {
      if (this.subscriptionCount() >= this.host.maxSubscriptions) {
        return this.sendError('too_many_subscriptions', `at most ${this.host.maxSubscriptions} subscriptions per connection`, job);
      }
      // Registered before the catch-up read: an event appended meanwhile waits in its CatchUp.
      const sharedJob = this.host.watchJob(this, job);
      view ??= this.views.add(new View(sharedJob, true, 'behind'));
      view.isExplicit = true;
      this.explicitCount++;
    }
    // Whatever catch-up ran or waited for this view is superseded (README: the latest request wins).
    view.state = 'behind';
    const subscribed = view;
    this.requestRead(job, async () => {
      const mode = await this.catchUp(subscribed, since, 'always');
      if (mode !== null) this.write(Frame.control({ type: 'subscribed', job, seq: subscribed.lastSeq, mode }));
    });
  }

  private unsubscribeJob(job: string): void {
    const view = this.views.get(job);
    if (view?.isExplicit) {
      this.dropExplicit(view);
      this.reads?.cancel(job);
      if (this.dashboard === 'off' || (this.dashboard instanceof DashboardWalk && this.dashboard.isAhead(job))) {
        // Not shown through `*` (or not yet: the walk will read it).
        this.views.delete(view);
      } else if (view.state !== 'live') {
        // Still shown through `*`, but the client may not have its state yet: a fresh snapshot, no `subscribed`.
        view.state = 'behind';
        this.requestRefresh(view);
      }
    }
    this.write(Frame.control({ type: 'unsubscribed', job }));
  }

  // Catch-ups.

  /** A fresh snapshot for a view that is behind, once the client can take it (no `subscribed`). */
  private requestRefresh(view: View): void {
    this.requestRead(view.job, async () => {
      if (view.state === 'behind') await this.catchUp(view, undefined, 'newer');
    });
  }

  // The `*` subscription.

  private subscribeAll(): void {
    if (!this.mayWatchAll) return this.sendError('unauthorized', 'the "*" subscription needs the token: connect with ?token=', '*');
    if (this.dashboard === 'off' && this.subscriptionCount() >= this.host.maxSubscriptions) {
      return this.sendError('too_many_subscriptions', `at most ${this.host.maxSubscriptions} subscriptions per connection`, '*');
    }
    if (this.dashboard === 'off') this.host.watchAll(this, true);
    this.startWalk(false);
  }

  /** Starts (or restarts) the `*` catch-up; a refresh of a live `*` ends without a second `subscribed`. */
  private startWalk(isRefresh: boolean): void {
    const walk = new DashboardWalk(isRefresh);
    this.dashboard = walk;
    this.requestRead('*', () => this.walkDashboard(walk));
  }

  /**
   * Shows the `*` jobs one snapshot at a time (none older than what their view sent), and
   * then `subscribed`. Paced by the client: past the soft limit the walk stops, and goes on
   * after the next drain. Superseded by a newer `*` request or an unsubscribe, it just stops.
   */
  private async walkDashboard(walk: DashboardWalk): Promise<void> {
    if (!walk.isListed) {
      let ids: string[];
      try {
        ids = await this.host.dashboardIds();
      } catch (err) {
        if (!this.isEnding && this.dashboard === walk) this.failDashboard(err);
        return;
      }
      if (this.isEnding || this.dashboard !== walk) return;
      walk.start(ids);
    }
    while (!this.isEnding && this.dashboard === walk) {
      if (this.isOverSoftLimit()) return this.requestRead('*', () => this.walkDashboard(walk));
      const job = walk.next();
      if (job === undefined) {
        this.dashboard = 'live';
        if (!walk.isRefresh) this.write(Frame.control({ type: 'subscribed', job: '*', mode: 'snapshot' }));
        return;
      }
      // A job also subscribed by name is served by that subscription.
      let view = this.views.get(job);
      if (view?.isExplicit) continue;
      view ??= this.views.add(new View(job, false, 'behind'));
      await this.catchUp(view, undefined, 'newer');
    }
  }

  /** The `*` jobs could not be listed: `*` is off again (the client may subscribe again). */
  private failDashboard(err: unknown): void {
    this.host.onSessionError(this, err, '*');
    this.stopDashboard();
    this.sendError('internal_error', 'reading the jobs failed; subscribe again', '*');
  }

  private unsubscribeAll(): void {
    if (this.dashboard !== 'off') this.stopDashboard();
    this.write(Frame.control({ type: 'unsubscribed', job: '*' }));
  }

  private stopDashboard(): void {
    this.dashboard = 'off';
    this.host.watchAll(this, false);
    this.reads?.cancel('*');
    for (const view of this.views) {
      if (view.isExplicit) continue;
      this.views.delete(view);
      this.reads?.cancel(view.job);
    }
  }

  private subscriptionCount(): number {
    return this.explicitCount + (this.dashboard === 'off' ? 0 : 1);
  }

  /** Closes for sending too much (SPEC 7: a connection that sends faster than it reads is closed with 1008). */
  private closeAsFlooding(refusal: 'rate' | 'backlog'): void {
    const message =
      refusal === 'rate'
        ? `more than --max-messages-per-second (${this.host.messageRate.perSecond}) messages per second`
        : 'messages keep coming while the server waits for the client to read';
    this.sendError('too_many_messages', message);
    this.end(CLOSE_CODES.policy, 'too_many_messages: the client sends faster than the server takes messages');
  }

  private requestRead(key: string, task: ReadTask): void {
    (this.reads ??= new ReadQueue(this, MAX_READS)).request(key, task);
  }

  private pumpInbox(): void {
    if (this.inbox?.pump() === true) this.inbox = null;
  }

  /**
   * The feed may have missed entries (a feed between processes reconnected or lagged), so
   * a view may wait for an event that will never come. Every view gets a fresh snapshot
   * once the client can take it (only if newer than what the view sent); a read that has
   * not started yet needs nothing more, one under way is done again after it (it may
   * predate what was missed); and `*` walks its jobs again, those it never heard of
   * included (a live one without a second `subscribed`).
   */
  resync(): void {
    if (this.isEnding) return;
    const isWalkingAgain = this.dashboard !== 'off';
    for (const view of this.views) {
      // The new walk refreshes the views `*` alone shows.
      if (isWalkingAgain && !view.isExplicit) continue;
      if (this.reads?.isWaiting(view.job) === true) continue;
      if (view.state === 'live') view.state = 'behind';
      this.requestRead(view.job, async () => {
        await this.catchUp(view, undefined, 'newer');
      });
    }
    if (isWalkingAgain) this.startWalk(this.dashboard === 'live' || (this.dashboard instanceof DashboardWalk && this.dashboard.isRefresh));
  }

  protected onEnd(): void {
    this.reads?.clear();
    // Kept while closing: it counts what still comes, and reads the client again for its close frame.
    (this.inbox ??= new Inbox(this)).close();
  }
}
