/**
 * A state handle names a file; a peer that lies about it must not make us read or delete
 * anything outside the job's checkpoint directory. `..`, absolute paths elsewhere and
 * symbolic links that lead out are all refused.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';

/** The real path of `p`, following links as far as the path exists. */
function realPathSoFar(p: string): string {
  const missing: string[] = [];
  let current = path.resolve(p);
  for (let i = 0; i < 256; i++) {
    try {
      return path.join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) break;
      missing.push(path.basename(current));
      current = parent;
    }
  }
  return path.resolve(p);
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** True when `file` lies strictly under `dir`, both as written and after resolving links. */
export function isWithinDirectory(dir: string, file: string): boolean {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) return false;
  return inside(path.resolve(dir), path.resolve(file)) && inside(realPathSoFar(dir), realPathSoFar(file));
}

/** Where every state file of a job must be: `<state.checkpoints.dir>/<job-id>/`. */
export function jobCheckpointDirectory(root: string, jobId: string): string {
  return path.join(root, jobId);
}
