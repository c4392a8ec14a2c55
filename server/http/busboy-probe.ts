// What busboy 1.6 knows but does not tell: two readings of its private state that keep a
// malformed body from becoming a job that is missing a file or hangs (STYLE trap 2).
// Neither is public API, so each reading degrades to "nothing to report" when the field
// is gone, and a test pins each behaviour: test/fuzz-upload.test.ts (`bad filename*`
// cases) for skippedParts, test/upload-dropped-parts.test.ts for isAfterClosingDelimiter.

import type busboy from 'busboy';

interface BusboyInternals {
  /** The delimiter search (streamsearch); swapped out once the closing delimiter is read. */
  _bparser?: { matches?: unknown };
  /** True once the closing delimiter has been read. */
  _complete?: unknown;
}

export class BusboyProbe {
  private readonly delimiterSearch: { matches?: unknown } | null;

  /** Call right after creating the parser, before it reads a byte. */
  constructor(private readonly parser: busboy.Busboy) {
    this.delimiterSearch = (parser as unknown as BusboyInternals)._bparser ?? null;
  }

  /**
   * Parts busboy dropped without a word, given the parts it reported (`partsSeen`): one
   * whose Content-Disposition is missing, cannot be parsed (a `filename*` with bad
   * percent-encoding or an unknown charset) or is not form-data, and "\r\n--boundary"
   * followed by neither CRLF nor "--", which ends the file before it and throws away what
   * follows. busboy's delimiter search counts every match: one per part plus the closing
   * one. That count also takes in a delimiter after the closing one within the same
   * chunk, so a body that repeats the delimiter in its epilogue may be refused: a refusal,
   * never a job with a lost file.
   */
  skippedParts(partsSeen: number): number {
    const matches = this.delimiterSearch?.matches;
    return typeof matches === 'number' ? Math.max(0, matches - 1 - partsSeen) : 0;
  }

  /**
   * True once busboy has read the closing delimiter. It still parses the rest of the chunk
   * that held it, so a part after the end can surface; a file there is never ended, and
   * busboy then waits for it for ever: the upload would hang with its spool file open,
   * even after the client leaves (the body was complete).
   */
  isAfterClosingDelimiter(): boolean {
    return (this.parser as unknown as BusboyInternals)._complete === true;
  }
}
