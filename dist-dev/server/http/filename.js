// Cleaning a client-supplied filename (SPEC 2.1). The name is data shown to users and
// handed to processors; it is never used as a filesystem path, so `../`, `/` and `\`
// are kept as sent (folder uploads keep their relative paths).
/** Longest name kept, in UTF-8 bytes: the usual filesystem limit for one name. */
export const MAX_FILENAME_BYTES = 255;
// C0 controls (U+0000..U+001F) and DEL: invisible, and able to forge lines in logs and
// terminals. C1 controls and everything else are kept as the client sent them.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;
/**
 * The name as sent, with C0 control characters and DEL removed and cut to at most
 * 255 UTF-8 bytes on a character boundary (a multi-byte character or a surrogate pair
 * is never split).
 */
export function cleanFilename(name) {
    const cleaned = name.replace(CONTROL_CHARS, '');
    if (Buffer.byteLength(cleaned, 'utf8') <= MAX_FILENAME_BYTES)
        return cleaned;
    return cutUtf8(cleaned, MAX_FILENAME_BYTES);
}
/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`. */
function cutUtf8(text, maxBytes) {
    let bytes = 0;
    let end = 0;
    // for...of walks code points, so a surrogate pair is one step and stays whole.
    for (const char of text) {
        const size = utf8Size(char.codePointAt(0));
        if (bytes + size > maxBytes)
            break;
        bytes += size;
        end += char.length;
    }
    return text.slice(0, end);
}
function utf8Size(codePoint) {
    if (codePoint < 0x80)
        return 1;
    if (codePoint < 0x800)
        return 2;
    // A lone surrogate (0xD800..0xDFFF) lands here: Buffer writes it as U+FFFD, 3 bytes.
    if (codePoint < 0x10000)
        return 3;
    return 4;
}
//# sourceMappingURL=filename.js.map