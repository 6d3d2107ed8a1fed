import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discardStateFile, readTaskState, writeTaskState } from './storage';

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
