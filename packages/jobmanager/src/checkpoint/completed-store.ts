import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, jobCheckpointDirectory, type StateHandle } from '@weir/core';
import { checkpointDirectory, discardStateFile, removeCheckpointDirectory, sharedDirectory, sharedFileCheckpoint, sweepSharedFiles, writeFileDurably } from '@weir/runtime';

/** What `_metadata` holds: enough to redeploy every task with its state. */
export interface CompletedCheckpoint {
  jobId: string;
  id: number;
  triggeredAt: number;
  completedAt: number;
  final: boolean;
  /** vertexId -> state handles of all its subtasks */
  handles: Record<string, StateHandle[]>;
  path: string;
}

export const METADATA_FILE = '_metadata';

/** Completed checkpoints of one job on the filesystem, keeping `num-retained` of them. */
export class CompletedCheckpointStore {
  private readonly completed: CompletedCheckpoint[] = [];

  constructor(
    private readonly root: string,
    private readonly jobId: string,
    private readonly retained: number,
  ) {}

  /** Writes `_metadata` last and atomically: a checkpoint without it never happened. */
  async add(checkpoint: Omit<CompletedCheckpoint, 'path' | 'jobId'>): Promise<CompletedCheckpoint> {
    const dir = checkpointDirectory(this.root, this.jobId, checkpoint.id);
    const full: CompletedCheckpoint = { ...checkpoint, jobId: this.jobId, path: dir };
    await mkdir(dir, { recursive: true }); // a job without state still gets its checkpoint directory
    await writeFileDurably(path.join(dir, METADATA_FILE), JSON.stringify(full, null, 1));
    this.completed.push(full);
    while (this.completed.length > this.retained) {
      const old = this.completed.shift() as CompletedCheckpoint;
      await removeCheckpointDirectory(this.root, this.jobId, old.id);
    }
    await this.releaseSharedFiles(full.id);
    return full;
  }

  /**
   * Shared files of incremental checkpoints are counted by reference from the retained
   * checkpoints' metadata: a file none of them names is removed, whether a dropped
   * checkpoint used it or a checkpoint that never completed wrote it.
   */
  private async releaseSharedFiles(upTo: number): Promise<void> {
    const referenced = new Set<string>();
    for (const c of this.completed) for (const list of Object.values(c.handles)) for (const h of list) referenced.add(path.resolve(h.path));
    await sweepSharedFiles(this.root, this.jobId, referenced, upTo).catch(() => {});
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
    const latest = this.latest();
    if (latest) await this.releaseSharedFiles(latest.id);
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
      if (writer === undefined || writer === checkpointId) await discardStateFile(h, jobCheckpointDirectory(this.root, this.jobId));
    }
  }

  async discardAll(): Promise<void> {
    for (const c of this.completed.splice(0)) await removeCheckpointDirectory(this.root, this.jobId, c.id);
    await rm(sharedDirectory(this.root, this.jobId), { recursive: true, force: true }).catch(() => {});
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
  try {
    return JSON.parse(text) as CompletedCheckpoint;
  } catch {
    throw new CheckpointError(`checkpoint metadata ${file} is corrupt`);
  }
}
