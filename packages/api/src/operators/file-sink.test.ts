import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OperatorContext, Output } from '../operator';
import type { ListState, StateDescriptor } from '../state';
import { exactlyOnceFileSinkOperator } from './file-sink';

type Lists = Record<string, unknown[]>;

/** An operator context with union list state held in `lists` (what a checkpoint would store). */
function context(opts: { subtask?: number; parallelism?: number; attempt?: number; restored?: Lists; config?: Record<string, string> } = {}) {
  const lists: Lists = structuredClone(opts.restored ?? {});
  const ctx: OperatorContext = {
    jobId: 'job',
    taskName: `sink#${opts.subtask ?? 0}@${opts.attempt ?? 1}`,
    subtask: opts.subtask ?? 0,
    parallelism: opts.parallelism ?? 2,
    maxParallelism: 128,
    attempt: opts.attempt ?? 1,
    isRestored: opts.restored !== undefined,
    getState<S>(_d: StateDescriptor<S>): S {
      throw new Error('not keyed');
    },
    getUnionListState<T>(name: string): ListState<T> {
      lists[name] ??= [];
      return {
        get: () => [...(lists[name] as T[])],
        add: (v) => void lists[name].push(v),
        update: (values) => void (lists[name] = [...values]),
        clear: () => void (lists[name] = []),
      };
    },
    getListState<T>(): ListState<T> {
      throw new Error('not used by the file sink');
    },
    currentKey: () => undefined,
    config: opts.config ?? { 'execution.checkpointing.interval': '1000' },
  };
  /** What the checkpoint keeps: a deep copy of the operator state at snapshot time. */
  const checkpointState = (): Lists => structuredClone(lists);
  return { ctx, lists, checkpointState };
}

const out: Output<never> = { collect: () => {} };

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'weir-filesink-')), 'out');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const visible = () => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
const hidden = () => readdirSync(dir).filter((n) => n.startsWith('.')).sort();
const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');

