import path from 'node:path';
import { ConfigError } from './errors';

/** Error codes of a file system that refuses a write: no restart changes them. */
const REFUSED = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * A write that the file system refused (permissions, a read-only mount) is a
 * configuration problem: a restart would fail the same way, forever. This names the
 * directory, the user and the fix in one line; undefined for any other error.
 */
export function permissionProblem(err: unknown): ConfigError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== 'object' || !REFUSED.has(e.code ?? '') || typeof e.path !== 'string') return undefined;
  const dir = path.dirname(e.path);
  const uid = process.getuid?.() ?? -1;
  const what = e.code === 'EROFS' ? `is on a read-only file system` : `is not writable by uid ${uid}`;
  const fix = e.code === 'EROFS' ? 'mount it read-write or write elsewhere' : `make it writable by uid ${uid} or write elsewhere`;
  return new ConfigError(`directory ${dir} ${what} (${e.message}): ${fix}`, { cause: err });
}
