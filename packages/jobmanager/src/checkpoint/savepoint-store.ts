/**
 * Savepoints on disk. A savepoint is taken exactly like a checkpoint (the tasks write their
 * state files into the job's checkpoint directory); on completion its files move into a
 * directory of their own under the target directory, and `_metadata` is written there last.
 * The user owns it from then on: Weir's retention never sees it, only `--dispose` deletes it.
 */
import { randomBytes } from 'node:crypto';
import { CheckpointError, type StateHandle } from '@weir/core';
import {
  baseName, encodeMetadata, isSharedHandle, isWithinJobDirectory, joinLocation, METADATA_FILE, normalizeLocation, parentLocation, readSnapshot, storageFor,
  type SnapshotMetadata,
} from '@weir/runtime';

/** Flink's naming: savepoint-<first 6 characters of the job id>-<random>. */
export function savepointDirectoryName(jobId: string): string {
  return `savepoint-${jobId.slice(0, 6)}-${randomBytes(6).toString('hex')}`;
}

/**
 * Turns the state files of a fully acknowledged savepoint into a self-contained savepoint
 * directory under `targetRoot`. A failure removes what was made and leaves the files for
 * the checkpoint directory's cleanup: no half savepoint is ever left with a `_metadata`.
 */
export async function writeSavepoint(
  snapshot: Omit<SnapshotMetadata, 'path' | 'kind'>, targetRoot: string, jobDir: string,
): Promise<{ metadata: SnapshotMetadata; cost: { puts: number; bytes: number } }> {
  // Only the job's own state files are ever moved, whatever an acknowledgement names.
  // Inline state (no path) stays in `_metadata`: there is no file to move.
  const outside = Object.values(snapshot.handles).flat().find((h) => h.path && !isWithinJobDirectory(jobDir, h.path));
  if (outside) throw new CheckpointError(`state file ${outside.path} is outside the job's checkpoint directory ${jobDir}: not moved into a savepoint`);
  const dir = joinLocation(normalizeLocation(targetRoot), savepointDirectoryName(snapshot.jobId));
  const storage = storageFor(dir);
  try {
    const handles: Record<string, StateHandle[]> = {};
    const sources = new Set<string>();
    // A merged file holds several handles' state: it moves once.
    const moved = new Map<string, string>();
    // The moves' write requests (S3 copies) and the metadata's PUT: the savepoint's share of its cost.
    const cost = { puts: 0, bytes: 0 };
    for (const [vertex, list] of Object.entries(snapshot.handles)) {
      handles[vertex] = [];
      for (const h of list) {
        if (!h.path) {
          handles[vertex].push(h);
          continue;
        }
        let to = moved.get(h.path);
        if (!to) {
          to = joinLocation(dir, baseName(h.path));
          // A file of an incremental checkpoint's chain is still needed by the checkpoints after it: copied, not moved.
          if (isSharedHandle(h)) {
            cost.puts += await storageFor(h.path).copy(h.path, to);
          } else {
            cost.puts += await storageFor(h.path).move(h.path, to);
            sources.add(parentLocation(h.path));
          }
          moved.set(h.path, to);
        }
        handles[vertex].push({ ...h, path: to });
      }
    }
    const meta: SnapshotMetadata = { ...snapshot, kind: 'SAVEPOINT', handles, path: dir };
    const text = encodeMetadata(meta);
    await storage.commit(joinLocation(dir, METADATA_FILE), text);
    cost.puts += 1;
    cost.bytes += Buffer.byteLength(text);
    // The checkpoint directory the tasks wrote into is empty now.
    for (const s of sources) await storageFor(s).deleteIfEmpty(s).catch(() => {});
    return { metadata: meta, cost };
  } catch (err) {
    await storage.deleteDirectory(dir).catch(() => {});
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
  const storage = storageFor(meta.path);
  await storage.delete(joinLocation(meta.path, METADATA_FILE));
  const files = new Set(Object.values(meta.handles).flat().map((h) => h.path).filter((p) => p && parentLocation(p) === meta.path));
  for (const file of files) await storage.delete(file);
  await storage.deleteIfEmpty(meta.path).catch(() => {});
  return meta.path;
}
