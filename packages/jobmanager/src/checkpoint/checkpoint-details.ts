import type { CheckpointStats, CheckpointTaskStats } from './checkpoint-stats';

/** One subtask's part in a checkpoint: where its time went, and whether it held the checkpoint up. */
export interface SubtaskCheckpointRow {
  task: string;
  acknowledged_at: number;
  /** Trigger to this subtask's acknowledgement. */
  end_to_end_duration_ms: number;
  start_delay_ms: number;
  alignment_duration_ms: number;
  sync_duration_ms: number;
  async_duration_ms: number;
  state_size: number;
  persisted_data_bytes: number;
  unaligned: boolean;
  /** The subtask that acknowledged last: the checkpoint's critical path ends here. */
  critical_path: boolean;
}

/**
 * Per-subtask rows of a checkpoint, as Flink's checkpoint details have them, plus which
 * subtask finished last: the one whose acknowledgement completed (or would complete) it.
 */
export function checkpointSubtaskRows(stats: Pick<CheckpointStats, 'trigger_timestamp' | 'tasks'>): SubtaskCheckpointRow[] {
  // Acknowledgements are kept in arrival order, so on a millisecond tie the later one is last.
  const last = stats.tasks.reduce<CheckpointTaskStats | undefined>((a, t) => (!a || t.acknowledged_at >= a.acknowledged_at ? t : a), undefined);
  return [...stats.tasks]
    .sort((a, b) => a.task.localeCompare(b.task, 'en', { numeric: true }))
    .map((t) => ({
      task: t.task,
      acknowledged_at: t.acknowledged_at,
      end_to_end_duration_ms: Math.max(0, t.acknowledged_at - stats.trigger_timestamp),
      start_delay_ms: t.start_delay_ms ?? 0,
      alignment_duration_ms: t.alignment_duration_ms,
      sync_duration_ms: t.sync_duration_ms,
      async_duration_ms: t.async_duration_ms,
      state_size: t.state_size,
      persisted_data_bytes: t.persisted_data_bytes ?? 0,
      unaligned: !!t.unaligned,
      critical_path: t === last,
    }));
}
