// The command processors' line protocol, as a parser: lines split at any byte boundary,
// bounded in length, and every child line either a protocol message or a reason why not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../server/workers/commands/line-splitter.js';
import { parseChildLine } from '../server/workers/commands/protocol.js';

function split(input: string, maxBytes: number, onLongLine: 'cut' | 'fail', chunkBytes: number): { lines: string[]; failed: boolean } {
  const lines: string[] = [];
  let failed = false;
  const splitter = new LineSplitter({ maxBytes, onLine: (line) => lines.push(line), onLongLine: onLongLine === 'cut' ? 'cut' : () => (failed = true) });
  const bytes = Buffer.from(input);
  for (let i = 0; i < bytes.length; i += chunkBytes) splitter.push(bytes.subarray(i, i + chunkBytes));
  return { lines, failed };
}

test('the line splitter gives the same lines whatever the chunking, and bounds their length', () => {
  const cases = [
    { input: 'a\nbb\n', max: 10, mode: 'fail', lines: ['a', 'bb'], failed: false, what: 'plain lines' },
    { input: 'a\r\nb\n', max: 10, mode: 'fail', lines: ['a', 'b'], failed: false, what: 'CRLF' },
    { input: 'no newline yet', max: 100, mode: 'fail', lines: [], failed: false, what: 'an unfinished line waits' },
    { input: '\n\n', max: 10, mode: 'fail', lines: ['', ''], failed: false, what: 'empty lines' },
    { input: 'héllo ✓\n', max: 10, mode: 'fail', lines: ['héllo ✓'], failed: false, what: 'UTF-8 split inside a character' },
    { input: 'ok\n0123456789X\nlater\n', max: 10, mode: 'fail', lines: ['ok'], failed: true, what: 'a long line stops a strict reader' },
    { input: '0123456789X\nnext\n', max: 10, mode: 'cut', lines: ['0123456789', 'next'], failed: false, what: 'a long line is cut, the rest skipped' },
    { input: '0123456789\n', max: 10, mode: 'fail', lines: ['0123456789'], failed: false, what: 'exactly the limit' },
  ] as const;
  for (const c of cases) {
    for (const chunk of [1, 2, 3, 1000]) {
      const got = split(c.input, c.max, c.mode, chunk);
      assert.deepEqual(got, { lines: [...c.lines], failed: c.failed }, `${c.what}, ${chunk}-byte chunks`);
    }
  }
});

test('child lines: each message, and a reason for everything else', () => {
  const ok = [
    { line: '{"type":"ready","protocol":1}', expected: { type: 'ready', protocol: 1 } },
    { line: '{"type":"progress","done":5,"total":10}', expected: { type: 'progress', done: 5, total: 10 } },
    { line: '{"type":"progress","done":5}', expected: { type: 'progress', done: 5, total: null } },
    { line: '{"type":"log","message":"hi"}', expected: { type: 'log', message: 'hi' } },
    { line: '{"type":"result","result":{"n":1}}', expected: { type: 'result', result: { n: 1 } } },
    { line: '{"type":"result"}', expected: { type: 'result', result: null } },
    { line: '{"type":"error","message":"bad row 3"}', expected: { type: 'error', message: 'bad row 3' } },
  ];
  for (const c of ok) assert.deepEqual(parseChildLine(c.line), { ok: true, line: c.expected }, c.line);
  const bad = [
    { line: 'Loading...', reason: /not JSON/ },
    { line: '[1]', reason: /not a JSON object/ },
    { line: '{"type":"ready","protocol":2}', reason: /"protocol": 1, got 2/ },
    { line: '{"type":"progress","done":-1}', reason: /non-negative/ },
    { line: '{"type":"progress","done":1,"total":"x"}', reason: /non-negative/ },
    { line: '{"type":"error"}', reason: /string "message"/ },
    { line: '{"type":"log","message":5}', reason: /string "message"/ },
    { line: '{"kind":"result"}', reason: /unknown line type nothing/ },
  ];
  for (const c of bad) {
    const parsed = parseChildLine(c.line);
    assert.equal(parsed.ok, false, c.line);
    if (!parsed.ok) assert.match(parsed.reason, c.reason, c.line);
  }
});
