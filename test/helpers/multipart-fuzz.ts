// Hostile multipart/form-data uploads made from a seed, for test/fuzz-upload.test.ts.
// Each case carries the request bytes, how the client sends them (framing, piece
// sizes, where it stops) and the answers SPEC 2.1 allows for it.

/** Upload limits of the server under test; generators aim just past them. */
export const FUZZ_LIMITS = { maxFileSize: 32 * 1024, maxFiles: 20, maxUploadSize: 256 * 1024 } as const;

/** A SPEC 2.1 error code, 202 for an accepted job, or how the connection ended without an answer. */
export type Outcome =
  | 202
  | 'unsupported_media_type'
  | 'malformed_multipart'
  | 'no_files'
  | 'unknown_processor'
  | 'invalid_field'
  | 'file_too_large'
  | 'too_many_files'
  | 'upload_too_large'
  /** The client destroyed the socket before an answer. */
  | 'cut'
  /** The client half-closed a body shorter than announced: the HTTP parser fails before any route. */
  | 'malformed_request';

/** Every outcome a POST /jobs may have when the client sends the whole request. */
export const ANY_ANSWER: readonly Outcome[] = [
  202,
  'unsupported_media_type',
  'malformed_multipart',
  'no_files',
  'unknown_processor',
  'invalid_field',
  'file_too_large',
  'too_many_files',
  'upload_too_large',
];

export interface SendPlan {
  framing: 'length' | 'chunked';
  /** Content-Length to announce instead of the body's length. */
  declaredLength?: number;
  /** Body piece sizes, cycled (each a chunk when chunked); null sends the body in one write. */
  pieces: number[] | null;
  /** Stop after this many body bytes: destroy the socket, or half-close it. */
  stopAt?: { bytes: number; how: 'cut' | 'half-close' };
}

export interface FuzzCase {
  kind: string;
  /** Undefined: no Content-Type header. */
  contentType: string | undefined;
  body: Buffer;
  expected: ReadonlySet<Outcome>;
  send: SendPlan;
  /** For an accepted upload: the files as sent (name before cleaning, size), when known. */
  files?: Array<{ name: string; size: number }>;
}

// ---------------------------------------------------------------- seeded randomness

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    for (let i = 0; i < count; i++) out[i] = this.int(0, 255);
    return out;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

// ---------------------------------------------------------------- multipart bodies

interface Part {
  /** Header lines, each ending in CRLF, without the blank line. */
  head: Buffer;
  data: Buffer;
}

interface Form {
  boundary: string;
  parts: Part[];
  preamble?: Buffer;
  /** False: the closing delimiter is missing. */
  isClosed?: boolean;
}

/** The body, and the offset just past `--boundary--` (-1 when not closed). */
function encode(form: Form): { body: Buffer; closeEnd: number } {
  const chunks: Buffer[] = [form.preamble ?? Buffer.alloc(0)];
  for (const part of form.parts) {
    chunks.push(Buffer.from(`--${form.boundary}\r\n`), part.head, Buffer.from('\r\n'), part.data, Buffer.from('\r\n'));
  }
  let closeEnd = -1;
  if (form.isClosed !== false) {
    const close = Buffer.from(`--${form.boundary}--`);
    closeEnd = chunks.reduce((sum, c) => sum + c.length, 0) + close.length;
    chunks.push(close, Buffer.from('\r\n'));
  }
  return { body: Buffer.concat(chunks), closeEnd };
}

const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function head(...lines: Array<string | Buffer>): Buffer {
  return Buffer.concat(lines.map((line) => Buffer.concat([Buffer.from(line), Buffer.from('\r\n')])));
}

function filePart(name: string, data: Buffer, type?: string): Part {
  const lines: string[] = [`Content-Disposition: form-data; name="file"; filename=${quoted(name)}`];
  if (type !== undefined) lines.push(`Content-Type: ${type}`);
  return { head: head(...lines), data };
}

function fieldPart(name: string, value: string | Buffer): Part {
  return { head: head(`Content-Disposition: form-data; name=${quoted(name)}`), data: Buffer.from(value) };
}

