// File names holding C0 control characters, DEL or NUL (SPEC 2.1), as browsers send
// them: raw in the part header (they escape only CR, LF and `"`). Raw bodies to the real
// server, whole and a byte at a time: 202, the job runs, and the names are stored
// without those characters.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { cleanFilename } from '../server/http/filename.js';
import type { Snapshot } from '../server/protocol/types.js';
import { pollJob } from './helpers/http.js';
import { postUpload } from './helpers/raw-http.js';
import { startTestServer } from './helpers/server.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const BOUNDARY = '----control-names-x9Qw';
/** Every C0 control but CR and LF (browsers escape those), and DEL. */
const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\r' && c !== '\n').concat('\u007f');

const NAMES = [
  'nul\u0000byte.txt',
  'bell\u0007 and escape \u001b[31mred\u001b[0m.log',
  `every${CONTROLS.join('')}control.bin`,
  ...CONTROLS.map((c) => `one${c}.txt`),
  'é\u0001漢\u007f😀.txt',
  '../\u0000../etc/passwd',
];

function body(names: string[]): Buffer {
  const chunks: Buffer[] = [];
  names.forEach((name, i) => {
    // Escaped as a browser does: `"` becomes %22 (none of these names has one).
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\nfile ${i}\r\n`));
  });
  chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="label"\r\n\r\ncontrol names\r\n--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

test('names with C0 controls, DEL and NUL: 202, the job runs, names stored cleaned (whole and byte by byte)', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  for (const pieceSize of [undefined, 1]) {
    const response = await postUpload(server.port, `multipart/form-data; boundary=${BOUNDARY}`, body(NAMES), { pieceSize });
    assert.equal(response?.status, 202, `pieces of ${pieceSize ?? 'all'}: ${response?.body.toString()}`);
    const accepted = response!.json as Snapshot;
    const expected = NAMES.map(cleanFilename);
    assert.ok(expected.every((name) => !/[\u0000-\u001f\u007f]/.test(name) && name.length > 0));
    assert.deepEqual(accepted.files.map((f) => f.name), expected);
    const final = await pollJob(server.url, accepted.id);
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.files.map((f) => f.name), expected, 'the stored names');
    final.files.forEach((f, i) => assert.equal((f.result as { sha256: string }).sha256, createHash('sha256').update(`file ${i}`).digest('hex')));
  }
});
