// Control characters in part header values (SPEC 2.1: names "with C0 control characters
// and DEL removed").
//
// Browsers send a file's name raw in its part's Content-Disposition: HTML's
// multipart/form-data encoding escapes only CR, LF and `"`, and Linux allows every byte
// but `/` and NUL in a file name. busboy 1.6 reads part headers strictly by RFC 9110
// (a header value holds HTAB, SP, visible ASCII and bytes >= 0x80): one C0 control or DEL
// in any header value makes it fail the whole body with "Malformed part header", and its
// Content-Disposition parser refuses them inside a quoted `filename` too. So the upload
// failed before cleanFilename could remove them.
//
// This filter sits where the bytes are read: in front of busboy's own part-header parser,
// it drops C0 controls and DEL from header values, and hands busboy everything else
// unchanged. busboy goes on checking the rest (header names, CRLF framing, folding, the
// count of header lines). What stays refused: any control in a header name, a CR not
// followed by LF and a bare LF (both framing, never sent by browsers), and a header block
// over MAX_PART_HEADER_BYTES counting the dropped bytes too (so NULs cannot stretch it).
// Dropping them from a value is what SPEC 2.1 does to filenames anyway; in a field name
// (`name="pro\u0001cessor"`) it makes the name its visible characters. One difference
// with cleaning afterwards: a file whose name is only controls reaches busboy as
// `filename=""`, which busboy reads as no filename. Browsers send such a name (it has no
// extension) as application/octet-stream, which upload.ts takes as a file with an empty
// name when it has bytes; with none it looks like an empty file input, and is skipped.
//
// How it plugs in. busboy has no option for its header parser, and its Multipart class is
// not exported. While a part's header block is read, that parser sits in the instance's
// `_hparser` slot (null in between) and is called as `_hparser.push(chunk, start, end)`,
// which answers the offset just past the header block, or -1 to refuse it; the callback
// that receives the parsed header sets the slot back to null. An accessor on the slot
// hands busboy this filter in place of its parser, with the parser behind it. That is
// private state of busboy 1.6, like the two reads in upload.ts: installPartHeaderFilter
// refuses a busboy whose shape differs, and test/part-header-filter.test.ts runs the real
// busboy through it.

/** Largest part header block, in bytes, dropped ones included: busboy's own limit (Node's default for request headers). */
export const MAX_PART_HEADER_BYTES = 16 * 1024;

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const COLON = 0x3a;
const DEL = 0x7f;

/** Where in the header block the last byte was. */
const enum At {
  /** Start of a line: a header name, a folded value (SP or HTAB), or the blank line's CR. */
  LineStart,
  Name,
  Value,
  /** A CR in a value: LF ends the line. */
  ValueCr,
  /** The blank line's CR: LF ends the block. */
  BlankCr,
}

/** busboy's part-header parser, as its multipart parser calls it. */
interface HeaderParser {
  push(chunk: Buffer, start: number, end: number): number;
}

/** Bytes dropped from header values: C0 controls but HTAB (header whitespace), CR and LF (framing), and DEL. */
function isDropped(byte: number): boolean {
  return (byte < SP && byte !== HTAB && byte !== LF && byte !== CR) || byte === DEL;
}

class PartHeaderFilter implements HeaderParser {
  private parser: HeaderParser | null = null;
  private at = At.LineStart;
  private bytes = 0;

  /** busboy starts a header block with `parser` (or ends one with null). */
  attach(parser: HeaderParser | null): void {
    this.parser = parser;
    this.at = At.LineStart;
    this.bytes = 0;
  }

  get isAttached(): boolean {
    return this.parser !== null;
  }

  push(chunk: Buffer, start: number, end: number): number {
    let runStart = start;
    for (let i = start; i < end; i++) {
      if (++this.bytes > MAX_PART_HEADER_BYTES) return -1;
      const byte = chunk[i]!;
      switch (this.at) {
        case At.LineStart:
          this.at = byte === CR ? At.BlankCr : byte === SP || byte === HTAB ? At.Value : At.Name;
          break;
        case At.Name:
          if (byte === COLON) this.at = At.Value;
          break;
        case At.Value:
          if (byte === CR) {
            this.at = At.ValueCr;
          } else if (isDropped(byte)) {
            const answer = this.forward(chunk, runStart, i);
            if (answer !== null) return answer;
            runStart = i + 1;
          }
          break;
        case At.ValueCr:
          this.at = byte === LF ? At.LineStart : At.Value;
          break;
        case At.BlankCr: {
          // The block ends here: busboy's parser must end it at the same byte, or refuse it.
          const answer = this.forward(chunk, runStart, i + 1);
          return answer ?? -1;
        }
      }
    }
    return this.forward(chunk, runStart, end) ?? end;
  }

  /**
   * Hands busboy's parser `chunk[from, to)`. Null when it took it all and wants more;
   * otherwise what busboy must get back: -1 (refused) or the offset past the header
   * block (its callback has detached this filter by then).
   */
  private forward(chunk: Buffer, from: number, to: number): number | null {
    if (from === to) return null;
    const answer = (this.parser as HeaderParser).push(chunk, from, to);
    if (answer === -1 || !this.isAttached) return answer;
    return null;
  }
}

/**
 * Puts a PartHeaderFilter in front of the part-header parser of `parser`, a busboy 1.6
 * multipart parser just made by `busboy()`. Throws when `parser` does not have the shape
 * this relies on (a busboy of another version): uploads would otherwise fail on names a
 * browser sends.
 */
export function installPartHeaderFilter(parser: object): void {
  const slot = Object.getOwnPropertyDescriptor(parser, '_hparser');
  if (slot === undefined || !('value' in slot) || slot.value !== null) {
    throw new Error('busboy has no idle `_hparser` slot: the part-header filter needs busboy 1.6');
  }
  const filter = new PartHeaderFilter();
  Object.defineProperty(parser, '_hparser', {
    configurable: true,
    enumerable: true,
    get: (): HeaderParser | null => (filter.isAttached ? filter : null),
    set: (value: HeaderParser | null): void => filter.attach(value ?? null),
  });
}