/** A part whose Content-Disposition parameters are given as raw bytes. */
function rawDispositionPart(params: Buffer, data: Buffer, type = 'application/octet-stream'): Part {
  return { head: head(Buffer.concat([Buffer.from('Content-Disposition: form-data; '), params]), `Content-Type: ${type}`), data };
}

function contentTypeOf(boundary: string): string {
  // RFC 2046 bchars outside RFC 7230 token characters need a quoted parameter.
  return /^[A-Za-z0-9'+_.-]+$/.test(boundary)
    ? `multipart/form-data; boundary=${boundary}`
    : `multipart/form-data; boundary="${boundary}"`;
}

const BOUNDARY_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?";

function randomBoundary(rng: Rng): string {
  const length = rng.chance(0.2) ? rng.int(60, 70) : rng.int(8, 40);
  let text = '';
  for (let i = 0; i < length; i++) text += rng.pick(BOUNDARY_CHARS.split(''));
  return text;
}

/** Names a client may send; none of them may ever become a path on the server. */
const NAMES = [
  'a.txt', 'report final (2).pdf', 'é.txt', '漢字.csv', '😀 party.png', 'ok.tar.gz',
  '../../etc/passwd', '../../../../../../tmp/evil', '/etc/shadow', '..\\..\\boot.ini', 'C:\\Windows\\win.ini',
  '..', '.', 'a/b/c.txt', '....//....//x', '%2e%2e%2fx', './.hidden', 'con', 'nul', 'aux.txt',
  'x'.repeat(300), 'é'.repeat(200), '😀'.repeat(80), 'quote"d', 'back\\slash', 'semi;colon=1', 'tab\there',
  'spooldir/../../jobcast.db', 'in-0', 'options.json', '\u202eexe.txt', 'a\u0085b',
  // Raw C0 controls, DEL and NUL, as browsers send them (they escape only CR, LF and `"`).
  'nul\u0000byte.txt', 'bell\u0007\u001b[31mred\u001b[0m', 'del\u007f.txt', '\u0001\u0002x\u001f', 'é\u0000漢\u007f😀',
];

function randomData(rng: Rng, boundary: string): Buffer {
  switch (rng.int(0, 5)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return rng.bytes(rng.int(1, 64));
    case 2:
      return rng.bytes(rng.int(1000, 8000));
    case 3:
      // Near-misses of the delimiter inside the data: the parser must not end the part.
      // NUL is no boundary character, so the partial delimiter cannot be completed by chance.
      return Buffer.concat([
        rng.bytes(rng.int(0, 50)),
        Buffer.from(`\r\n--${boundary.slice(0, rng.int(0, boundary.length - 1))}\u0000`),
        rng.bytes(rng.int(0, 50)),
        Buffer.from(`x--${boundary}`),
        Buffer.from('\r\n\r\n'),
        rng.bytes(rng.int(0, 20)),
      ]);
    case 4:
      return Buffer.from('line\r\n'.repeat(rng.int(1, 500)));
    default:
      return Buffer.alloc(rng.int(1, 4000), rng.int(0, 255));
  }
}

function randomLabel(rng: Rng): string {
  return rng.pick(['', 'nightly batch', 'é😀漢 mixed', 'a'.repeat(200), '😀'.repeat(200), '<script>x</script>', 'x\u0000y']);
}

interface ValidForm {
  form: Form;
  files: Array<{ name: string; size: number }>;
}

/** A well-formed upload of 1..4 files with valid fields in random order. */
function validForm(rng: Rng, names: readonly string[] = NAMES): ValidForm {
  const boundary = randomBoundary(rng);
  const parts: Part[] = [];
  const files: Array<{ name: string; size: number }> = [];
  for (let i = rng.int(1, 4); i > 0; i--) {
    const name = rng.pick(names);
    const data = randomData(rng, boundary);
    parts.push(filePart(name, data, rng.pick([undefined, 'application/octet-stream', 'text/plain', 'image/png'])));
    files.push({ name, size: data.length });
  }
  if (rng.chance(0.4)) parts.push(fieldPart('processor', rng.pick(['sha256', 'lines', 'gzip'])));
  if (rng.chance(0.4)) parts.push(fieldPart('label', randomLabel(rng)));
  if (rng.chance(0.3)) parts.push(fieldPart('options', rng.pick(['{}', '{"a":1}', '{"nested":{"x":[1,2,3]},"s":"é"}'])));
  if (rng.chance(0.3)) parts.push(fieldPart('failFast', rng.pick(['true', 'false', ''])));
  for (let i = rng.int(0, 3); i > 0; i--) parts.push(fieldPart(`extra${rng.int(0, 1e6)}`, rng.bytes(rng.int(0, 30))));
  // Files keep their order among themselves; fields may come anywhere.
  const fileParts = parts.filter((p) => p.head.includes('filename='));
  const order = rng.shuffle(parts.map((p) => (p.head.includes('filename=') ? null : p)));
  const form = { boundary, parts: order.map((p) => p ?? fileParts.shift()!), preamble: rng.chance(0.2) ? Buffer.from('preamble\r\n') : undefined };
  return { form, files };
}

// ---------------------------------------------------------------- case kinds

const set = (...outcomes: Outcome[]): ReadonlySet<Outcome> => new Set(outcomes);

function plan(rng: Rng, bodyLength: number): SendPlan {
  const framing = rng.chance(0.5) ? 'length' : 'chunked';
  const roll = rng.next();
  if (roll < 0.4) return { framing, pieces: null };
  if (roll < 0.55 && bodyLength <= 2048) return { framing, pieces: [1] };
  return { framing, pieces: Array.from({ length: 5 }, () => rng.int(1, 4096)) };
}

type Maker = (rng: Rng) => Omit<FuzzCase, 'send'> & { send?: SendPlan };

const validCase: Maker = (rng) => {
  const { form, files } = validForm(rng);
  return { kind: 'valid', contentType: contentTypeOf(form.boundary), body: encode(form).body, expected: set(202), files };
};

const truncatedCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const { body, closeEnd } = encode(form);
  const at = rng.int(0, body.length - 1);
  // Cut after `--boundary--` the form is complete: what follows is epilogue.
  const expected = at >= closeEnd ? set('malformed_multipart', 202) : set('malformed_multipart');
  return { kind: 'truncated', contentType: contentTypeOf(form.boundary), body: body.subarray(0, at), expected };
};

const clientCutCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const { body } = encode(form);
  const send = { ...plan(rng, body.length), stopAt: { bytes: rng.int(0, body.length - 1), how: 'cut' as const } };
  return { kind: 'client cut', contentType: contentTypeOf(form.boundary), body, expected: set('cut'), send };
};

const lyingLengthCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const { body } = encode(form);
  const stopAt = { bytes: rng.int(0, body.length - 1), how: 'half-close' as const };
  const send: SendPlan = { framing: rng.chance(0.5) ? 'length' : 'chunked', pieces: null, stopAt };
  if (rng.chance(0.5)) Object.assign(send, { framing: 'length', declaredLength: body.length + rng.int(1, 100_000), stopAt: { ...stopAt, bytes: body.length } });
  return { kind: 'short body, half-closed', contentType: contentTypeOf(form.boundary), body, expected: set('malformed_request', 'malformed_multipart'), send };
};

const wrongBoundaryCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const { body } = encode(form);
  const other = `${form.boundary}x`;
  const variant = rng.int(0, 5);
  const contentType = [
    contentTypeOf(randomBoundary(rng)),
    'multipart/form-data',
    'multipart/form-data; boundary=',
    contentTypeOf(form.boundary.toUpperCase() === form.boundary ? randomBoundary(rng) : form.boundary.toUpperCase()),
    contentTypeOf(other),
    `multipart/form-data; charset=utf-8; boundary=${'z'.repeat(71)}`,
  ][variant];
  return { kind: `wrong boundary #${variant}`, contentType, body, expected: set('malformed_multipart') };
};

const hugeHeaderCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const victim = form.parts[rng.int(0, form.parts.length - 1)]!;
  const size = rng.int(17 * 1024, 100 * 1024);
  const variant = rng.int(0, 3);
  const extra = [
    head(`X-Pad: ${'a'.repeat(size)}`),
    head(`Content-Disposition: form-data; name="file"; filename="${'n'.repeat(size)}"`),
    head(...Array.from({ length: rng.int(2100, 4000) }, (_, i) => `X-${i}: v`)),
    head(`X-${'h'.repeat(size)}: v`),
  ][variant]!;
  victim.head = Buffer.concat([extra, victim.head]);
  return { kind: `huge part header #${variant}`, contentType: contentTypeOf(form.boundary), body: encode(form).body, expected: set('malformed_multipart') };
};

const tinyPartsCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const parts: Part[] = [];
  for (let i = rng.int(500, 5000); i > 0; i--) {
    parts.push(
      rng.pick([
        () => filePart(`f${i}`, Buffer.from('x')),
        () => filePart('', Buffer.alloc(0)),
        () => fieldPart(`u${i}`, 'v'),
        () => fieldPart('label', 'l'),
        () => ({ head: head('X-Nothing: 1'), data: Buffer.from('x') }),
      ])(),
    );
  }
  return { kind: 'thousands of tiny parts', contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected: set('too_many_files', 'invalid_field', 'upload_too_large') };
};

const badUtf8NameCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const name = Buffer.concat(Array.from({ length: rng.int(1, 40) }, () => (rng.chance(0.6) ? Buffer.from([rng.int(0x80, 0xff)]) : Buffer.from(rng.pick(['a', '.', '/', 'é'])))));
  const part = rawDispositionPart(Buffer.concat([Buffer.from('name="file"; filename="'), name, Buffer.from('"')]), rng.bytes(rng.int(0, 100)));
  return { kind: 'invalid UTF-8 filename', contentType: contentTypeOf(boundary), body: encode({ boundary, parts: [part] }).body, expected: set(202) };
};

const badExtendedNameCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  // busboy cannot parse the first five at all (it used to drop such a part silently);
  // the others decode, invalid sequences becoming U+FFFD.
  const [value, outcome] = rng.pick<[string, Outcome]>([
    ["UTF-8''%ZZ.txt", 'malformed_multipart'], ["UTF-8''%", 'malformed_multipart'], ["x-unknown''abc", 'malformed_multipart'],
    ["''abc", 'malformed_multipart'], ['UTF-8', 'malformed_multipart'],
    ["UTF-8''%F0%9F.txt", 202], ["UTF-8''%C3%28", 202], ["UTF-8''%E2%82", 202], ["UTF-8'en'%FF%FE", 202],
    ["iso-8859-1''%E9t%E9", 202], ["UTF-8''%2e%2e%2f%2e%2e%2fetc%2fpasswd", 202], ["UTF-8''a%00b", 202],
    ["UTF-8''" + '%41'.repeat(400), 202], ["utf-8''%C0%AF..%C0%AF", 202],
  ]);
  const params = `name="file"; filename*=${value}${rng.chance(0.3) ? '; filename="fallback.txt"' : ''}`;
  const bad = rawDispositionPart(Buffer.from(params), rng.chance(0.8) ? rng.bytes(rng.int(1, 100)) : Buffer.alloc(0));
  // Alone, or among good files: a part that cannot be read must never just go missing.
  const parts = rng.chance(0.5) ? [bad] : rng.shuffle([bad, filePart('good1', Buffer.from('1')), filePart('good2', Buffer.from('2'))]);
  return { kind: 'bad filename*', contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected: set(outcome) };
};

const traversalCase: Maker = (rng) => {
  const { form, files } = validForm(rng, NAMES.filter((n) => /\.\.|^\/|\\|%2e/.test(n)));
  return { kind: 'path traversal names', contentType: contentTypeOf(form.boundary), body: encode(form).body, expected: set(202), files };
};

const nulCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const data = Buffer.from('a\u0000b');
  const variants: Array<[Part[], ReadonlySet<Outcome>]> = [
    [[rawDispositionPart(Buffer.from("name=\"file\"; filename*=UTF-8''nul%00byte.txt"), data)], set(202)],
    // Dropped from header values as they are read: the name is cleaned, the field name is `name`.
    [[rawDispositionPart(Buffer.from('name="file"; filename="raw\u0000nul.txt"'), data)], set(202)],
    [[filePart('data.bin', Buffer.alloc(rng.int(1, 5000), 0))], set(202)],
    [[filePart('x', data), fieldPart('label', 'a\u0000b')], set(202)],
    [[filePart('x', data), fieldPart('na\u0000me', 'v')], set(202)],
    [[filePart('x', data), fieldPart('fail\u0000Fast', 'maybe')], set('invalid_field')],
    // In a header name, and as framing (a bare LF), it stays malformed.
    [[filePart('x', data), { head: head('X-\u0000: 1'), data }], set('malformed_multipart')],
    [[rawDispositionPart(Buffer.from('name="file"; filename="bare\nlf.txt"'), data)], set('malformed_multipart')],
    [[filePart('x', data), fieldPart('options', '{"a":"\u0000"}')], set('invalid_field')],
  ];
  const [parts, expected] = rng.pick(variants);
  return { kind: 'NUL bytes', contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected };
};

const duplicateCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const field = rng.pick(['processor', 'label', 'options', 'failFast', 'other']);
  const value = { processor: 'sha256', label: 'l', options: '{}', failFast: 'true', other: 'o' }[field]!;
  const parts = rng.shuffle([fieldPart(field, value), fieldPart(field, value), filePart('same.txt', Buffer.from('1')), filePart('same.txt', Buffer.from('2'))]);
  return { kind: `duplicate ${field}`, contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected: field === 'other' ? set(202) : set('invalid_field') };
};

const delimiterInDataCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const victim = rng.pick(form.parts.filter((p) => p.head.includes('filename=')));
  // The delimiter followed by neither CRLF nor "--": busboy ends the file there and drops
  // the rest of the part (it used to become a job with a shortened file).
  const after = rng.pick(['X', ' \r\n', '\t', '-x', '\rX', rng.bytes(1).toString('latin1').replace(/[\r-]/, 'y')]);
  const at = rng.int(0, victim.data.length);
  victim.data = Buffer.concat([victim.data.subarray(0, at), Buffer.from(`\r\n--${form.boundary}${after}`, 'latin1'), rng.bytes(rng.int(0, 100)), victim.data.subarray(at)]);
  return { kind: 'boundary inside file data', contentType: contentTypeOf(form.boundary), body: encode(form).body, expected: set('malformed_multipart') };
};

const garbageCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const noise = rng.bytes(rng.int(0, 64 * 1024));
  const body = rng.chance(0.5) ? noise : Buffer.concat([Buffer.from(`--${boundary}\r\n`), noise]);
  return { kind: 'random garbage', contentType: contentTypeOf(boundary), body, expected: set('malformed_multipart') };
};

const mutatedCase: Maker = (rng) => {
  const { form } = validForm(rng);
  let body = encode(form).body;
  for (let i = rng.int(1, 8); i > 0; i--) {
    const at = rng.int(0, body.length);
    const insert = [
      () => rng.bytes(rng.int(1, 16)),
      () => Buffer.from('\r\n'),
      () => Buffer.from(`\r\n--${form.boundary}`),
      () => Buffer.from(`\r\n--${form.boundary}--`),
      () => Buffer.from('"; filename="../x"'),
      () => Buffer.alloc(0),
    ];
    const piece = rng.pick(insert)();
    const removeCount = rng.chance(0.5) ? rng.int(0, 32) : 0;
    body = Buffer.concat([body.subarray(0, at), piece, body.subarray(Math.min(body.length, at + removeCount))]);
  }
  return { kind: 'mutated', contentType: contentTypeOf(form.boundary), body, expected: new Set(ANY_ANSWER) };
};

const mediaTypeCase: Maker = (rng) => {
  const { form } = validForm(rng);
  const contentType = rng.pick([undefined, 'text/plain', 'application/json', 'application/x-www-form-urlencoded', `multipart/mixed; boundary=${form.boundary}`, 'multipart/form-datax; boundary=a', '']);
  return { kind: 'wrong media type', contentType, body: encode(form).body, expected: set('unsupported_media_type') };
};

