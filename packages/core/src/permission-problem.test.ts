import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { permissionProblem } from './permission-problem';

const fsError = (code: string, message: string, syscall: string, path: string) => Object.assign(new Error(message), { code, syscall, path });
const uid = process.getuid?.() ?? -1;

describe('permissionProblem', () => {
  it('names the directory, the user and the fix of a refused write, as a config error', () => {
    const e = permissionProblem(fsError('EACCES', "EACCES: permission denied, open '/weir/output/.part-1-0-0.inprogress'", 'open', '/weir/output/.part-1-0-0.inprogress'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.kind).toBe('config');
    expect(e!.message).toBe(`directory /weir/output is not writable by uid ${uid} (EACCES: permission denied, open '/weir/output/.part-1-0-0.inprogress'): make it writable by uid ${uid} or write elsewhere`);
  });

  it('says read-only for EROFS', () => {
    expect(permissionProblem(fsError('EROFS', "EROFS: read-only file system, mkdir '/mnt/ro/x'", 'mkdir', '/mnt/ro/x'))!.message)
      .toBe("directory /mnt/ro is on a read-only file system (EROFS: read-only file system, mkdir '/mnt/ro/x'): mount it read-write or write elsewhere");
  });

  it('leaves every other error alone', () => {
    expect(permissionProblem(fsError('ENOENT', 'ENOENT: no such file', 'open', '/x/y'))).toBeUndefined();
    expect(permissionProblem(Object.assign(new Error('EACCES without a path'), { code: 'EACCES' }))).toBeUndefined();
    expect(permissionProblem(new Error('boom'))).toBeUndefined();
    expect(permissionProblem('a string')).toBeUndefined();
    expect(permissionProblem(undefined)).toBeUndefined();
  });
});
