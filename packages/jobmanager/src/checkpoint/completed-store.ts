import { CheckpointError, jobCheckpointDirectory, type StateHandle } from '@weir/core';
import {
  checkpointDirectory, discardStateFile, joinLocation, removeCheckpointDirectory, storageFor, type CheckpointStorage,
} from '@weir/runtime';

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

/** Completed checkpoints of one job in checkpoint storage, keeping `num-retained` of them. */
export class CompletedCheckpointStore {
  private readonly completed: CompletedCheckpoint[] = [];
  private readonly storage: CheckpointStorage;
  /** Write requests and bytes of the last `_metadata` (the coordinator adds them to the tasks'). */
  lastCommitCost = { puts: 0, bytes: 0 };

  constructor(
    private readonly root: string,
    private readonly jobId: string,
    private readonly retained: number,
  ) {
    this.storage = storageFor(root);
  }

  /** Writes `_metadata` last and atomically: a checkpoint without it never happened. */
  async add(checkpoint: Omit<CompletedCheckpoint, 'path' | 'jobId'>): Promise<CompletedCheckpoint> {
    const dir = checkpointDirectory(this.root, this.jobId, checkpoint.id);
    const full: CompletedCheckpoint = { ...checkpoint, jobId: this.jobId, path: dir };
    const text = encodeCheckpointMetadata(full);
    await this.storage.commit(joinLocation(dir, METADATA_FILE), text);
    this.lastCommitCost = { puts: 1, bytes: Buffer.byteLength(text) };
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
    const names = await this.storage.list(joinLocation(this.root, this.jobId)).catch(() => [] as string[]);
    const ids = names.map((n) => /^chk-(\d+)$/.exec(n)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
    for (const id of ids) {
      try {
        this.completed.push(await readMetadata(checkpointDirectory(this.root, this.jobId, id)));
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

/** `_metadata` is JSON: inline state goes in as base64. */
export function encodeCheckpointMetadata(checkpoint: CompletedCheckpoint): string {
  return JSON.stringify(checkpoint, (key, value) => (key === 'inline_data' && value ? inlineBytes(value).toString('base64') : value), 1);
}

/** JSON.stringify has already turned a Buffer into `{type: 'Buffer', data}` when a replacer sees it. */
function inlineBytes(value: Uint8Array | { type: 'Buffer'; data: number[] }): Buffer {
  return value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(value.data);
}

export async function readMetadata(checkpointDir: string): Promise<CompletedCheckpoint> {
  const file = joinLocation(checkpointDir, METADATA_FILE);
  let text: string;
  try {
    text = (await storageFor(file).read(file)).toString('utf8');
  } catch (err) {
    const reason = err instanceof CheckpointError ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new CheckpointError(`checkpoint ${checkpointDir} has no readable ${METADATA_FILE}: ${reason}`, { cause: err });
  }
  try {
    return JSON.parse(text, (key, value) => (key === 'inline_data' && typeof value === 'string' ? Buffer.from(value, 'base64') : value)) as CompletedCheckpoint;
  } catch {
    throw new CheckpointError(`checkpoint metadata ${file} is corrupt`);
  }
}
