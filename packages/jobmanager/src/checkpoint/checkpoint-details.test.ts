import { describe, expect, it } from 'vitest';
import { checkpointSubtaskRows } from './checkpoint-details';

const task = (name: string, ackAt: number, extra: object = {}) => ({
  task: name, acknowledged_at: ackAt, sync_duration_ms: 1, async_duration_ms: 2, alignment_duration_ms: 3, state_size: 10, ...extra,
});

describe('checkpoint details per subtask', () => {
  it('marks the subtask that acknowledged last as the critical path and gives each its end-to-end time', () => {
    const rows = checkpointSubtaskRows({
      trigger_timestamp: 1000,
      tasks: [
        task('v2#0@0', 1900, { start_delay_ms: 400, persisted_data_bytes: 2048, unaligned: true }),
        task('v1#1@0', 1100),
        task('v10#0@0', 1500),
        task('v1#0@0', 1050),
      ],
    });
    expect(rows.map((r) => r.task)).toEqual(['v1#0@0', 'v1#1@0', 'v2#0@0', 'v10#0@0']);
    expect(rows.filter((r) => r.critical_path).map((r) => r.task)).toEqual(['v2#0@0']);
    expect(rows.map((r) => r.end_to_end_duration_ms)).toEqual([50, 100, 900, 500]);
    expect(rows[2]).toMatchObject({ start_delay_ms: 400, persisted_data_bytes: 2048, unaligned: true });
    // statistics persisted before these were measured read as zero and aligned
    expect(rows[0]).toMatchObject({ start_delay_ms: 0, persisted_data_bytes: 0, unaligned: false });
  });

  it('on a millisecond tie, the acknowledgement that arrived later is the critical path', () => {
    const rows = checkpointSubtaskRows({ trigger_timestamp: 1000, tasks: [task('v1#0@0', 1200), task('v2#0@0', 1200), task('v1#1@0', 1100)] });
    expect(rows.filter((r) => r.critical_path).map((r) => r.task)).toEqual(['v2#0@0']);
  });

  it('has no critical path while no subtask acknowledged', () => {
    expect(checkpointSubtaskRows({ trigger_timestamp: 1, tasks: [] })).toEqual([]);
  });
});
