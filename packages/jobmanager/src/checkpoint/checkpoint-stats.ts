/** The statistics `weir checkpoints` and the REST API show; one entry per checkpoint. */
export interface CheckpointTaskStats {
  task: string;
  acknowledged_at: number;
  sync_duration_ms: number;
  async_duration_ms: number;
  alignment_duration_ms: number;
  /** What a restore reads: the whole state, as in Flink. */
  state_size: number;
  /** What this checkpoint wrote: less than state_size when it is incremental. */
  checkpointed_size?: number;
}

export type CheckpointStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface CheckpointStats {
  id: number;
  status: CheckpointStatus;
  acknowledged: number;
  total: number;
  trigger_timestamp: number;
  end_to_end_duration_ms: number;
  state_size: number;
  checkpointed_size: number;
  max_alignment_ms: number;
  failure_reason: string;
  failed_task: string;
  path: string;
  final: boolean;
  tasks: CheckpointTaskStats[];
}

export interface CheckpointCounts {
  completed: number;
  failed: number;
  in_progress: number;
  restored: number;
}

export interface CheckpointStatsSnapshot {
  counts: CheckpointCounts;
  history: CheckpointStats[];
  latest_restored_id: number;
  latest_restored_timestamp: number;
}

const HISTORY_LIMIT = 1000;

/** Keeps every checkpoint's statistics (Flink keeps only 10); persisted beside the checkpoints. */
export class CheckpointStatsTracker {
  private readonly history = new Map<number, CheckpointStats>();
  counts: CheckpointCounts = { completed: 0, failed: 0, in_progress: 0, restored: 0 };
  latestRestored = { id: 0, timestamp: 0 };

  constructor(initial?: CheckpointStatsSnapshot) {
    if (initial) {
      // A checkpoint in progress when the JobManager died can never complete: it counts as failed.
      let interrupted = 0;
      for (const s of initial.history) {
        if (s.status === 'IN_PROGRESS') interrupted++;
        this.history.set(s.id, s.status === 'IN_PROGRESS' ? { ...s, status: 'FAILED', failure_reason: 'JobManager restarted' } : s);
      }
      this.counts = { ...initial.counts, in_progress: 0, failed: initial.counts.failed + interrupted };
      this.latestRestored = { id: initial.latest_restored_id, timestamp: initial.latest_restored_timestamp };
    }
  }

  triggered(id: number, timestamp: number, total: number, final: boolean): void {
    this.history.set(id, {
      id, status: 'IN_PROGRESS', acknowledged: 0, total, trigger_timestamp: timestamp, end_to_end_duration_ms: 0, state_size: 0, checkpointed_size: 0,
      max_alignment_ms: 0, failure_reason: '', failed_task: '', path: '', final, tasks: [],
    });
    this.counts.in_progress++;
    while (this.history.size > HISTORY_LIMIT) this.history.delete(this.history.keys().next().value as number);
  }

  acknowledged(id: number, task: CheckpointTaskStats): void {
    const s = this.history.get(id);
    if (!s) return;
    s.acknowledged++;
    s.tasks.push(task);
    s.state_size += task.state_size;
    s.checkpointed_size += task.checkpointed_size ?? task.state_size;
    s.max_alignment_ms = Math.max(s.max_alignment_ms, task.alignment_duration_ms);
  }

  completed(id: number, now: number, path: string): void {
    const s = this.history.get(id);
    if (!s) return;
    s.status = 'COMPLETED';
    s.end_to_end_duration_ms = now - s.trigger_timestamp;
    s.path = path;
    this.counts.in_progress--;
    this.counts.completed++;
  }

  failed(id: number, now: number, reason: string, task: string): void {
    const s = this.history.get(id);
    if (!s || s.status !== 'IN_PROGRESS') return;
    s.status = 'FAILED';
    s.end_to_end_duration_ms = now - s.trigger_timestamp;
    s.failure_reason = reason;
    s.failed_task = task;
    this.counts.in_progress--;
    this.counts.failed++;
  }

  restored(id: number, timestamp: number): void {
    this.counts.restored++;
    this.latestRestored = { id, timestamp };
  }

  get(id: number): CheckpointStats | undefined {
    return this.history.get(id);
  }

  /** Newest first. */
  list(): CheckpointStats[] {
    return [...this.history.values()].sort((a, b) => b.id - a.id);
  }

  snapshot(): CheckpointStatsSnapshot {
    return { counts: { ...this.counts }, history: this.list(), latest_restored_id: this.latestRestored.id, latest_restored_timestamp: this.latestRestored.timestamp };
  }
}
