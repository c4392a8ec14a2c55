// Cleaning a client-supplied filename (SPEC 2.1). The name is data shown to users and
// handed to processors; it is never used as a filesystem path, so `../`, `/` and `\`
// are kept as sent (folder uploads keep their relative paths).

/** Longest name kept, in UTF-8 bytes: the usual filesystem limit for one name. */
export const MAX_FILENAME_BYTES = 255;

// C0 controls (U+0000..U+001F) and DEL: invisible, and able to forge lines in logs and
// terminals. C1 controls and everything else are kept as the client sent them.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

// A surrogate without its pair is no character at all: UTF-8 cannot carry it (Buffer
// writes U+FFFD), and encodeURIComponent throws on it. Busboy decodes one from a
// `filename*=utf-16le''...` holding half a pair, and the output download of that file
// then answered 500 for good.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would write it. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/**
 * The name as sent, with C0 control characters and DEL removed, lone surrogates made
 * U+FFFD, and cut to at most 255 UTF-8 bytes on a character boundary (a multi-byte
 * character or a surrogate pair is never split).
 */
export function cleanFilename(name: string): string {
  const cleaned = wellFormed(name.replace(CONTROL_CHARS, ''));
  if (Buffer.byteLength(cleaned, 'utf8') <= MAX_FILENAME_BYTES) return cleaned;
  return cutUtf8(cleaned, MAX_FILENAME_BYTES);
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`. */
function cutUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  // for...of walks code points, so a surrogate pair is one step and stays whole.
  for (const char of text) {
    const size = utf8Size(char.codePointAt(0) as number);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

function utf8Size(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  // Surrogates come in pairs here (a pair is one code point past 0xFFFF); U+FFFD is 3 bytes.
  if (codePoint < 0x10000) return 3;
  return 4;
}
