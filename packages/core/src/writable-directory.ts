import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors';
import { permissionProblem } from './permission-problem';

/**
 * Makes sure a directory the process will write to exists and takes a file, at start, so
 * that a permission problem is one line naming the setting, not a failure per checkpoint.
 */
export function assertWritableDirectory(dir: string, setting: string): void {
  const probe = path.join(dir, `.weir-write-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const problem = permissionProblem(err);
    throw new ConfigError(`${setting}: ${problem ? problem.message : `cannot write to ${dir}: ${(err as Error).message}`}`, { cause: err });
  }
}
