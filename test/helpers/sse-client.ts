// A Server-Sent Events reader for tests: parses a fetch body stream by the rules of the
// HTML event-stream format (lines, blank-line dispatch, comments, one leading space).

import { HANG_MS } from './patience.js';

export interface SseMessage {
  /** The `id:` of this message, or null when it had none (not the sticky last id). */
  id: string | null;
  /** The `event:` name; `message` when absent. */
  event: string;
  data: string;
}

export class SseReader {
  /** Comment lines seen (`: ping` heartbeats). */
  comments = 0;
  /** The last `retry:` value seen. */
  retryMs: number | null = null;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private text = '';
  private isDone = false;
  private readonly ready: SseMessage[] = [];
  private fields: { id: string | null; event: string; data: string[] } = { id: null, event: '', data: [] };

  constructor(res: Response) {
    if (res.body === null) throw new Error('the response has no body');
    this.reader = res.body.getReader();
  }

  /** The next message, or null once the stream has ended; rejects after `timeoutMs`. */
  async next(timeoutMs = HANG_MS): Promise<SseMessage | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.ready.length === 0 && !this.isDone) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no SSE message within ${timeoutMs} ms`)), Math.max(0, left));
      });
      try {
        const chunk = await Promise.race([this.reader.read(), timeout]);
        if (chunk.done) this.end();
        else this.feed(this.decoder.decode(chunk.value, { stream: true }));
      } finally {
        clearTimeout(timer);
      }
    }
    return this.ready.shift() ?? null;
  }

  /** Every message up to the end of the stream. */
  async rest(timeoutMs = HANG_MS): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    for (let m = await this.next(timeoutMs); m !== null; m = await this.next(timeoutMs)) messages.push(m);
    return messages;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private feed(chunk: string): void {
    this.text += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.text);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (match === null || (match[0] === '\r' && match.index === this.text.length - 1)) return;
      const line = this.text.slice(0, match.index);
      this.text = this.text.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return void this.comments++;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.fields.data.push(value);
    else if (field === 'event') this.fields.event = value;
    else if (field === 'id') this.fields.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private dispatch(): void {
    const { id, event, data } = this.fields;
    this.fields = { id: null, event: '', data: [] };
    // A message without data (such as a lone `retry:`) dispatches nothing.
    if (data.length === 0) return;
    this.ready.push({ id, event: event === '' ? 'message' : event, data: data.join('\n') });
  }

  private end(): void {
    this.isDone = true;
    // An unterminated last message is dropped, as EventSource does.
  }
}
