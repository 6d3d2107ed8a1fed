import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWithinDirectory } from './state-paths';

describe('isWithinDirectory: a state handle may only name a file under its checkpoint directory', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weir-paths-'));
  const job = path.join(root, 'checkpoints', 'job1');
  const chk = path.join(job, 'chk-3');
  mkdirSync(chk, { recursive: true });
  writeFileSync(path.join(chk, 'v1-0.state'), 'x');
  const outside = path.join(root, 'outside.txt');
  writeFileSync(outside, 'x');
  symlinkSync(outside, path.join(chk, 'link-out.state'));
  symlinkSync(root, path.join(chk, 'dir-out'));
  symlinkSync(path.join(chk, 'v1-0.state'), path.join(chk, 'link-in.state'));

  it.each([
    ['a file in the directory', path.join(chk, 'v1-0.state'), true],
    ['a file not written yet', path.join(chk, 'v2-0.state'), true],
    ['a link that stays inside', path.join(chk, 'link-in.state'), true],
    ['the directory itself', chk, false],
    ['an absolute path elsewhere', outside, false],
    ['.. out of it', `${chk}/../../../outside.txt`, false],
    ['.. into a sibling checkpoint', `${chk}/../chk-2/v1-0.state`, false],
    ['a sibling whose name starts the same', `${chk}0/v1-0.state`, false],
    ['a link that leads out', path.join(chk, 'link-out.state'), false],
    ['a file below a linked directory that leads out', path.join(chk, 'dir-out', 'outside.txt'), false],
    ['a relative path', 'v1-0.state', false],
    ['a NUL byte', `${chk}/v1-0.state\0../../x`, false],
    ['an empty path', '', false],
  ])('%s', (_what, file, expected) => {
    expect(isWithinDirectory(chk, file)).toBe(expected);
  });
});
