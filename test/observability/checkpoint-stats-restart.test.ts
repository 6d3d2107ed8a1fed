import { describe, expect, it } from 'vitest';
import { CheckpointStatsTracker } from '../../packages/jobmanager/src/checkpoint/checkpoint-stats';

describe('checkpoint statistics reloaded after a JobManager restart', () => {
  it('keeps the history and counts a checkpoint interrupted in flight as failed', () => {
    const before = new CheckpointStatsTracker();
    before.triggered(1, 1000, 2, false);
    before.acknowledged(1, { task: 'v1#0@0', acknowledged_at: 1010, sync_duration_ms: 1, async_duration_ms: 2, alignment_duration_ms: 0, state_size: 10 });
    before.acknowledged(1, { task: 'v2#0@0', acknowledged_at: 1012, sync_duration_ms: 1, async_duration_ms: 3, alignment_duration_ms: 4, state_size: 20 });
    before.completed(1, 1020, '/cp/chk-1');
    before.restored(1, 1500);
    // Checkpoint 2 was in flight when the snapshot was written, and the JobManager then died.
    before.triggered(2, 2000, 2, false);
    const snapshot = JSON.parse(JSON.stringify(before.snapshot()));

    const after = new CheckpointStatsTracker(snapshot);
    expect(after.get(1)).toEqual(before.get(1));
    expect(after.get(2)).toMatchObject({ status: 'FAILED', failure_reason: 'JobManager restarted' });
    expect(after.counts).toEqual({ completed: 1, failed: 1, in_progress: 0, restored: 1 });
    expect(after.latestRestored).toEqual({ id: 1, timestamp: 1500 });
    const history = after.list();
    expect(after.counts.failed).toBe(history.filter((h) => h.status === 'FAILED').length);
    expect(after.counts.completed).toBe(history.filter((h) => h.status === 'COMPLETED').length);
  });
});
