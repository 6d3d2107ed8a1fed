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
  // Absent in statistics persisted before these were measured.
  /** Trigger to the first barrier reaching the task. */
  start_delay_ms?: number;
  /** In-flight data stored with the checkpoint (unaligned). */
  persisted_data_bytes?: number;
  unaligned?: boolean;
  /** Write requests to checkpoint storage and their bytes (0 for state kept inline). */
  put_count?: number;
  bytes_written?: number;
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
  persisted_data_bytes?: number;
  /** Some task took this checkpoint unaligned. */
  unaligned?: boolean;
  failure_reason: string;
  failed_task: string;
  path: string;
  final: boolean;
  tasks: CheckpointTaskStats[];
  /** A savepoint (triggered by a user), not a periodic checkpoint. */
  is_savepoint: boolean;
  /** Write requests to checkpoint storage for this checkpoint: the tasks' and `_metadata`. */
  put_count: number;
  bytes_written: number;
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

/** One change of the statistics, appended to the job's statistics log as it happens. */
export type CheckpointStatsRecord =
  | { type: 'triggered'; id: number; trigger_timestamp: number; total: number; final: boolean; savepoint?: boolean; counts: CheckpointCounts }
  | { type: 'ended'; stats: CheckpointStats; counts: CheckpointCounts }
  | { type: 'restored'; id: number; timestamp: number; counts: CheckpointCounts }
  | { type: 'snapshot'; snapshot: CheckpointStatsSnapshot };

export const HISTORY_LIMIT = 1000;

/** Replays a statistics log into the snapshot it describes (a torn or unknown record is skipped). */
export function replayStats(records: Iterable<CheckpointStatsRecord>): CheckpointStatsSnapshot | undefined {
  const history = new Map<number, CheckpointStats>();
  let counts: CheckpointCounts | undefined;
  let restored = { id: 0, timestamp: 0 };
  for (const r of records) {
    if (r.type === 'snapshot') {
      history.clear();
      for (const h of r.snapshot.history) history.set(h.id, h);
      counts = r.snapshot.counts;
      restored = { id: r.snapshot.latest_restored_id, timestamp: r.snapshot.latest_restored_timestamp };
    } else if (r.type === 'triggered') {
      history.set(r.id, {
        id: r.id, status: 'IN_PROGRESS', acknowledged: 0, total: r.total, trigger_timestamp: r.trigger_timestamp, end_to_end_duration_ms: 0, state_size: 0, checkpointed_size: 0,
        max_alignment_ms: 0, failure_reason: '', failed_task: '', path: '', final: r.final, tasks: [], is_savepoint: !!r.savepoint, put_count: 0, bytes_written: 0,
      });
      counts = r.counts;
    } else if (r.type === 'ended') {
      history.set(r.stats.id, r.stats);
      counts = r.counts;
    } else if (r.type === 'restored') {
      restored = { id: r.id, timestamp: r.timestamp };
      counts = r.counts;
    }
    while (history.size > HISTORY_LIMIT) history.delete(Math.min(...history.keys()));
  }
  if (!counts) return undefined;
  return { counts, history: [...history.values()].sort((a, b) => b.id - a.id), latest_restored_id: restored.id, latest_restored_timestamp: restored.timestamp };
}

/**
 * Keeps the statistics of the last 1000 checkpoints (Flink keeps only 10). Every change is
 * handed to `record` as one small record, so persisting them costs the same per checkpoint
 * however long the history is.
 */
export class CheckpointStatsTracker {
  private readonly history = new Map<number, CheckpointStats>();
  counts: CheckpointCounts = { completed: 0, failed: 0, in_progress: 0, restored: 0 };
  latestRestored = { id: 0, timestamp: 0 };
  record: (r: CheckpointStatsRecord) => void = () => {};

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

