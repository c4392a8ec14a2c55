// Regressions found by test/fuzz-upload.test.ts, where busboy 1.6 goes quiet:
// 1. it drops a part whose Content-Disposition it cannot read (a `filename*` with bad
//    percent-encoding, no header at all), and ends a file at "\r\n--boundary" followed
//    by junk, throwing the rest of the part away: the upload used to become a job with
//    a file missing or shortened, with no error (STYLE trap 2);
// 2. a part after the closing delimiter, in the same chunk, left busboy waiting for a
//    file that never ends: the request hung for ever with its spool file open.
// Each is now 400 malformed_multipart with nothing left behind.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { listJobs } from './helpers/http.js';
import { postUpload } from './helpers/raw-http.js';
import { startTestServer } from './helpers/server.js';

const B = 'dropped-parts-7f3a';
const CONTENT_TYPE = `multipart/form-data; boundary=${B}`;

function part(disposition: string, data: string, type = 'application/octet-stream'): string {
  return `--${B}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${type}\r\n\r\n${data}\r\n`;
}
const file = (name: string, data: string): string => part(`name="file"; filename="${name}"`, data);
const END = `--${B}--\r\n`;

const MALFORMED: Array<{ what: string; body: string }> = [
  { what: "a file whose filename* has bad percent-encoding, among good files", body: file('a', 'A') + part(`name="file"; filename*=UTF-8''%ZZ.txt`, 'lost') + file('b', 'B') + END },
  { what: 'a file whose filename* names an unknown charset', body: part(`name="file"; filename*=x-unknown''abc`, 'lost') + END },
  { what: 'a part without Content-Disposition between two files', body: file('a', 'A') + `--${B}\r\nX-Other: 1\r\n\r\nlost\r\n` + file('b', 'B') + END },
  { what: 'a part whose disposition is not form-data', body: file('a', 'A') + `--${B}\r\nContent-Disposition: attachment; filename="x"\r\n\r\nlost\r\n` + END },
  { what: 'the boundary followed by junk inside the last file', body: file('a', `first half\r\n--${B}Xsecond half`) + END },
  { what: 'the boundary followed by a space (transport padding busboy cannot read)', body: file('a', 'A') + `--${B} \r\nContent-Disposition: form-data; name="file"; filename="b"\r\n\r\nB\r\n` + END },
  { what: 'a file part after the closing delimiter, in the same chunk', body: file('a', 'A') + `--${B}--\r\n--${B}\r\nContent-Disposition: form-data; name="file"; filename="late"\r\n\r\nnever ends` },
  { what: 'a text field after the closing delimiter, in the same chunk', body: file('a', 'A') + `--${B}--\r\n--${B}\r\nContent-Disposition: form-data; name="failFast"\r\n\r\ntrue\r\n--${B}--\r\n` },
];

test('parts busboy would drop, shorten or never end make the upload malformed_multipart', async (t) => {
  const server = await startTestServer(t);
  for (const { what, body } of MALFORMED) {
    // Whole (head and body in one write, so one chunk reaches busboy) and one byte at a time.
    for (const pieceSize of [undefined, 1]) {
      const response = await postUpload(server.port, CONTENT_TYPE, Buffer.from(body, 'latin1'), { pieceSize });
      assert.equal(response?.status, 400, `${what} (${pieceSize ?? 'whole'}): ${response?.body.toString('utf8')}`);
      assert.equal(response.json.error.code, 'malformed_multipart', what);
      assert.deepEqual(await readdir(join(server.dir, 'spool')), [], `${what}: nothing left in the spool`);
    }
  }
  assert.equal((await listJobs(server.url, 10)).length, 0, 'no job was created');
});

test('well-formed bodies are unaffected: preamble, epilogue, boundary look-alikes in the data', async (t) => {
  const server = await startTestServer(t);
  const bodies = [
    `preamble text\r\n${file('a', 'A')}${END}`,
    `${file('a', `data --${B} and \r\n--${B.slice(0, -1)}! and x--${B}--`)}${END}epilogue without the delimiter\r\n`,
    `${file('a', 'A')}${part('name="label"', 'hello', 'text/plain')}${file('', 'unnamed but not empty')}${file('', '')}${END}`,
  ];
  for (const body of bodies) {
    for (const pieceSize of [undefined, 1]) {
      const response = await postUpload(server.port, CONTENT_TYPE, Buffer.from(body), { pieceSize });
      assert.equal(response?.status, 202, `${JSON.stringify(body.slice(0, 80))}: ${response?.body.toString('utf8')}`);
    }
  }
  const [withLookAlikes] = (await listJobs(server.url, 10)).filter((job) => job.files.length === 1 && job.files[0]!.size > 1);
  assert.equal(withLookAlikes?.files[0]!.size, Buffer.byteLength(`data --${B} and \r\n--${B.slice(0, -1)}! and x--${B}--`), 'the look-alikes stay in the file');
});
