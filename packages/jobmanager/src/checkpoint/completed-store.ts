import { CheckpointError, faultPoint, jobCheckpointDirectory, type StateHandle } from '@weir/core';
import {
  checkpointDirectory, checkStateFile, decodeMetadata, discardStateFile, encodeMetadata, joinLocation, METADATA_FILE, normalizeLocation,
  removeCheckpointDirectory, sharedDirectory, sharedFileCheckpoint, storageFor, sweepSharedFiles, type CheckpointStorage, type SnapshotMetadata,
  type SnapshotVertex,
} from '@weir/runtime';

/** What `_metadata` holds: enough to redeploy every task with its state (snapshot-format.ts). */
export type CompletedCheckpoint = SnapshotMetadata;

/** A checkpoint directory whose `_metadata` exists but cannot be used. */
export interface DamagedCheckpoint {
  id: number;
  path: string;
  reason: string;
}

export { METADATA_FILE };

const CHECKPOINT_DIR = /^chk-(\d+)$/;

/**
 * Completed checkpoints of one job in checkpoint storage (a filesystem or an object
 * store, through the storage seam), keeping `num-retained` of them.
 */
export class CompletedCheckpointStore {
  /** Ascending by id. */
  private readonly completed: CompletedCheckpoint[] = [];
  /** Found at recovery; a damaged newest checkpoint fails the job instead of a silent fallback. */
  damaged: DamagedCheckpoint[] = [];
  /** The highest checkpoint id any directory in storage carries. */
  highestIdOnDisk = 0;
  /** The job's vertices, written into every `_metadata` so state can be matched by uid. */
  vertices?: SnapshotVertex[];
  /** Write requests and bytes of the last `_metadata` (the coordinator adds them to the tasks'). */
  lastCommitCost = { puts: 0, bytes: 0 };
  private readonly storage: CheckpointStorage;

  constructor(
    private readonly root: string,
    readonly jobId: string,
    private readonly retained: number,
  ) {
    this.storage = storageFor(root);
  }

  /** Where every state file of this job is written (a savepoint moves them out of it). */
  get jobDirectory(): string {
    return jobCheckpointDirectory(this.root, this.jobId);
  }

  /**
   * Writes `_metadata` last and atomically: a checkpoint without it never happened. A
   * failed write (a full disk, an unreachable store) removes the checkpoint's directory
   * with its state files.
   */
  async add(checkpoint: Omit<CompletedCheckpoint, 'path' | 'jobId' | 'vertices'>): Promise<CompletedCheckpoint> {
    if (this.completed.some((c) => c.id === checkpoint.id)) throw new CheckpointError(`checkpoint ${checkpoint.id} of job ${this.jobId} is already complete`);
    const dir = checkpointDirectory(this.root, this.jobId, checkpoint.id);
    const full: CompletedCheckpoint = { kind: 'CHECKPOINT', vertices: this.vertices, ...checkpoint, jobId: this.jobId, path: dir };
    const text = encodeMetadata(full);
    try {
      // On a filesystem a job without state still gets its checkpoint directory (commit makes it).
      await this.storage.commit(joinLocation(dir, METADATA_FILE), text, () => faultPoint('jm.metadata.written'));
    } catch (err) {
      await removeCheckpointDirectory(this.root, this.jobId, checkpoint.id).catch(() => {});
      throw err;
    }
    this.lastCommitCost = { puts: 1, bytes: Buffer.byteLength(text) };
    await faultPoint('jm.metadata.renamed');
    const at = this.completed.findIndex((c) => c.id > full.id);
    this.completed.splice(at < 0 ? this.completed.length : at, 0, full);
    // Retention drops the oldest, never the checkpoint that just completed.
    while (this.completed.length > this.retained) {
      const oldest = this.completed[0] === full ? this.completed.splice(1, 1)[0] : this.completed.shift();
      if (oldest) await removeCheckpointDirectory(this.root, this.jobId, oldest.id);
    }
    await this.releaseSharedFiles(full.id);
    await faultPoint('jm.store.updated');
    return full;
  }

  /**
   * Shared files of incremental checkpoints are counted by reference from the retained
   * checkpoints' metadata: a file none of them names is removed, whether a dropped
   * checkpoint used it or a checkpoint that never completed wrote it.
   */
  private async releaseSharedFiles(upTo: number): Promise<void> {
    const referenced = new Set<string>();
    for (const c of this.completed) for (const list of Object.values(c.handles)) for (const h of list) if (h.path) referenced.add(normalizeLocation(h.path));
    await sweepSharedFiles(this.root, this.jobId, referenced, upTo).catch(() => {});
  }

  latest(): CompletedCheckpoint | undefined {
    return this.completed[this.completed.length - 1];
  }