describe('exactly-once file sink', () => {
  it('keeps records invisible until their checkpoint completes', async () => {
    const sink = exactlyOnceFileSinkOperator<unknown>(dir);
    const { ctx, lists } = context();
    await sink.open?.(ctx, out);
    expect(existsSync(dir)).toBe(true);
    sink.processElement('a', out);
    sink.processElement({ n: 1 }, out);
    sink.snapshotState?.(1);
    expect(visible()).toEqual([]);
    expect(hidden()).toEqual(['.part-0-1-1.pending']);
    expect(lists['file-sink-pending']).toEqual([{ checkpointId: 1, pending: '.part-0-1-1.pending', final: 'part-0-1' }]);
    sink.processElement('after-barrier', out);
    sink.snapshotState?.(2);
    expect(lists['file-sink-pending']).toEqual([
      { checkpointId: 1, pending: '.part-0-1-1.pending', final: 'part-0-1' },
      { checkpointId: 2, pending: '.part-0-1-2.pending', final: 'part-0-2' },
    ]);
    await sink.notifyCheckpointComplete?.(1);
    expect(visible()).toEqual(['part-0-1']);
    expect(read('part-0-1')).toBe('a\n{"n":1}\n');
    expect(hidden()).toEqual(['.part-0-1-2.pending']);
    // the next snapshot records only what is still pending
    sink.snapshotState?.(3);
    expect(lists['file-sink-pending']).toEqual([{ checkpointId: 2, pending: '.part-0-1-2.pending', final: 'part-0-2' }]);
    await sink.notifyCheckpointComplete?.(3);
    expect(visible()).toEqual(['part-0-1', 'part-0-2']);
    expect(read('part-0-2')).toBe('after-barrier\n');
    expect(hidden()).toEqual([]);
  });

  it('a snapshot with no new records creates no file', async () => {
    const sink = exactlyOnceFileSinkOperator<string>(dir);
    const { ctx, lists } = context();
    await sink.open?.(ctx, out);
    sink.snapshotState?.(1);
    expect(readdirSync(dir)).toEqual([]);
    expect(lists['file-sink-pending']).toEqual([]);
  });

  it('a restore commits the checkpoint pending files, idempotently, and deletes leftovers of the failed attempt', async () => {
    mkdirSync(dir, { recursive: true });
    // attempt 1 of subtask 0: checkpoint 1 completes on the JobManager, but the task dies before it is told
    const first = exactlyOnceFileSinkOperator<string>(dir);
    const a1 = context({ attempt: 1 });
    await first.open?.(a1.ctx, out);
    first.processElement('one', out);
    first.processElement('two', out);
    first.snapshotState?.(1);
    const checkpoint1 = a1.checkpointState();
    first.processElement('three', out);
    first.snapshotState?.(2); // checkpoint 2 never completes
    for (let i = 0; i < 4096; i++) first.processElement(`x${i}`, out); // flushed into an in-progress file
    // a file of another subtask must be left alone
    writeFileSync(path.join(dir, '.part-1-1-9.inprogress'), 'other subtask\n');
    expect(hidden()).toEqual(['.part-0-1-1.pending', '.part-0-1-2.inprogress', '.part-0-1-2.pending', '.part-1-1-9.inprogress']);
    expect(visible()).toEqual([]);

    // attempt 2 restores checkpoint 1
    const second = exactlyOnceFileSinkOperator<string>(dir);
    await second.open?.(context({ attempt: 2, restored: checkpoint1 }).ctx, out);
    expect(visible()).toEqual(['part-0-1']);
    expect(read('part-0-1')).toBe('one\ntwo\n');
    expect(hidden()).toEqual(['.part-1-1-9.inprogress']);

    // attempt 3 restores the same checkpoint again: the commit is already done, nothing breaks
    const third = exactlyOnceFileSinkOperator<string>(dir);
    await third.open?.(context({ attempt: 3, restored: checkpoint1 }).ctx, out);
    expect(visible()).toEqual(['part-0-1']);
    expect(read('part-0-1')).toBe('one\ntwo\n');
    third.processElement('four', out);
    third.snapshotState?.(3);
    await third.notifyCheckpointComplete?.(3);
    expect(visible()).toEqual(['part-0-1', 'part-0-3']);
    expect(read('part-0-3')).toBe('four\n');
  });

  it('a restored subtask commits only its own pending files from the union state', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.part-1-1-5.pending'), 'from subtask 1\n');
    const restored = { 'file-sink-pending': [{ checkpointId: 5, pending: '.part-1-1-5.pending', final: 'part-1-5' }] };
    const sink0 = exactlyOnceFileSinkOperator<string>(dir);
    await sink0.open?.(context({ subtask: 0, attempt: 2, restored }).ctx, out);
    expect(visible()).toEqual([]);
    expect(hidden()).toEqual(['.part-1-1-5.pending']);
    const sink1 = exactlyOnceFileSinkOperator<string>(dir);
    await sink1.open?.(context({ subtask: 1, attempt: 2, restored }).ctx, out);
    expect(visible()).toEqual(['part-1-5']);
    expect(read('part-1-5')).toBe('from subtask 1\n');
  });

  it.each([[3, 2], [2, 3], [4, 1]])('rescaled from %i to %i subtasks: old subtask j\'s files go to new subtask j mod p; each pending file committed once, the rest deleted', async (from, to) => {
    mkdirSync(dir, { recursive: true });
    // Every old subtask sealed a pending file at checkpoint 5 and wrote on after it.
    const union: Lists = { 'file-sink-pending': [] };
    for (let j = 0; j < from; j++) {
      const sink = exactlyOnceFileSinkOperator<string>(dir);
      const c = context({ subtask: j, parallelism: from, attempt: 0 });
      await sink.open?.(c.ctx, out);
      sink.processElement(`before ${j}`, out);
      sink.snapshotState?.(5);
      union['file-sink-pending'].push(...c.checkpointState()['file-sink-pending']);
      for (let i = 0; i < 4096; i++) sink.processElement(`after ${j}`, out); // an in-progress file the restore must drop
    }
    expect(hidden()).toHaveLength(2 * from);
    for (let s = 0; s < to; s++) {
      const sink = exactlyOnceFileSinkOperator<string>(dir);
      await sink.open?.(context({ subtask: s, parallelism: to, attempt: 0, restored: union }).ctx, out);
    }
    expect(visible()).toEqual(Array.from({ length: from }, (_, j) => `part-${j}-5`).sort());
    for (let j = 0; j < from; j++) expect(read(`part-${j}-5`)).toBe(`before ${j}\n`);
    expect(hidden()).toEqual([]);
  });

  it('a restore fails loudly when a pending file and its committed file are both missing', async () => {
    mkdirSync(dir, { recursive: true });
    const restored = { 'file-sink-pending': [{ checkpointId: 4, pending: '.part-0-1-4.pending', final: 'part-0-4' }] };
    const sink = exactlyOnceFileSinkOperator<string>(dir);
    expect(() => sink.open?.(context({ attempt: 2, restored }).ctx, out)).toThrow(
      `file sink: pending file ${path.join(dir, '.part-0-1-4.pending')} of checkpoint 4 is missing`,
    );
  });

  it('never replaces a committed file: a second commit with the same checkpoint id fails and the first output stays (finding 1)', async () => {
    // Attempt 1 commits checkpoint 5; a JobManager that reused id 5 would make attempt 2 commit part-0-5 again.
    const first = exactlyOnceFileSinkOperator<string>(dir);
    await first.open?.(context({ attempt: 1 }).ctx, out);
    first.processElement('committed first', out);
    first.snapshotState?.(5);
    await first.notifyCheckpointComplete?.(5);
    expect(read('part-0-5')).toBe('committed first\n');
    const second = exactlyOnceFileSinkOperator<string>(dir);
    await second.open?.(context({ attempt: 2 }).ctx, out);
    second.processElement('would replace it', out);
    second.snapshotState?.(5);
    expect(() => second.notifyCheckpointComplete?.(5)).toThrow(`file sink: ${path.join(dir, 'part-0-5')} already exists and was not written by checkpoint 5; refusing to replace committed output`);
    expect(read('part-0-5')).toBe('committed first\n');
  });

  it('committing the same checkpoint twice is a no-op, also after a crash between the two steps of a commit', async () => {
    const sink = exactlyOnceFileSinkOperator<string>(dir);
    const a1 = context({ attempt: 1 });
    await sink.open?.(a1.ctx, out);
    sink.processElement('x', out);
    sink.snapshotState?.(1);
    const checkpoint1 = a1.checkpointState();
    // The process died after link() and before unlink(): both names of one file exist.
    linkSync(path.join(dir, '.part-0-1-1.pending'), path.join(dir, 'part-0-1'));
    const restored = exactlyOnceFileSinkOperator<string>(dir);
    await restored.open?.(context({ attempt: 2, restored: checkpoint1 }).ctx, out);
    expect(visible()).toEqual(['part-0-1']);
    expect(hidden()).toEqual([]);
    await restored.notifyCheckpointComplete?.(1);
    const again = exactlyOnceFileSinkOperator<string>(dir);
    await again.open?.(context({ attempt: 3, restored: checkpoint1 }).ctx, out);
    expect(visible()).toEqual(['part-0-1']);
    expect(read('part-0-1')).toBe('x\n');
  });

  it('without checkpointing, the end of input commits everything', async () => {
    const sink = exactlyOnceFileSinkOperator<number>(dir);
    await sink.open?.(context({ config: {} }).ctx, out);
    sink.processElement(1, out);
    sink.processElement(2, out);
    expect(visible()).toEqual([]);
    await sink.finish?.(out);
    expect(visible()).toEqual(['part-0-end-1']);
    expect(read('part-0-end-1')).toBe('1\n2\n');
    expect(hidden()).toEqual([]);
  });

  it('with checkpointing, the end of input leaves uncommitted records to the final checkpoint', async () => {
    const sink = exactlyOnceFileSinkOperator<number>(dir);
    await sink.open?.(context().ctx, out);
    sink.processElement(1, out);
    await sink.finish?.(out);
    expect(visible()).toEqual([]);
    sink.snapshotState?.(7);
    await sink.notifyCheckpointComplete?.(7);
    expect(visible()).toEqual(['part-0-7']);
  });
});
