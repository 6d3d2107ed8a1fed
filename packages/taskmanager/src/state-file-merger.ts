/**
 * File merging (`execution.checkpointing.file-merging.enabled`): the state files that one
 * TaskManager's tasks write for one checkpoint go to the object store as one object, so a
 * checkpoint costs one PUT per TaskManager instead of one per stateful task. A batch is
 * written once every task of the job on this TaskManager has handed in its file or
 * reported without one (inline state, a decline), or after MAX_WAIT_MS, whichever is first:
 * a straggler never holds the others back for long, it only starts a batch of its own.
 */
import { joinLocation, storageFor, type StateFilePlacement, type StateFileRequest } from '@weir/runtime';

/** Longest a state file waits for the TaskManager's other tasks' files. */
export const MAX_WAIT_MS = 250;
/** Reports of tasks without a file are forgotten after this long (a checkpoint without merged files). */
const REPORT_TTL_MS = 120_000;

interface Waiting {
  request: StateFileRequest;
  resolve: (placement: StateFilePlacement) => void;
  reject: (err: Error) => void;
}

interface Batch {
  directory: string;
  files: Waiting[];
  timer: NodeJS.Timeout;
}

export class StateFileMerger {
  private readonly batches = new Map<string, Batch>();
  /** Tasks that reported a checkpoint without a file, by batch key. */
  private readonly reported = new Map<string, { count: number; at: number }>();
  private sequence = 0;

  constructor(
    /** Names the merged files: unique per TaskManager, so two never write the same object. */
    private readonly taskmanagerName: string,
    /** Tasks of this job attempt running on this TaskManager now: a batch is whole when all have reported. */
    private readonly runningTasks: (jobId: string, attempt: number) => number,
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {}

  /** A task's state file: placed once its batch is written. */
  add(jobId: string, attempt: number, request: StateFileRequest): Promise<StateFilePlacement> {
    const key = batchKey(jobId, attempt, request.checkpointId);
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(key);
      if (!batch) {
        batch = { directory: request.directory, files: [], timer: setTimeout(() => this.flush(key), this.maxWaitMs) };
        this.batches.set(key, batch);
      }
      batch.files.push({ request, resolve, reject });
      this.flushIfWhole(key, jobId, attempt);
    });
  }

  /** A task acknowledged or declined a checkpoint without a file of its own. */
  reportedWithoutFile(jobId: string, attempt: number, checkpointId: number): void {
    const now = Date.now();
    for (const [k, r] of this.reported) if (now - r.at > REPORT_TTL_MS) this.reported.delete(k);
    const key = batchKey(jobId, attempt, checkpointId);
    const r = this.reported.get(key) ?? { count: 0, at: now };
    r.count++;
    this.reported.set(key, r);
    this.flushIfWhole(key, jobId, attempt);
  }

  private flushIfWhole(key: string, jobId: string, attempt: number): void {
    const batch = this.batches.get(key);
    if (batch && batch.files.length + (this.reported.get(key)?.count ?? 0) >= this.runningTasks(jobId, attempt)) this.flush(key);
  }

  private flush(key: string): void {
    const batch = this.batches.get(key);
    if (!batch) return;
    this.batches.delete(key);
    clearTimeout(batch.timer);
    void this.write(batch);
  }

  private async write(batch: Batch): Promise<void> {
    const { files } = batch;
    const storage = storageFor(batch.directory);
    try {
      if (files.length === 1) {
        // A lone file gains nothing from merging: it keeps its own name.
        const [only] = files;
        const written = await storage.write(joinLocation(batch.directory, only.request.name), only.request.data);
        only.resolve({ location: written.location, shared: false, offset: 0, puts: written.puts });
        return;
      }
      const offsets: number[] = [];
      let size = 0;
      for (const f of files) {
        offsets.push(size);
        size += f.request.data.length;
      }
      const merged = Buffer.concat(files.map((f) => f.request.data), size);
      const name = `${this.taskmanagerName}-${++this.sequence}.merged`;
      const written = await storage.write(joinLocation(batch.directory, name), merged);
      files.forEach((f, i) => f.resolve({ location: written.location, shared: true, offset: offsets[i], puts: i === 0 ? written.puts : 0 }));
    } catch (err) {
      for (const f of files) f.reject(err as Error);
    }
  }
}

/** All tasks of a job attempt write into one checkpoint directory: the job, attempt and checkpoint name a batch. */
function batchKey(jobId: string, attempt: number, checkpointId: number): string {
  return `${jobId}@${attempt}#${checkpointId}`;
}
