import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, jobCheckpointDirectory, type StateHandle } from '@weir/core';
import {
  checkpointDirectory, decodeMetadata, discardStateFile, encodeMetadata, METADATA_FILE, removeCheckpointDirectory, writeFileDurably,
  type SnapshotMetadata, type SnapshotVertex,
} from '@weir/runtime';

/** What `_metadata` holds: enough to redeploy every task with its state (snapshot-format.ts). */
export type CompletedCheckpoint = SnapshotMetadata;

export { METADATA_FILE };

/** Completed checkpoints of one job on the filesystem, keeping `num-retained` of them. */
export class CompletedCheckpointStore {
  private readonly completed: CompletedCheckpoint[] = [];
  /** The job's vertices, written into every `_metadata` so state can be matched by uid. */
  vertices?: SnapshotVertex[];

  /** Where every state file of this job is written (a savepoint moves them out of it). */
  get jobDirectory(): string {
    return jobCheckpointDirectory(this.root, this.jobId);
  }

  constructor(
    private readonly root: string,
    readonly jobId: string,
    private readonly retained: number,
  ) {}

  /** Writes `_metadata` last and atomically: a checkpoint without it never happened. */
  async add(checkpoint: Omit<CompletedCheckpoint, 'path' | 'jobId'>): Promise<CompletedCheckpoint> {
    const dir = checkpointDirectory(this.root, this.jobId, checkpoint.id);
    const full: CompletedCheckpoint = { kind: 'CHECKPOINT', vertices: this.vertices, ...checkpoint, jobId: this.jobId, path: dir };
    await mkdir(dir, { recursive: true }); // a job without state still gets its checkpoint directory
    await writeFileDurably(path.join(dir, METADATA_FILE), encodeMetadata(full));
    this.completed.push(full);
    while (this.completed.length > this.retained) {
      const old = this.completed.shift() as CompletedCheckpoint;
      await removeCheckpointDirectory(this.root, this.jobId, old.id);
    }
    return full;
  }

  latest(): CompletedCheckpoint | undefined {
    return this.completed[this.completed.length - 1];
  }

  all(): readonly CompletedCheckpoint[] {
    return this.completed;
  }

  /** After a JobManager restart: the newest readable `_metadata` of the job. */
  async recover(): Promise<void> {
    const jobDir = path.join(this.root, this.jobId);
    let names: string[];
    try {
      names = await readdir(jobDir);
    } catch {
      return;
    }
    const ids = names.map((n) => /^chk-(\d+)$/.exec(n)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
    for (const id of ids) {
      try {
        this.completed.push(await readMetadata(path.join(jobDir, `chk-${id}`)));
      } catch {
        // an incomplete checkpoint (no _metadata) is not a checkpoint
      }
    }
    while (this.completed.length > this.retained) this.completed.shift();
  }

  /** An aborted checkpoint's directory: whatever tasks wrote for it is garbage. */
  async discardAborted(checkpointId: number): Promise<void> {
    if (this.completed.some((c) => c.id === checkpointId)) return;
    await removeCheckpointDirectory(this.root, this.jobId, checkpointId).catch(() => {});
  }

  /** State a task wrote for a checkpoint that no longer exists (a late acknowledgement). */
  async discardHandles(handles: StateHandle[]): Promise<void> {
    for (const h of handles) await discardStateFile(h, jobCheckpointDirectory(this.root, this.jobId));
  }

  async discardAll(): Promise<void> {
    for (const c of this.completed.splice(0)) await removeCheckpointDirectory(this.root, this.jobId, c.id);
  }
}

export async function readMetadata(checkpointDir: string): Promise<CompletedCheckpoint> {
  const file = path.join(checkpointDir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CheckpointError(`checkpoint ${checkpointDir} has no readable ${METADATA_FILE}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return decodeMetadata(text, checkpointDir, file);
}
