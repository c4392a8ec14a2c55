// The part-header filter (server/http/part-header-filter.ts) in front of the real busboy:
// a table of part headers, each parsed from one write and from one byte at a time, with
// the parts busboy reports or the error it gives.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import busboy from 'busboy';
import { installPartHeaderFilter, MAX_PART_HEADER_BYTES } from '../server/http/part-header-filter.js';

const BOUNDARY = 'b0undary';

/** What busboy reported: its parts in order, then 'finish' or its error message. */
interface Parsed {
  parts: string[];
  end: string;
}

/** A body of `heads` (header lines without the blank line), each part holding `data`. */
function body(heads: Array<string | Buffer>, data = 'x'): Buffer {
  const chunks: Buffer[] = [];
  for (const head of heads) chunks.push(Buffer.from(`--${BOUNDARY}\r\n`), Buffer.from(head), Buffer.from(`\r\n\r\n${data}\r\n`));
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function parse(input: Buffer, pieceBytes: number, isFiltered = true): Promise<Parsed> {
  const parser = busboy({ headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, preservePath: true, defParamCharset: 'utf8' });
  if (isFiltered) installPartHeaderFilter(parser);
  const parts: string[] = [];
  return new Promise((resolve) => {
    parser.on('file', (name, stream, info) => {
      const index = parts.push('') - 1;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (parts[index] = JSON.stringify(['file', name, info.filename, info.mimeType, Buffer.concat(chunks).toString()])));
    });
    parser.on('field', (name, value, info) => parts.push(JSON.stringify(['field', name, value, info.mimeType])));
    parser.on('error', (error: Error) => resolve({ parts, end: error.message }));
    parser.on('finish', () => resolve({ parts, end: 'finish' }));
    for (let at = 0; at < input.length; at += pieceBytes) parser.write(input.subarray(at, at + pieceBytes));
    parser.end();
  });
}

const file = (name: string, filename: string, type = 'text/plain', data = 'x') => JSON.stringify(['file', name, filename, type, data]);
const field = (name: string, value: string) => JSON.stringify(['field', name, value, 'text/plain']);
const disposition = (params: string) => `Content-Disposition: form-data; ${params}`;
/** Every C0 control but CR and LF, and DEL. */
const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\r' && c !== '\n').join('') + '\u007f';
const MALFORMED = { parts: [], end: 'Malformed part header' };

const cases: Array<{ what: string; input: Buffer; expected: Parsed }> = [
  { what: 'plain file and field', input: body([disposition('name="f"; filename="a.txt"'), disposition('name="label"')]), expected: { parts: [file('f', 'a.txt'), field('label', 'x')], end: 'finish' } },
  { what: 'NUL in a filename', input: body([disposition('name="f"; filename="a\u0000b.txt"')]), expected: { parts: [file('f', 'ab.txt')], end: 'finish' } },
  // HTAB is header whitespace: busboy keeps it in the name, cleanFilename removes it later.
  { what: 'every C0 control and DEL in a filename', input: body([disposition(`name="f"; filename="<${CONTROLS}>"`)]), expected: { parts: [file('f', '<\t>')], end: 'finish' } },
  { what: 'controls in a filename of raw UTF-8', input: body([Buffer.from(disposition('name="f"; filename="é\u0001漢\u001b[31m😀"'))]), expected: { parts: [file('f', 'é漢[31m😀')], end: 'finish' } },
  { what: 'controls around parameters', input: body([disposition('\u0001name="f";\u0002 filename="a"\u007f')]), expected: { parts: [file('f', 'a')], end: 'finish' } },
  { what: 'control in a field name', input: body([disposition('name="pro\u0000cessor"')]), expected: { parts: [field('processor', 'x')], end: 'finish' } },
  { what: 'control in a Content-Type value', input: body([`${disposition('name="f"; filename="a"')}\r\nContent-Type: text/pl\u0000ain`]), expected: { parts: [file('f', 'a', 'text/plain')], end: 'finish' } },
  { what: 'control in a folded line', input: body([`${disposition('name="f";')}\r\n\tfilename="a\u0007b"`]), expected: { parts: [file('f', 'ab')], end: 'finish' } },
  // busboy reads filename="" as no filename: a file only when its type says so.
  { what: 'a name of controls only is an empty filename', input: body([`${disposition('name="f"; filename="\u0001\u0002"')}\r\nContent-Type: application/octet-stream`]), expected: { parts: [file('f', undefined as unknown as string, 'application/octet-stream')], end: 'finish' } },
  { what: 'filename* with percent-encoded controls', input: body([disposition("name=\"f\"; filename*=UTF-8''a%01%00b")]), expected: { parts: [file('f', 'a\u0001\u0000b')], end: 'finish' } },
  { what: 'several parts, each with controls', input: body([disposition('name="f"; filename="1\u0001"'), disposition('name="f"; filename="2\u0002"'), disposition('name="x"')]), expected: { parts: [file('f', '1'), file('f', '2'), field('x', 'x')], end: 'finish' } },
  { what: 'control in a header name', input: body([`X-\u0000: 1\r\n${disposition('name="f"; filename="a"')}`]), expected: MALFORMED },
  { what: 'DEL in a header name', input: body([`Content-Dispo\u007fsition: form-data; name="f"`]), expected: MALFORMED },
  { what: 'bare LF in a value', input: body([disposition('name="f"; filename="a\nb"')]), expected: MALFORMED },
  { what: 'lone CR in a value', input: body([disposition('name="f"; filename="a\rb"')]), expected: MALFORMED },
  { what: 'a header block over the limit, NULs counted', input: body([disposition(`name="f"; filename="a${'\u0000'.repeat(MAX_PART_HEADER_BYTES)}"`)]), expected: MALFORMED },
  { what: 'a header block just under the limit', input: body([disposition(`name="f"; filename="a${'\u0000'.repeat(MAX_PART_HEADER_BYTES - 100)}"`)]), expected: { parts: [file('f', 'a')], end: 'finish' } },
  { what: 'a header block cut short', input: Buffer.from(`--${BOUNDARY}\r\n${disposition('name="f"; filename="a\u0001')}`), expected: { parts: [], end: 'Malformed part header' } },
  { what: 'no header lines at all', input: body(['']), expected: MALFORMED },
];

test('part-header filter: controls dropped from values, the rest as busboy parses it (whole and byte by byte)', async () => {
  for (const { what, input, expected } of cases) {
    // Where it has nothing to drop, the filter changes nothing busboy does.
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(input.toString('latin1'))) {
      assert.deepEqual(await parse(input, input.length, false), expected, `${what}: busboy alone`);
    }
    for (const pieceBytes of [input.length, 1, 7]) {
      const actual = await parse(input, pieceBytes);
      // busboy ends a body whose header block never ended with either message: both refuse it.
      if (what === 'a header block cut short') assert.ok(['Malformed part header', 'Unexpected end of form'].includes(actual.end), what);
      else assert.deepEqual(actual, expected, `${what} (pieces of ${pieceBytes} bytes)`);
    }
  }
});

test('without the filter busboy refuses a control in a filename (what the filter is for)', async () => {
  assert.deepEqual(await parse(body([disposition('name="f"; filename="a\u0001b"')]), 1 << 20, false), MALFORMED);
});

test('installPartHeaderFilter refuses an object that is not a busboy 1.6 multipart parser', () => {
  assert.throws(() => installPartHeaderFilter({}), /busboy 1\.6/);
  assert.throws(() => installPartHeaderFilter({ _hparser: { push() {} } }), /busboy 1\.6/);
});
