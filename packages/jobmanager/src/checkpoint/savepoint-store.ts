/**
 * Savepoints on disk. A savepoint is taken exactly like a checkpoint (the tasks write their
 * state files into the job's checkpoint directory); on completion its files move into a
 * directory of their own under the target directory, and `_metadata` is written there last.
 * The user owns it from then on: Weir's retention never sees it, only `--dispose` deletes it.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, isWithinDirectory, type StateHandle } from '@weir/core';
import { isSharedHandle, encodeMetadata, METADATA_FILE, readSnapshot, writeFileDurably, type SnapshotMetadata } from '@weir/runtime';

/** Moves a file; across filesystems (EXDEV) it copies, then removes the original. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    await unlink(from);
  }
}

/** Flink's naming: savepoint-<first 6 characters of the job id>-<random>. */
export function savepointDirectoryName(jobId: string): string {
  return `savepoint-${jobId.slice(0, 6)}-${randomBytes(6).toString('hex')}`;
}

/**
 * Turns the state files of a fully acknowledged savepoint into a self-contained savepoint
 * directory under `targetRoot`. A failure removes what was made and leaves the files for
 * the checkpoint directory's cleanup: no half savepoint is ever left with a `_metadata`.
 */
export async function writeSavepoint(snapshot: Omit<SnapshotMetadata, 'path' | 'kind'>, targetRoot: string, jobDir: string): Promise<SnapshotMetadata> {
  // Only the job's own state files are ever moved, whatever an acknowledgement names.
  const outside = Object.values(snapshot.handles).flat().find((h) => !isWithinDirectory(jobDir, h.path));
  if (outside) throw new CheckpointError(`state file ${outside.path} is outside the job's checkpoint directory ${jobDir}: not moved into a savepoint`);
  const dir = path.join(path.resolve(targetRoot), savepointDirectoryName(snapshot.jobId));
  try {
    await mkdir(dir, { recursive: true });
    const handles: Record<string, StateHandle[]> = {};
    const sources = new Set<string>();
    for (const [vertex, list] of Object.entries(snapshot.handles)) {
      handles[vertex] = [];
      for (const h of list) {
        const to = path.join(dir, path.basename(h.path));
        // A file of an incremental checkpoint's chain is still needed by the checkpoints after it: copied, not moved.
        if (isSharedHandle(h)) await copyFile(h.path, to);
        else await move(h.path, to);
        sources.add(path.dirname(h.path));
        handles[vertex].push({ ...h, path: to });
      }
    }
    const meta: SnapshotMetadata = { ...snapshot, kind: 'SAVEPOINT', handles, path: dir };
    await writeFileDurably(path.join(dir, METADATA_FILE), encodeMetadata(meta));
    // The checkpoint directory the tasks wrote into is empty now.
    for (const s of sources) await rmdir(s).catch(() => {});
    return meta;
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw new CheckpointError(`writing savepoint under ${targetRoot} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/**
 * `weir savepoint --dispose`: deletes a savepoint's metadata and state files, and its
 * directory when nothing else is in it. A retained checkpoint is refused: its job owns it.
 */
export async function disposeSavepoint(location: string): Promise<string> {
  const meta = await readSnapshot(location);
  if (meta.kind !== 'SAVEPOINT') {
    throw new CheckpointError(`${meta.path} is a checkpoint of job ${meta.jobId}, not a savepoint: Weir's retention owns checkpoints, --dispose deletes savepoints only`);
  }
  // Metadata first: once it is gone the directory is no longer a savepoint anyone could resume from.
  await unlink(path.join(meta.path, METADATA_FILE));
  for (const h of Object.values(meta.handles).flat()) {
    if (path.dirname(h.path) === meta.path) await rm(h.path, { force: true });
  }
  const left = await readdir(meta.path).catch(() => [] as string[]);
  if (left.length === 0) await rmdir(meta.path).catch(() => {});
  return meta.path;
}
