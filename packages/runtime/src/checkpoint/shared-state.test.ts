import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDirectory, sharedFileCheckpoint, sharedFileName, sweepSharedFiles } from './shared-state';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-shared-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('shared state files', () => {
  it('name the checkpoint that wrote them', () => {
    const f = path.join(sharedDirectory(root, 'job'), sharedFileName('v2', 1, 3, 42, 'delta'));
    expect(sharedFileCheckpoint(f)).toBe(42);
    expect(sharedFileCheckpoint(path.join(root, 'job', 'chk-42', 'v2-1.state'))).toBeUndefined();
  });

  it('a sweep removes what no retained checkpoint names, up to the given checkpoint, and leaves newer files (in progress) alone', async () => {
    const dir = sharedDirectory(root, 'job');
    mkdirSync(dir, { recursive: true });
    const names = [sharedFileName('v2', 0, 0, 5, 'full'), sharedFileName('v2', 0, 0, 6, 'delta'), sharedFileName('v2', 0, 0, 7, 'delta'), sharedFileName('v2', 0, 0, 9, 'delta')];
    for (const n of names) writeFileSync(path.join(dir, n), 'x');
    writeFileSync(path.join(dir, `${names[2]}.tmp-1-2`), 'half written'); // a writer died
    const referenced = new Set([path.join(dir, names[0]), path.join(dir, names[1])]);
    const removed = await sweepSharedFiles(root, 'job', referenced, 8);
    expect(removed.map((f) => path.basename(f)).sort()).toEqual([names[2], `${names[2]}.tmp-1-2`].sort());
    expect(readdirSync(dir).sort()).toEqual([names[0], names[1], names[3]].sort());
  });
});