const oversizeCase: Maker = (rng) => {
  const { maxFileSize, maxUploadSize } = FUZZ_LIMITS;
  const boundary = randomBoundary(rng);
  const contentType = contentTypeOf(boundary);
  switch (rng.int(0, 2)) {
    case 0: {
      const parts = [filePart('ok', Buffer.from('x')), filePart('big', Buffer.alloc(maxFileSize + rng.int(1, 20_000)))];
      return { kind: 'file over --max-file-size', contentType, body: encode({ boundary, parts }).body, expected: set('file_too_large') };
    }
    case 1: {
      const body = encode({ boundary, parts: [filePart('a', Buffer.from('x'))] }).body;
      // Refused on the headers alone, so the client need not finish (nor half-close, which
      // would race Node's own answer to a short body).
      return { kind: 'Content-Length over --max-upload-size', contentType, body, expected: set('upload_too_large'), send: { framing: 'length', declaredLength: maxUploadSize + rng.int(1, 1e9), pieces: null } };
    }
    default: {
      const parts = Array.from({ length: 10 }, (_, i) => filePart(`f${i}`, Buffer.alloc(maxFileSize - 100)));
      return { kind: 'body over --max-upload-size', contentType, body: encode({ boundary, parts }).body, expected: set('upload_too_large') };
    }
  }
};

const badFieldCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const [name, value, code] = rng.pick<[string, string, Outcome]>([
    ['label', 'x'.repeat(201), 'invalid_field'],
    ['label', '😀'.repeat(201), 'invalid_field'],
    ['options', '{bad', 'invalid_field'],
    ['options', '[1,2]', 'invalid_field'],
    ['options', 'null', 'invalid_field'],
    ['options', `{"a":"${'x'.repeat(70_000)}"}`, 'invalid_field'],
    ['failFast', 'yes', 'invalid_field'],
    ['failFast', '1', 'invalid_field'],
    ['processor', '../../sha256', 'unknown_processor'],
    ['processor', 'nope', 'unknown_processor'],
  ]);
  const parts = rng.shuffle([fieldPart(name, value), filePart('a', Buffer.from('x'))]);
  return { kind: `bad ${name}`, contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected: set(code) };
};

const noFilesCase: Maker = (rng) => {
  const boundary = randomBoundary(rng);
  const parts = rng.pick([[], [fieldPart('label', 'x')], [filePart('', Buffer.alloc(0))], [filePart('', Buffer.alloc(0)), fieldPart('other', 'v')]]);
  return { kind: 'no files', contentType: contentTypeOf(boundary), body: encode({ boundary, parts }).body, expected: set('no_files') };
};

/** Makers with their weights: the valid and near-valid shapes come most often. */
const MAKERS: Array<[Maker, number]> = [
  [validCase, 10], [truncatedCase, 8], [clientCutCase, 6], [lyingLengthCase, 3], [wrongBoundaryCase, 5],
  [hugeHeaderCase, 4], [tinyPartsCase, 3], [badUtf8NameCase, 4], [badExtendedNameCase, 4], [traversalCase, 3],
  [nulCase, 4], [duplicateCase, 3], [delimiterInDataCase, 3], [garbageCase, 4], [mutatedCase, 8], [mediaTypeCase, 2], [oversizeCase, 3],
  [badFieldCase, 3], [noFilesCase, 2],
];

/** Case number `index` of the run seeded with `seed`: the same pair always gives the same case. */
export function makeCase(seed: number, index: number): FuzzCase {
  const rng = new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const total = MAKERS.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = rng.next() * total;
  const maker = MAKERS.find(([, weight]) => (roll -= weight) < 0)?.[0] ?? validCase;
  const made = maker(rng);
  let send = made.send ?? plan(rng, made.body.length);
  let expected = made.expected;
  // Now and then the client also gives up part-way, whatever it was sending.
  if (made.send === undefined && made.body.length > 0 && rng.chance(0.1)) {
    send = { ...send, stopAt: { bytes: rng.int(0, made.body.length - 1), how: 'cut' } };
    expected = new Set([...expected, 'cut']);
  }
  return { ...made, send, expected };
}
