// Reading what the probe processor (test/fixtures/processors/probe.mjs) recorded, and
// checking a finished job against it: which claim ran each file, which completed it.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobEvent, Snapshot } from '../../server/protocol/types.js';

export interface ProbeRecord {
  what: 'start' | 'abort' | 'done';
  job: string;
  index: number;
  pid: number;
  /** The fence token of the claim the file ran under. */
  token: number;
}

/** Every line of the record file, in order. */
export async function probeRecords(path: string): Promise<ProbeRecord[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [what, job, index, pid, token] = line.split(' ');
      return { what: what as ProbeRecord['what'], job: job!, index: Number(index), pid: Number(pid), token: Number(token) };
    });
}

/** The fence token a probe progress event was appended under (its `done` carries it). */
export function progressToken(event: JobEvent): number | null {
  return event.name === 'file.progress' ? Math.floor(event.data.done / 1e6) : null;
}

/**
 * Checks a completed job against the records: each file was completed once (one
 * file.completed in the log), its published output is the one the completing claim wrote,
 * and no claim ran the file after the one that completed it (finished files never run
 * again). Returns the completing tokens by file.
 */
export async function assertEachFileCompletedOnce(spoolDir: string, final: Snapshot, events: JobEvent[], records: ProbeRecord[]): Promise<number[]> {
  const tokens: number[] = [];
  for (const file of final.files) {
    const completions = events.filter((e) => e.name === 'file.completed' && e.data.file === file.index);
    assert.equal(completions.length, 1, `${final.id} file ${file.index}: completed once in the log`);
    const output = (await readFile(join(spoolDir, final.id, `out-${file.index}`), 'utf8')).trim().split(' ');
    const token = Number(output[3]);
    assert.deepEqual((completions[0]!.data as { result: { token: number } }).result.token, token, `${final.id} file ${file.index}: the published output is the completing claim's`);
    const runs = records.filter((r) => r.job === final.id && r.index === file.index);
    const later = runs.filter((r) => r.token > token);
    assert.deepEqual(later, [], `${final.id} file ${file.index}: nothing ran it after the claim ${token} completed it`);
    assert.ok(runs.some((r) => r.what === 'done' && r.token === token), `${final.id} file ${file.index}: the completing claim recorded its end`);
    tokens.push(token);
  }
  return tokens;
}
