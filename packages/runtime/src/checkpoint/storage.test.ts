import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobError, RecordSerializer, TypeRegistry } from '@weir/core';
import { discardStateFile, readTaskState, writeTaskState, type TaskStateSnapshot } from './storage';

describe('state files are read and deleted only under the job\'s checkpoint directory', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weir-storage-'));
  const jobDir = path.join(root, 'job1');
  const outside = path.join(root, 'precious.txt');
  writeFileSync(outside, 'keep');
  const handle = (p: string) => ({ operator_uid: '*', path: p, size: 4, checksum: 'x', key_group_start: 0, key_group_end: 0 });

  it('restores a file it wrote, and refuses the same handle pointed elsewhere', async () => {
    const written = await writeTaskState(root, 'job1', 1, { vertexId: 'v1', subtask: 0, keyGroupStart: 0, keyGroupEnd: 127, operators: {} });
    expect((await readTaskState(written, jobDir)).vertexId).toBe('v1');
    for (const p of [outside, `${jobDir}/chk-1/../../precious.txt`]) {
      await expect(readTaskState({ ...written, path: p }, jobDir)).rejects.toThrow(/outside the job's checkpoint directory/);
    }
  });

  it('deletes nothing outside: absolute paths, .., and links that lead out', async () => {
    mkdirSync(path.join(jobDir, 'chk-9'), { recursive: true });
    const link = path.join(jobDir, 'chk-9', 'link.state');
    symlinkSync(outside, link);
    for (const p of [outside, `${jobDir}/chk-9/../../precious.txt`, link]) expect(await discardStateFile(handle(p), jobDir)).toBe(false);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(root)).toBe(true);
  });
});

class Counter {
  constructor(public n: number) {}
  inc(): void {
    this.n++;
  }
}

function snapshotHolding(counter: Counter): TaskStateSnapshot {
  return {
    vertexId: 'v2',
    subtask: 0,
    keyGroupStart: 0,
    keyGroupEnd: 127,
    operators: { counter: { keyed: { range: { start: 0, end: 127 }, states: { 'counter/c': { kind: 'value', groups: [[7, [['s:k', counter]]]] } } } } },
  };
}

function valueIn(snapshot: TaskStateSnapshot): unknown {
  return snapshot.operators.counter.keyed?.states['counter/c'].groups[0][1][0][1];
}

describe('task state files', () => {
  const types = new TypeRegistry();
  types.register(Counter);
  const serializer = new RecordSerializer(types);

  it('hold a registered class instance as it was at the snapshot, even when a record changes it in place while the file is written', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-storage-'));
    const counter = new Counter(1);
    const writing = writeTaskState(root, 'job', 1, snapshotHolding(counter), serializer);
    counter.inc(); // the next record, processed while the file is written
    const handle = await writing;
    const restored = valueIn(await readTaskState(handle, path.join(root, 'job'), serializer)) as Counter;
    expect(restored).toBeInstanceOf(Counter);
    expect(restored.n).toBe(1);
    restored.inc();
    expect(restored.n).toBe(2);
  });

  it('are refused by a job that no longer registers the class, with the fix', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-storage-'));
    const handle = await writeTaskState(root, 'job', 1, snapshotHolding(new Counter(1)), serializer);
    const read = readTaskState(handle, path.join(root, 'job'), new RecordSerializer());
    await expect(read).rejects.toThrow(JobError);
    await expect(readTaskState(handle, path.join(root, 'job'), new RecordSerializer())).rejects.toThrow(
      'a value holds an instance of class Counter, which this job does not register: call env.registerType(Counter) in the job function',
    );
  });
});

describe('state file checksum', () => {
  it('is the same SHA-256 whether computed on the thread pool or in place', async () => {
    const { sha256, sha256OffThread } = await import('./storage');
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    expect(await sha256OffThread(data)).toBe(sha256(data));
    expect(await sha256OffThread(Buffer.alloc(0))).toBe(sha256(Buffer.alloc(0)));
  });
});
