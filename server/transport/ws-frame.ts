// One outbound WebSocket message as the bytes on the wire (RFC 6455 5.2): a final text
// frame, unmasked as every server-to-client frame is, header and payload in one buffer.
// The ws engine makes it once per message and writes the same bytes to every subscriber's
// socket, rather than have `ws` frame the message again for each of them (per subscriber:
// two option objects, a header buffer and a two-buffer writev). That was ~16% of the
// server's CPU per delivery with 1,000 to 4,000 subscribers (bench/fanout.ts).

/** Largest payload whose length fits the 7-bit field; up to 65,535 takes 16 bits, beyond that 64. */
const MAX_7_BIT = 125;
const MAX_16_BIT = 0xffff;
/** FIN set, opcode 1 (text). */
const FIN_TEXT = 0x81;

/** The complete frame of a text message `text`. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerBytes = length <= MAX_7_BIT ? 2 : length <= MAX_16_BIT ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = FIN_TEXT;
  if (length <= MAX_7_BIT) {
    frame[1] = length;
  } else if (length <= MAX_16_BIT) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    // A 64-bit length; messages are far below 2^53, so the high word is what a division gives.
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, headerBytes, 'utf8');
  return frame;
}
