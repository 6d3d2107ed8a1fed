import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobError, RecordSerializer, TypeRegistry } from '@weir/core';
import { configureCheckpointStorage, discardStateFile, readTaskState, storageSettings, writeTaskState, type TaskStateSnapshot } from './storage';
import { isWithinJobDirectory } from './storage/confinement';

describe('state files are read and deleted only under the job\'s checkpoint directory', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weir-storage-'));
  const jobDir = path.join(root, 'job1');
  const outside = path.join(root, 'precious.txt');
  writeFileSync(outside, 'keep');
  const handle = (p: string) => ({ operator_uid: '*', path: p, size: 4, checksum: 'x', key_group_start: 0, key_group_end: 0 });

  it('restores a file it wrote, and refuses the same handle pointed elsewhere', async () => {
    configureCheckpointStorage({ ...storageSettings(), memoryThreshold: 0 }); // a file, not inline state
    const { handle: written } = await writeTaskState(root, 'job1', 1, { vertexId: 'v1', subtask: 0, keyGroupStart: 0, keyGroupEnd: 127, operators: {} });
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

describe('s3:// state handles are confined to the job\'s prefix', () => {
  const jobDir = 's3://bucket/checkpoints/job1';

  it('takes keys under the prefix, refuses other buckets, sibling prefixes, dot segments and plain paths', () => {
    expect(isWithinJobDirectory(jobDir, 's3://bucket/checkpoints/job1/chk-1/v1-0.state')).toBe(true);
    expect(isWithinJobDirectory(jobDir, 's3a://bucket/checkpoints/job1/chk-1/v1-0.state')).toBe(true);
    for (const p of [
      's3://other/checkpoints/job1/chk-1/v1-0.state', 's3://bucket/checkpoints/job10/chk-1/v1-0.state', 's3://bucket/checkpoints/job1',
      's3://bucket/checkpoints/job1/../job2/chk-1/v1-0.state', 's3://bucket/checkpoints/job1/./x', '/tmp/checkpoints/job1/chk-1/v1-0.state', '',
    ]) expect(isWithinJobDirectory(jobDir, p), p).toBe(false);
  });

  it('with entropy injection, random characters in the marker\'s place and nothing else', () => {
    configureCheckpointStorage({ ...storageSettings(), s3: { ...storageSettings().s3, entropyKey: '_entropy_', entropyLength: 4 } });
    const dir = 's3://bucket/_entropy_/checkpoints/job1';
    expect(isWithinJobDirectory(dir, 's3://bucket/ab12/checkpoints/job1/chk-1/v1-0.state')).toBe(true);
    expect(isWithinJobDirectory(dir, 's3://bucket/checkpoints/job1/chk-1/_metadata')).toBe(true);
    expect(isWithinJobDirectory(dir, 's3://bucket/ab123/checkpoints/job1/chk-1/v1-0.state')).toBe(false);
    expect(isWithinJobDirectory(dir, 's3://bucket/ab12/checkpoints/job2/chk-1/v1-0.state')).toBe(false);
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
    const { handle } = await writing;
    const restored = valueIn(await readTaskState(handle, path.join(root, 'job'), serializer)) as Counter;
    expect(restored).toBeInstanceOf(Counter);
    expect(restored.n).toBe(1);
    restored.inc();
    expect(restored.n).toBe(2);
  });

  it('are refused by a job that no longer registers the class, with the fix', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-storage-'));
    const { handle } = await writeTaskState(root, 'job', 1, snapshotHolding(new Counter(1)), serializer);
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