  triggered(id: number, timestamp: number, total: number, final: boolean, savepoint = false): void {
    this.history.set(id, {
      id, status: 'IN_PROGRESS', acknowledged: 0, total, trigger_timestamp: timestamp, end_to_end_duration_ms: 0, state_size: 0, checkpointed_size: 0,
      max_alignment_ms: 0, persisted_data_bytes: 0, unaligned: false, failure_reason: '', failed_task: '', path: '', final, tasks: [], is_savepoint: savepoint, put_count: 0, bytes_written: 0,
    });
    this.counts.in_progress++;
    while (this.history.size > HISTORY_LIMIT) this.history.delete(this.history.keys().next().value as number);
    this.record({ type: 'triggered', id, trigger_timestamp: timestamp, total, final, savepoint, counts: { ...this.counts } });
  }

  acknowledged(id: number, task: CheckpointTaskStats): void {
    const s = this.history.get(id);
    if (!s) return;
    s.acknowledged++;
    s.tasks.push(task);
    s.state_size += task.state_size;
    s.checkpointed_size += task.checkpointed_size ?? task.state_size;
    s.max_alignment_ms = Math.max(s.max_alignment_ms, task.alignment_duration_ms);
    s.persisted_data_bytes = (s.persisted_data_bytes ?? 0) + (task.persisted_data_bytes ?? 0);
    s.unaligned = !!(s.unaligned || task.unaligned);
    s.put_count = (s.put_count ?? 0) + (task.put_count ?? 0);
    s.bytes_written = (s.bytes_written ?? 0) + (task.bytes_written ?? 0);
  }

  /** The `_metadata` write, the last request of a checkpoint. */
  metadataWritten(id: number, cost: { puts: number; bytes: number }): void {
    const s = this.history.get(id);
    if (!s) return;
    s.put_count = (s.put_count ?? 0) + cost.puts;
    s.bytes_written = (s.bytes_written ?? 0) + cost.bytes;
  }

  completed(id: number, now: number, path: string): void {
    const s = this.history.get(id);
    if (!s) return;
    s.status = 'COMPLETED';
    s.end_to_end_duration_ms = now - s.trigger_timestamp;
    s.path = path;
    this.counts.in_progress--;
    this.counts.completed++;
    this.record({ type: 'ended', stats: s, counts: { ...this.counts } });
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
    this.record({ type: 'ended', stats: s, counts: { ...this.counts } });
  }

  restored(id: number, timestamp: number): void {
    this.counts.restored++;
    this.latestRestored = { id, timestamp };
    this.record({ type: 'restored', id, timestamp, counts: { ...this.counts } });
  }

  /**
   * After a JobManager restart the store is the truth: a checkpoint whose `_metadata` is in
   * place completed, even if the JobManager died before its statistics record was written.
   */
  reconcileCompleted(completed: readonly { id: number; triggeredAt: number; completedAt: number; path: string; final: boolean }[]): void {
    for (const c of completed) {
      const s = this.history.get(c.id);
      if (s?.status === 'COMPLETED') continue;
      if (s?.status === 'FAILED') this.counts.failed--;
      if (s?.status === 'IN_PROGRESS') this.counts.in_progress--;
      const entry: CheckpointStats = {
        id: c.id, status: 'COMPLETED', acknowledged: s?.total ?? 0, total: s?.total ?? 0, trigger_timestamp: c.triggeredAt, end_to_end_duration_ms: c.completedAt - c.triggeredAt,
        state_size: s?.state_size ?? 0, checkpointed_size: s?.checkpointed_size ?? 0, max_alignment_ms: s?.max_alignment_ms ?? 0, failure_reason: '', failed_task: '', path: c.path, final: c.final, tasks: s?.tasks ?? [],
        persisted_data_bytes: s?.persisted_data_bytes ?? 0, unaligned: !!s?.unaligned,
        is_savepoint: false, // the store holds checkpoints only
        put_count: s?.put_count ?? 0, bytes_written: s?.bytes_written ?? 0,
      };
      this.history.set(c.id, entry);
      this.counts.completed++;
      this.record({ type: 'ended', stats: entry, counts: { ...this.counts } });
    }
  }

  /** The highest checkpoint id in the history (ids never go back, even across restarts). */
  highestId(): number {
    return Math.max(0, ...this.history.keys());
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
