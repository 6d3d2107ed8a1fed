/**
 * Files of incremental checkpoints that later checkpoints reuse: a changelog chain (a
 * full materialisation and the deltas after it) lives in `<dir>/<job>/shared/`, not in
 * one checkpoint's directory, so that dropping a checkpoint does not drop what the next
 * one still needs. A file's name carries the checkpoint that created it: a file of a
 * checkpoint that never completed is known by its id and removed.
 */
import type { StateHandle } from '@weir/core';
import { baseName, isObjectStoreLocation, joinLocation, normalizeLocation, parentLocation, storageFor, storageSettings } from './storage/index';
import { parseS3Location, withoutEntropy } from './storage/s3-location';

export const SHARED_DIR = 'shared';

/**
 * On an object store, without the entropy marker (`s3.entropy.key`): the sweep finds these
 * files again by listing this prefix, which it could not do under random prefixes.
 */
export function sharedDirectory(root: string, jobId: string): string {
  const dir = joinLocation(root, jobId, SHARED_DIR);
  if (!isObjectStoreLocation(dir)) return dir;
  const { bucket, key } = parseS3Location(dir);
  return `s3://${bucket}/${withoutEntropy(key, storageSettings().s3.entropyKey)}`;
}

export function sharedFileName(vertexId: string, subtask: number, attempt: number, checkpointId: number, mode: 'full' | 'delta', part = 0): string {
  return `chk${checkpointId}-${vertexId}-${subtask}-${attempt}-${mode}${part ? `-${part}` : ''}.state`;
}

/**
 * Where a chain file goes in its chain, by its name wherever it lies (a savepoint keeps the
 * names): [checkpoint id, part], or undefined for a file that is not one. Compared as
 * numbers: by text, chk10's delta would sort before chk9's materialisation.
 */
export function chainFilePosition(file: string): [number, number] | undefined {
  const m = /^chk(\d+)-.*-(?:full|delta)(?:-(\d+))?\.state$/.exec(baseName(file));
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined;
}

/** The checkpoint that wrote a shared file, or undefined for a file that is not one. */
export function sharedFileCheckpoint(file: string): number | undefined {
  if (!file || baseName(parentLocation(file)) !== SHARED_DIR) return undefined;
  const m = /^chk(\d+)-/.exec(baseName(file));
  return m ? Number(m[1]) : undefined;
}

/** A handle that points into the shared directory (used by more than one checkpoint). */
export function isSharedHandle(handle: StateHandle): boolean {
  return sharedFileCheckpoint(handle.path) !== undefined;
}

/**
 * Removes shared files no retained checkpoint references, written for checkpoints up to
 * `upTo` (a newer file may belong to a checkpoint in progress). Returns what it removed.
 */
export async function sweepSharedFiles(root: string, jobId: string, referenced: ReadonlySet<string>, upTo: number): Promise<string[]> {
  const dir = sharedDirectory(root, jobId);
  const storage = storageFor(dir);
  let names: string[];
  try {
    names = await storage.list(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const file = joinLocation(dir, name);
    const id = sharedFileCheckpoint(file) ?? (/\.tmp-/.test(name) ? 0 : undefined);
    if (id === undefined || id > upTo || referenced.has(normalizeLocation(file))) continue;
    await storage.delete(file).catch(() => {});
    removed.push(file);
  }
  return removed;
}
