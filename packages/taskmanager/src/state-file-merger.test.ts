import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkStateFile, readTaskState, writeTaskState, type TaskStateSnapshot } from '@weir/runtime';
import { StateFileMerger } from './state-file-merger';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'weir-merger-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

const snapshot = (vertexId: string, subtask: number, values: number): TaskStateSnapshot => ({
  vertexId, subtask, keyGroupStart: 0, keyGroupEnd: 127,
  operators: { sum: { operator: { numbers: Array.from({ length: values }, (_, i) => i * (subtask + 1)) } } },
});

/** Writes state as a task would with the merger (20,000 numbers: above the 20 kb kept inline). */
const write = (merger: StateFileMerger, s: TaskStateSnapshot, attempt = 1) =>
  writeTaskState(root, 'job1', 7, s, undefined, (request) => merger.add('job1', attempt, request));

describe('state file merger', () => {
  it('the files of all tasks of a job on the TaskManager become one file: one write, each task reads its own bytes back', async () => {
    const merger = new StateFileMerger('tm-a', () => 3);
    const snaps = [snapshot('v2', 0, 20_000), snapshot('v2', 1, 21_000), snapshot('v3', 0, 22_000)];
    const written = await Promise.all(snaps.map((s) => write(merger, s)));
    const dir = path.join(root, 'job1', 'chk-7');
    expect(readdirSync(dir)).toEqual(['tm-a-1.merged']);
    expect(written.map((w) => w.handle.shared)).toEqual([true, true, true]);
    expect(written.map((w) => w.cost.puts)).toEqual([1, 0, 0]); // the merged file's one PUT, counted once
    expect(written[1].handle.offset).toBe(written[0].handle.size);
    for (const [i, w] of written.entries()) {
      expect(await readTaskState(w.handle, path.join(root, 'job1'))).toEqual(snaps[i]);
      expect(await checkStateFile(w.handle, path.join(root, 'job1'))).toBeUndefined();
    }
    // A damaged range is found by its checksum like a damaged file.
    const wrong = { ...written[1].handle, offset: (written[1].handle.offset ?? 0) + 1 };
    expect(await checkStateFile(wrong, path.join(root, 'job1'))).toMatch(/tm-a-1\.merged \(bytes \d+-\d+\) is corrupt/);
  });

  it('a task that reports without a file (inline state) does not hold the batch; a straggler gets a file of its own after the wait', async () => {
    vi.useFakeTimers();
    const merger = new StateFileMerger('tm-b', () => 3, 250);
    const first = write(merger, snapshot('v2', 0, 20_000));
    const second = write(merger, snapshot('v2', 1, 20_000));
    merger.reportedWithoutFile('job1', 1, 7); // the source's state went inline
    await vi.advanceTimersByTimeAsync(0);
    const [a, b] = await Promise.all([first, second]);
    expect(a.handle.path).toBe(b.handle.path);
    // Another attempt's task is a batch of its own; alone after the wait, it keeps its plain name.
    const late = write(merger, snapshot('v3', 0, 20_000), 2);
    await vi.advanceTimersByTimeAsync(250);
    const c = await late;
    expect(c.handle.shared).toBeUndefined();
    expect(path.basename(c.handle.path)).toBe('v3-0.state');
    expect(c.cost.puts).toBe(1);
  });
});
