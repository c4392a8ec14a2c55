import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEvent, foldEvents } from '../server/protocol/reducer.js';
/** Numbers a run of events the way a store would. */
function numbered(job, events, firstSeq = 1, ts = 1000) {
    return events.map((e, i) => ({ type: 'event', job, seq: firstSeq + i, ts: e.ts ?? ts + i, name: e.name, data: e.data }));
}
const FILES = [
    { index: 0, name: 'a.csv', size: 100, type: 'text/csv' },
    { index: 1, name: 'dir/b.bin', size: 300, type: 'application/octet-stream' },
    { index: 2, name: 'empty', size: 0, type: 'text/plain' },
];
const queued = { name: 'job.queued', data: { processor: 'sha256', label: 'nightly', failFast: false, files: FILES, position: 2 } };
test('job.queued creates the snapshot of SPEC 3.1 with pending files', () => {
    const s = applyEvent(null, numbered('J', [queued])[0]);
    assert.equal(s.id, 'J');
    assert.equal(s.seq, 1);
    assert.equal(s.status, 'queued');
    assert.equal(s.createdAt, 1000);
    assert.equal(s.queuePosition, 2);
    assert.deepEqual(s.progress, { filesTotal: 3, filesDone: 0, filesFailed: 0, bytesTotal: 400, fraction: 0 });
    assert.deepEqual(s.files[2], {
        index: 2, name: 'empty', size: 0, type: 'text/plain', status: 'pending', done: 0, total: 0, fraction: 0,
        startedAt: null, finishedAt: null, durationMs: null, result: null, error: null, output: false,
    });
});
test('a full run folds to the expected final snapshot', () => {
    const events = numbered('J', [
        queued,
        { name: 'job.started', data: {}, ts: 2000 },
        { name: 'file.started', data: { file: 0 }, ts: 2001 },
        { name: 'file.progress', data: { file: 0, done: 50, total: 100, fraction: 0.5, rate: 10, etaMs: 5, jobEtaMs: 50 } },
        { name: 'file.completed', data: { file: 0, durationMs: 9, result: { sha256: 'x' }, output: false }, ts: 2010 },
        { name: 'file.started', data: { file: 1 }, ts: 2011 },
        { name: 'file.failed', data: { file: 1, durationMs: 4, error: { code: 'processor_error', message: 'boom' } }, ts: 2015 },
        { name: 'file.started', data: { file: 2 }, ts: 2016 },
        { name: 'file.completed', data: { file: 2, durationMs: 1, result: {}, output: true }, ts: 2017 },
        { name: 'job.failed', data: { durationMs: 17, error: { code: 'files_failed', message: '1 of 3 files failed' } }, ts: 2017 },
    ]);
    const s = foldEvents(null, events);
    assert.equal(s.seq, 10);
    assert.equal(s.status, 'failed');
    assert.equal(s.startedAt, 2000);
    assert.equal(s.finishedAt, 2017);
    assert.equal(s.queuePosition, null);
    assert.deepEqual(s.error, { code: 'files_failed', message: '1 of 3 files failed' });
    assert.deepEqual(s.files.map((f) => f.status), ['done', 'failed', 'done']);
    assert.equal(s.files[0].done, 100);
    assert.equal(s.files[0].fraction, 1);
    assert.equal(s.files[0].durationMs, 9);
    assert.equal(s.files[1].error.message, 'boom');
    assert.equal(s.files[2].output, true);
    assert.equal(s.progress.filesDone, 2);
    assert.equal(s.progress.filesFailed, 1);
    // Size-weighted: a (100 bytes, 1) + b (300, 0) + empty (weighs 1 byte, 1) over 401.
    assert.equal(s.progress.fraction, 101 / 401);
});
test('progress moves the file and the size-weighted job fraction', () => {
    const s = foldEvents(null, numbered('J', [
        queued,
        { name: 'job.started', data: {} },
        { name: 'file.started', data: { file: 1 } },
        { name: 'file.progress', data: { file: 1, done: 150, total: 300, fraction: 0.5, rate: 1, etaMs: 1, jobEtaMs: 1 } },
    ]));
    assert.equal(s.files[1].done, 150);
    assert.equal(s.files[1].fraction, 0.5);
    assert.equal(s.progress.fraction, 150 / 401);
});
test('job.requeued puts running files back to pending and keeps finished ones', () => {
    const s = foldEvents(null, numbered('J', [
        queued,
        { name: 'job.started', data: {} },
        { name: 'file.started', data: { file: 0 } },
        { name: 'file.completed', data: { file: 0, durationMs: 1, result: 1, output: false } },
        { name: 'file.started', data: { file: 1 } },
        { name: 'file.progress', data: { file: 1, done: 100, total: 300, fraction: 1 / 3, rate: 1, etaMs: 1, jobEtaMs: 1 } },
        { name: 'job.requeued', data: { reason: 'restart', position: 1 } },
    ]));
    assert.equal(s.status, 'queued');
    assert.equal(s.queuePosition, 1);
    assert.equal(s.files[0].status, 'done');
    assert.deepEqual([s.files[1].status, s.files[1].done, s.files[1].fraction, s.files[1].startedAt], ['pending', 0, 0, null]);
});
test('job.cancelled cancels pending and running files and clears the position', () => {
    const s = foldEvents(null, numbered('J', [
        queued,
        { name: 'job.started', data: {} },
        { name: 'file.started', data: { file: 0 } },
        { name: 'job.cancelled', data: { durationMs: 3 } },
    ]));
    assert.equal(s.status, 'cancelled');
    assert.equal(s.queuePosition, null);
    assert.deepEqual(s.files.map((f) => f.status), ['cancelled', 'cancelled', 'cancelled']);
});
test('job.failed with failFast cancels the files that never ran', () => {
    const s = foldEvents(null, numbered('J', [
        { ...queued, data: { ...queued.data, failFast: true } },
        { name: 'job.started', data: {} },
        { name: 'file.started', data: { file: 0 } },
        { name: 'file.failed', data: { file: 0, durationMs: 1, error: { code: 'timeout', message: 't' } } },
        { name: 'job.failed', data: { durationMs: 2, error: { code: 'files_failed', message: 'x' } } },
    ]));
    assert.deepEqual(s.files.map((f) => f.status), ['failed', 'cancelled', 'cancelled']);
});
test('applying the events after a snapshot gives the later snapshot (SPEC 3.5)', () => {
    const events = numbered('J', [
        queued,
        { name: 'job.started', data: {} },
        { name: 'file.started', data: { file: 0 } },
        { name: 'file.completed', data: { file: 0, durationMs: 1, result: null, output: false } },
        { name: 'file.started', data: { file: 1 } },
        { name: 'file.completed', data: { file: 1, durationMs: 1, result: null, output: false } },
        { name: 'file.started', data: { file: 2 } },
        { name: 'file.completed', data: { file: 2, durationMs: 1, result: null, output: false } },
        { name: 'job.completed', data: { durationMs: 5 } },
    ]);
    const whole = foldEvents(null, events);
    for (let cut = 1; cut < events.length; cut++) {
        const prefix = foldEvents(null, events.slice(0, cut));
        assert.deepEqual(foldEvents(prefix, events.slice(cut)), whole, `cut at ${cut}`);
    }
});
test('the reducer never mutates its input', () => {
    const events = numbered('J', [queued, { name: 'job.started', data: {} }, { name: 'file.started', data: { file: 0 } }]);
    const first = foldEvents(null, events.slice(0, 2));
    const frozen = JSON.stringify(first);
    applyEvent(first, events[2]);
    assert.equal(JSON.stringify(first), frozen);
});
test('an event other than job.queued without a snapshot is refused', () => {
    assert.throws(() => applyEvent(null, numbered('J', [{ name: 'job.started', data: {} }])[0]), TypeError);
});
//# sourceMappingURL=reducer.test.js.map