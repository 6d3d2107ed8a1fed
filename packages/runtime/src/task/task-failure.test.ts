import { ConfigError } from '@weir/core';
import { describe, expect, it } from 'vitest';
import { taskFailure } from './task-failure';

describe('taskFailure', () => {
  it('a config error is one line and not recoverable', () => {
    expect(taskFailure(new ConfigError('bad setting'))).toEqual({ message: 'bad setting', kind: 'config' });
  });

  it('a refused write is a config error', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/out/f'"), { code: 'EACCES', syscall: 'open', path: '/out/f' });
    const f = taskFailure(err);
    expect(f.kind).toBe('config');
    expect(f.message).toMatch(/^directory \/out is not writable by uid \d+ \(EACCES: permission denied, open '\/out\/f'\): make it writable by uid \d+ or write elsewhere$/);
  });

  it('anything else goes to the restart strategy with its stack frames', () => {
    const f = taskFailure(new Error('boom'));
    expect(f.kind).toBe('');
    expect(f.message).toMatch(/^boom\n\s+at /);
  });
});
