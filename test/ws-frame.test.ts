// The ws engine frames each message once (server/transport/ws-frame.ts) and writes the same
// bytes to every subscriber. Checked against ws's own encoder and decoder, at every boundary
// of the length field, with multi-byte UTF-8 so that bytes and characters differ.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { textFrame } from '../server/transport/ws-frame.js';

/** ws's own encoder and decoder: its exports carry them, its types do not declare them. */
const { Sender, Receiver } = ws as unknown as {
  Sender: { frame(data: Buffer, options: object): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void };
};

/** Texts whose UTF-8 length is `bytes`, ending in a two-byte character where possible. */
function textOfBytes(bytes: number): string {
  return bytes >= 2 ? `${'a'.repeat(bytes - 2)}é` : 'a'.repeat(bytes);
}

const LENGTHS = [0, 1, 124, 125, 126, 127, 65_534, 65_535, 65_536, 70_000, 1_048_576];

test('a message frame is what ws would send for it, at every length-field boundary', () => {
  for (const bytes of LENGTHS) {
    const text = textOfBytes(bytes);
    assert.equal(Buffer.byteLength(text), bytes);
    const expected = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }));
    assert.ok(textFrame(text).equals(expected), `${bytes} bytes`);
  }
});

test('a stream of message frames, fed to ws one byte at a time, decodes to the same texts', async () => {
  const texts = LENGTHS.filter((n) => n <= 70_000).map(textOfBytes);
  const received: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    received.push(data.toString());
  });
  const stream = Buffer.concat(texts.map(textFrame));
  for (let i = 0; i < stream.length; i++) receiver.write(stream.subarray(i, i + 1));
  assert.deepEqual(received, texts);
});
