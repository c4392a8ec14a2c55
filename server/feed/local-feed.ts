// The in-process Feed, for the stores kept by one process (memory, SQLite): a typed
// event emitter. Delivery is synchronous, inside the append, so a listener can never miss
// an entry and `resync` is never emitted.

import { EventEmitter } from 'node:events';
import type { Appended } from '../store/store.js';
import type { Feed, FeedEventName, FeedListener, FeedNotice } from './feed.js';

export class LocalFeed implements Feed {
  /** Untyped inside: the methods below are the typed way in and out (FeedEvents). */
  readonly #emitter = new EventEmitter();
  #isClosed = false;

  constructor() {
    // Every ?wait request listens; their count is bounded by the upload limits.
    this.#emitter.setMaxListeners(0);
  }

  publishEvent({ event, snapshot }: Appended): void {
    if (!this.#isClosed) this.#emitter.emit('event', event, snapshot);
  }

  async publish(notice: FeedNotice): Promise<void> {
    if (this.#isClosed) return;
    if (notice.kind === 'queueMoved') this.#emitter.emit('queueMoved');
    else this.#emitter.emit(notice.kind, notice.job);
  }

  on<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
  }

  off<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#emitter.removeAllListeners();
  }
}