  all(): readonly CompletedCheckpoint[] {
    return this.completed;
  }

  /**
   * After a JobManager restart: the retained checkpoints are the newest whose `_metadata`
   * reads; directories without `_metadata` (a checkpoint that never completed, a failed
   * metadata write), beyond retention, or with leftover temp files are swept. A damaged
   * `_metadata` is kept and reported, never skipped silently.
   */
  async recover(): Promise<void> {
    let names: string[];
    try {
      names = await this.storage.list(this.jobDirectory);
    } catch {
      return;
    }
    const ids = names.map((n) => CHECKPOINT_DIR.exec(n)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
    this.highestIdOnDisk = Math.max(0, ...ids);
    const incomplete: number[] = [];
    for (const id of ids) {
      const dir = checkpointDirectory(this.root, this.jobId, id);
      try {
        this.completed.push(await readMetadata(dir));
      } catch (err) {
        if ((err as CheckpointError & { missing?: boolean }).missing) incomplete.push(id);
        else this.damaged.push({ id, path: joinLocation(dir, METADATA_FILE), reason: (err as Error).message });
      }
    }
    while (this.completed.length > this.retained) incomplete.push((this.completed.shift() as CompletedCheckpoint).id);
    for (const id of incomplete) await removeCheckpointDirectory(this.root, this.jobId, id);
    for (const c of this.completed) await this.removeTempFiles(c.path);
    // Shared files of incremental checkpoints that no retained checkpoint names (written by
    // checkpoints that never completed, or by dropped ones) go too; not while a damaged
    // checkpoint's metadata cannot say which files it needs.
    const newest = Math.max(this.highestIdOnDisk, ...this.completed.map((c) => c.id));
    if (this.damaged.length === 0 && newest > 0) await this.releaseSharedFiles(newest);
  }

  /** An aborted checkpoint's directory: whatever tasks wrote for it is garbage. */
  async discardAborted(checkpointId: number): Promise<void> {
    if (this.completed.some((c) => c.id === checkpointId)) return;
    await removeCheckpointDirectory(this.root, this.jobId, checkpointId).catch(() => {});
  }

  /**
   * State a task wrote for a checkpoint that no longer exists (a late acknowledgement):
   * its own files only, not the shared files of earlier checkpoints its chain names.
   */
  async discardHandles(handles: StateHandle[], checkpointId: number): Promise<void> {
    for (const h of handles) {
      const writer = sharedFileCheckpoint(h.path);
      if (writer === undefined || writer === checkpointId) await discardStateFile(h, this.jobDirectory);
    }
  }

  /** Every retained checkpoint and the job's checkpoint directory when nothing else is in it. */
  async discardAll(): Promise<void> {
    for (const c of this.completed.splice(0)) await removeCheckpointDirectory(this.root, this.jobId, c.id);
    await this.storage.deleteDirectory(sharedDirectory(this.root, this.jobId)).catch(() => {});
    await this.storage.deleteIfEmpty(this.jobDirectory).catch(() => {});
  }

  /** Retained checkpoints whose every state file is present and matches its checksum. */
  async wholeCheckpoints(): Promise<CompletedCheckpoint[]> {
    const whole: CompletedCheckpoint[] = [];
    for (const c of this.completed) {
      const problems = await Promise.all(Object.values(c.handles).flat().map((h) => checkStateFile(h, this.jobDirectory)));
      if (problems.every((p) => p === undefined)) whole.push(c);
    }
    return whole;
  }

  private async removeTempFiles(dir: string): Promise<void> {
    const names = await this.storage.list(dir).catch(() => [] as string[]);
    for (const n of names) if (n.startsWith(`${METADATA_FILE}.tmp-`)) await this.storage.delete(joinLocation(dir, n)).catch(() => {});
  }
}

/** `_metadata` is JSON: inline state goes in as base64 (snapshot-format.ts). */
export function encodeCheckpointMetadata(checkpoint: CompletedCheckpoint): string {
  return encodeMetadata(checkpoint);
}

export async function readMetadata(checkpointDir: string): Promise<CompletedCheckpoint> {
  const file = joinLocation(checkpointDir, METADATA_FILE);
  let text: string;
  try {
    text = (await storageFor(file).read(file)).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = err instanceof CheckpointError ? err.message : (code ?? String(err));
    const e = new CheckpointError(`checkpoint ${checkpointDir} has no readable ${METADATA_FILE}: ${reason}`, { cause: err });
    if (code === 'ENOENT' || (err as { missing?: boolean }).missing) Object.assign(e, { missing: true });
    throw e;
  }
  return decodeMetadata(text, checkpointDir, file);
}
