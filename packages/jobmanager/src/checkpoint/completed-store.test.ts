import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { armFaultPoints } from '@weir/core';
import { CompletedCheckpointStore } from './completed-store';

const JOB = 'job-1';
let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'weir-store-'));
});
afterEach(() => {
  armFaultPoints('');
  rmSync(root, { recursive: true, force: true });
});

const checkpoint = (id: number) => ({ id, triggeredAt: id, completedAt: id, final: false, handles: {} });
const dirs = () => readdirSync(path.join(root, JOB)).sort();

describe('completed checkpoint store', () => {
  it('retention never deletes the checkpoint that just completed, and a repeated id is refused (finding 1)', async () => {
    const store = new CompletedCheckpointStore(root, JOB, 2);
    await store.add(checkpoint(5));
    await store.add(checkpoint(6));
    await expect(store.add(checkpoint(6))).rejects.toThrow('checkpoint 6 of job job-1 is already complete');
    expect(existsSync(path.join(root, JOB, 'chk-6', '_metadata'))).toBe(true);
    // A late completion of an older id keeps the newer one as the latest and itself retained.
    await store.add(checkpoint(4));
    expect(store.all().map((c) => c.id)).toEqual([4, 6]);
    expect(store.latest()?.id).toBe(6);
    expect(dirs()).toEqual(['chk-4', 'chk-6']);
  });

  it('a _metadata write that fails (ENOSPC) leaves neither the directory nor a temp file (finding 3)', async () => {
    const store = new CompletedCheckpointStore(root, JOB, 1);
    await store.add(checkpoint(1));
    // A task already wrote its state file into chk-2.
    mkdirSync(path.join(root, JOB, 'chk-2'));
    writeFileSync(path.join(root, JOB, 'chk-2', 'v1-0.state'), 'state');
    armFaultPoints('jm.metadata.written:fail-io');
    await expect(store.add(checkpoint(2))).rejects.toThrow(/ENOSPC/);
    expect(dirs()).toEqual(['chk-1']);
    expect(store.latest()?.id).toBe(1);
  });

  it('at start, sweeps directories no retained checkpoint references and leftover temp files; reports damaged metadata', async () => {
    const first = new CompletedCheckpointStore(root, JOB, 2);
    for (const id of [1, 2, 3]) await first.add(checkpoint(id));
    mkdirSync(path.join(root, JOB, 'chk-4')); // never completed
    writeFileSync(path.join(root, JOB, 'chk-3', '_metadata.tmp-1-2'), 'half');
    const second = new CompletedCheckpointStore(root, JOB, 2);
    await second.recover();
    expect(second.all().map((c) => c.id)).toEqual([2, 3]);
    expect(second.highestIdOnDisk).toBe(4);
    expect(dirs()).toEqual(['chk-2', 'chk-3']);
    expect(readdirSync(path.join(root, JOB, 'chk-3'))).toEqual(['_metadata']);

    mkdirSync(path.join(root, JOB, 'chk-5'));
    writeFileSync(path.join(root, JOB, 'chk-5', '_metadata'), '{"id": 5, "hand');
    const third = new CompletedCheckpointStore(root, JOB, 2);
    await third.recover();
    expect(third.latest()?.id).toBe(3);
    expect(third.damaged).toEqual([{ id: 5, path: path.join(root, JOB, 'chk-5', '_metadata'), reason: expect.stringContaining('is corrupt: it is not valid JSON') }]);
    expect(dirs()).toEqual(['chk-2', 'chk-3', 'chk-5']); // damaged evidence is kept
  });
});
