import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot } from '@weir/runtime';
import { disposeSavepoint, writeSavepoint } from './savepoint-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'weir-savepoint-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('savepoint store (through the storage seam)', () => {
  it('moves state files, keeps inline state in _metadata, and disposes of both', async () => {
    const jobDir = path.join(dir, 'checkpoints', 'job1');
    const chk = path.join(jobDir, 'chk-3');
    mkdirSync(chk, { recursive: true });
    writeFileSync(path.join(chk, 'v1-0.state'), 'abc');
    const inline = Buffer.from('xy');
    const { metadata: meta, cost } = await writeSavepoint({
      jobId: 'job1', id: 3, triggeredAt: 1, completedAt: 2, final: false,
      handles: {
        v1: [{ operator_uid: '*', path: path.join(chk, 'v1-0.state'), size: 3, checksum: 'c', key_group_start: 0, key_group_end: 63 }],
        v2: [{ operator_uid: '*', path: '', size: 2, checksum: 'd', key_group_start: 0, key_group_end: -1, inline_data: inline }],
      },
    }, path.join(dir, 'savepoints'), jobDir);
    expect(existsSync(chk)).toBe(false); // emptied, then removed
    // A rename costs no write request; the metadata is one PUT of its own bytes.
    expect(cost).toEqual({ puts: 1, bytes: readFileSync(path.join(meta.path, '_metadata')).length });
    expect(readdirSync(meta.path).sort()).toEqual(['_metadata', 'v1-0.state']);
    const read = await readSnapshot(meta.path);
    expect(read.kind).toBe('SAVEPOINT');
    expect(read.handles.v1[0].path).toBe(path.join(meta.path, 'v1-0.state'));
    expect(read.handles.v2[0].path).toBe('');
    expect(Buffer.from(read.handles.v2[0].inline_data as Buffer)).toEqual(inline);
    expect(await disposeSavepoint(meta.path)).toBe(meta.path);
    expect(existsSync(meta.path)).toBe(false);
  });

  it('refuses a state file outside the job directory', async () => {
    await expect(writeSavepoint({
      jobId: 'job1', id: 3, triggeredAt: 1, completedAt: 2, final: false,
      handles: { v1: [{ operator_uid: '*', path: '/etc/passwd', size: 3, checksum: 'c', key_group_start: 0, key_group_end: 63 }] },
    }, path.join(dir, 'savepoints'), path.join(dir, 'checkpoints', 'job1'))).rejects.toThrow('is outside the job\'s checkpoint directory');
  });
});
