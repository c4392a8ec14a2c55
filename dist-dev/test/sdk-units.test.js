// The client SDK's parts on their own: backoff with an injected random, the job view's
// seq rules, the socket URL, the server-message reader, the options, and the rule that
// nothing under client/ needs Node.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { Backoff } from '../client/backoff.js';
import { createClient } from '../client/jobcast-client.js';
import { JobView } from '../client/job-view.js';
import { socketUrl } from '../client/options.js';
import { parseServerMessage } from '../client/server-message.js';
import { foldEvents } from '../server/protocol/reducer.js';
import { jobEvents } from './helpers/sdk-events.js';
import { REPO_ROOT } from './helpers/server.js';
/** A random() that returns the given values in turn. */
function sequence(...values) {
    let i = 0;
    return () => values[i++ % values.length];
}
test('backoff: the ceiling doubles from initialMs up to maxMs, and reset() starts over', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999]);
    assert.equal(backoff.attempt, 7);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 99);
});
test('backoff: full jitter draws each delay anywhere in [0, ceiling)', () => {
    const draws = [0, 0.5, 0.25, 0.75, 0.1, 0.9, 1, Number.NaN];
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, random: sequence(...draws) });
    const delays = draws.map(() => backoff.next());
    // ceilings 250, 500, 1000, 2000, 4000, 8000, 10000, 10000; 1 is clamped under the ceiling, NaN counts as 0.
    assert.deepEqual(delays, [0, 250, 250, 1500, 400, 7200, 9999, 0]);
    const spread = new Backoff({ initialMs: 250, maxMs: 10_000, random: sequence(0.13, 0.71, 0.42) });
    const firsts = [spread.next()];
    spread.reset();
    firsts.push(spread.next());
    spread.reset();
    firsts.push(spread.next());
    assert.equal(new Set(firsts).size, 3, `jittered: ${firsts.join(', ')}`);
    for (const d of firsts)
        assert.ok(d >= 0 && d < 250);
    const defaults = new Backoff();
    for (let i = 0; i < 40; i++)
        assert.ok(defaults.next() < 10_000);
});
test('backoff: options that cannot work are refused, naming the option', () => {
    const cases = [
        { options: { initialMs: 0 }, what: /initialMs/ },
        { options: { maxMs: -1 }, what: /maxMs/ },
        { options: { initialMs: 500, maxMs: 100 }, what: /maxMs \(100\) must be at least backoff\.initialMs \(500\)/ },
        { options: { initialMs: Number.POSITIVE_INFINITY }, what: /initialMs/ },
    ];
    for (const { options, what } of cases)
        assert.throws(() => new Backoff(options), what);
});
test('job view: the next seq is folded, older ones are stale, later ones a gap, a bad event needs a snapshot, a late snapshot is dropped', () => {
    const events = jobEvents();
    const view = new JobView('job1');
    assert.equal(view.applyEvent(events[1], 1), 'gap', 'nothing to fold onto');
    assert.equal(view.applyEvent(events[0], 1), 'applied', 'job.queued creates the job');
    assert.equal(view.snapshot.queuePosition, 2);
    assert.equal(view.applyPosition(1), true);
    assert.equal(view.applyPosition(1), false, 'no change');
    assert.equal(view.snapshot.queuePosition, 1);
    assert.equal(view.applyEvent(events[0], 1), 'stale');
    assert.equal(view.applyEvent(events[2], 1), 'gap');
    assert.equal(view.applyEvent(events[1], 1), 'applied');
    assert.equal(view.applyPosition(3), false, 'a running job has no queue position');
    assert.equal(view.snapshot.queuePosition, null);
    assert.equal(view.applyEvent(events[1], 1), 'stale', 'a duplicate is not applied twice');
    for (const event of events.slice(2))
        assert.equal(view.applyEvent(event, 1), 'applied');
    assert.deepEqual(view.snapshot, foldEvents(null, events));
    const broken = new JobView('job1');
    broken.applyEvent(events[0], 1);
    const before = broken.snapshot;
    const bad = { ...events[1], name: 'job.queued', data: { files: 'not a list' } };
    assert.equal(broken.applyEvent(bad, 1), 'invalid', 'the reducer threw');
    assert.equal(broken.snapshot, before, 'the view is untouched');
    assert.equal(broken.needsSnapshot, true);
    assert.equal(broken.applySnapshot(foldEvents(null, events.slice(0, 3)), 1), true);
    assert.equal(broken.needsSnapshot, false);
    assert.equal(broken.lastSeq, 3);
    // An older snapshot on the socket that gave seq 3 is a late one; on a new socket it is the server's truth (a restored store).
    assert.equal(broken.applySnapshot(foldEvents(null, events.slice(0, 2)), 1), false);
    assert.equal(broken.lastSeq, 3);
    assert.equal(broken.applySnapshot(foldEvents(null, events.slice(0, 2)), 2), true);
    assert.equal(broken.lastSeq, 2);
});
test('socket URL: http(s) base gets /ws and the ws scheme, a ws(s) URL is kept, the token goes in the query', () => {
    const cases = [
        { url: 'http://127.0.0.1:8080', expected: 'ws://127.0.0.1:8080/ws' },
        { url: 'http://127.0.0.1:8080/', expected: 'ws://127.0.0.1:8080/ws' },
        { url: 'https://example.com/jobcast/', expected: 'wss://example.com/jobcast/ws' },
        { url: 'ws://h:1/ws', expected: 'ws://h:1/ws' },
        { url: 'wss://h/custom/path?x=1', token: 'a b&c', expected: 'wss://h/custom/path?x=1&token=a+b%26c' },
        { url: 'http://h', token: 't0k', expected: 'ws://h/ws?token=t0k' },
    ];
    for (const { url, token, expected } of cases)
        assert.equal(socketUrl(url, token), expected, url);
    for (const bad of ['localhost:8080', '/ws', 'ftp://h/', ''])
        assert.throws(() => socketUrl(bad), TypeError, bad);
});
test('server messages: anything malformed or unknown is dropped', () => {
    const snapshot = foldEvents(null, jobEvents().slice(0, 2));
    const good = [
        { type: 'snapshot', job: snapshot },
        jobEvents()[3],
        { type: 'position', job: 'j', position: 3 },
        { type: 'subscribed', job: 'j', seq: 4, mode: 'resume' },
        { type: 'subscribed', job: '*', mode: 'snapshot' },
        { type: 'unsubscribed', job: '*' },
        { type: 'error', code: 'job_not_found', message: 'no', job: 'j' },
        { type: 'pong' },
    ];
    for (const message of good)
        assert.deepEqual(parseServerMessage(JSON.stringify(message)), message);
    const bad = [
        { data: 'not json', what: 'not JSON' },
        { data: '[1]', what: 'an array' },
        { data: 'null', what: 'null' },
        { data: new Uint8Array([123, 125]), what: 'a binary frame' },
        { data: '{"type":"nope"}', what: 'an unknown type' },
        { data: '{"type":"snapshot","job":{}}', what: 'a snapshot without fields' },
        { data: '{"type":"snapshot","job":{"id":"*","seq":1,"status":"queued","files":[],"progress":{}}}', what: 'a snapshot of *' },
        { data: '{"type":"event","job":"j","seq":0,"ts":1,"name":"job.started","data":{}}', what: 'seq 0' },
        { data: '{"type":"event","job":"j","seq":1.5,"ts":1,"name":"job.started","data":{}}', what: 'a fractional seq' },
        { data: '{"type":"event","job":"j","seq":2,"ts":1,"name":"job.started"}', what: 'no data' },
        { data: '{"type":"position","job":"j","position":"1"}', what: 'a string position' },
        { data: '{"type":"subscribed","job":"j","mode":"later"}', what: 'an unknown mode' },
        { data: '{"type":"error","code":5,"message":"x"}', what: 'a numeric code' },
    ];
    for (const { data, what } of bad)
        assert.equal(parseServerMessage(data), null, what);
});
test('createClient: options that cannot work are refused, naming the option', () => {
    if (typeof globalThis.WebSocket !== 'function') {
        assert.throws(() => createClient({ url: 'http://127.0.0.1:1' }), /pass the WebSocket option/);
    }
    assert.throws(() => createClient({ url: 'nowhere', WebSocket }), /url must be an absolute/);
    assert.throws(() => createClient({ url: 'http://h', WebSocket, pingIntervalMs: 0 }), /pingIntervalMs/);
    assert.throws(() => createClient({ url: 'http://h', WebSocket, backoff: { initialMs: 10, maxMs: 5 } }), /backoff\.maxMs/);
});
/** Module specifiers a source imports: static imports and re-exports (also over several lines), side-effect imports, import(), require(). */
function importedModules(source) {
    const patterns = [
        /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
        /^\s*import\s*['"]([^'"]+)['"]/gm,
        /\bimport\s*\(\s*['"]([^'"]+)['"]/g,
        /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
    ];
    return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]));
}
test('nothing under client/ imports node: modules or ws, and only the protocol folder of the server', async () => {
    const forms = [
        { source: "import { readFile } from 'node:fs/promises';", expected: ['node:fs/promises'] },
        { source: "import WebSocket, {\n  type Data,\n} from 'ws';", expected: ['ws'] },
        { source: "export * from 'node:path';\nimport 'ws';", expected: ['node:path', 'ws'] },
        { source: "const os = await import('node:os'); const x = require('ws');", expected: ['node:os', 'ws'] },
        { source: "throw new TypeError(\"pass it (`import WebSocket from 'ws'`)\");", expected: [] },
    ];
    for (const { source, expected } of forms)
        assert.deepEqual(importedModules(source).sort(), expected.sort(), source);
    const dir = join(REPO_ROOT, 'client');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 5, `client files: ${files.join(', ')}`);
    for (const file of files) {
        for (const spec of importedModules(await readFile(join(dir, file), 'utf8'))) {
            assert.ok(!spec.startsWith('node:') && spec !== 'ws' && !spec.startsWith('ws/'), `${file} imports ${spec}`);
            assert.ok(spec.startsWith('./') || spec.startsWith('../server/protocol/'), `${file} imports ${spec}: only ./ and ../server/protocol/`);
        }
    }
});
//# sourceMappingURL=sdk-units.test.js.map