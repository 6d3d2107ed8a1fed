import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStatsLog } from './checkpoint-stats-log';
import { CheckpointStatsTracker } from './checkpoint-stats';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'weir-stats-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tracked(file: string) {
  const tracker = new CheckpointStatsTracker();
  const log = new CheckpointStatsLog(file, pino({ level: 'silent' }), () => tracker.snapshot());
  tracker.record = (r) => log.append(r);
  return { tracker, log };
}

function checkpoint(tracker: CheckpointStatsTracker, id: number, tasks: number): void {
  tracker.triggered(id, id * 100, tasks, false);
  for (let t = 0; t < tasks; t++) {
    tracker.acknowledged(id, { task: `v${t}#0@0`, acknowledged_at: id * 100 + 5, sync_duration_ms: 1, async_duration_ms: 2, alignment_duration_ms: 0, state_size: 10 });
  }
  if (id % 5 === 0) tracker.failed(id, id * 100 + 9, 'declined', 'v0#0@0');
  else tracker.completed(id, id * 100 + 9, `/cp/chk-${id}`);
}

describe('checkpoint statistics log (finding 5)', () => {
  it('writes the same few bytes per checkpoint however long the history is', async () => {
    const file = path.join(dir, 'stats.jsonl');
    const { tracker, log } = tracked(file);
    const growth: number[] = [];
    for (let id = 1; id <= 600; id++) {
      const before = id === 1 ? 0 : statSync(file).size;
      checkpoint(tracker, id, 16);
      await log.flushed();
      if (id % 5 !== 0) growth.push(statSync(file).size - before);
    }
    // Checkpoint 600 costs what checkpoint 1 cost, give or take the digits of its numbers.
    expect(Math.max(...growth)).toBeLessThan(Math.min(...growth) * 1.1);
    expect(Math.max(...growth)).toBeLessThan(4000);
  });

  it('reads back to the statistics it recorded, across a restart', async () => {
    const file = path.join(dir, 'stats.jsonl');
    const { tracker, log } = tracked(file);
    for (let id = 1; id <= 12; id++) checkpoint(tracker, id, 2);
    tracker.restored(11, 5000);
    tracker.triggered(13, 6000, 2, false); // in flight when the JobManager dies
    await log.flushed();
    const loaded = CheckpointStatsLog.load(file);
    const after = new CheckpointStatsTracker(loaded);
    expect(after.get(7)).toEqual(tracker.get(7));
    expect(after.get(10)).toEqual(tracker.get(10));
    expect(after.get(13)).toMatchObject({ status: 'FAILED', failure_reason: 'JobManager restarted' });
    expect(after.counts).toEqual({ completed: 10, failed: 3, in_progress: 0, restored: 1 });
    expect(after.latestRestored).toEqual({ id: 11, timestamp: 5000 });
  });

  it('a checkpoint whose _metadata is in place counts as completed after a restart, even when its record was never written', async () => {
    const file = path.join(dir, 'stats.jsonl');
    const { tracker, log } = tracked(file);
    checkpoint(tracker, 1, 2);
    tracker.triggered(2, 200, 2, false); // the JobManager died after renaming chk-2/_metadata
    await log.flushed();
    const after = new CheckpointStatsTracker(CheckpointStatsLog.load(file));
    after.reconcileCompleted([{ id: 2, triggeredAt: 200, completedAt: 250, path: '/cp/chk-2', final: false }]);
    expect(after.get(2)).toMatchObject({ status: 'COMPLETED', path: '/cp/chk-2', end_to_end_duration_ms: 50 });
    expect(after.counts).toEqual({ completed: 2, failed: 0, in_progress: 0, restored: 0 });
  });

  it('stays bounded: after enough records the log is rewritten as one snapshot', async () => {
    const file = path.join(dir, 'stats.jsonl');
    const { tracker, log } = tracked(file);
    for (let id = 1; id <= 1100; id++) checkpoint(tracker, id, 1);
    await log.flushed();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    expect(lines).toBeLessThan(2000);
    const after = new CheckpointStatsTracker(CheckpointStatsLog.load(file));
    expect(after.counts).toEqual(tracker.counts);
    expect(after.list().map((h) => h.id)).toEqual(tracker.list().map((h) => h.id));
  });

  it('a write error is counted and logged, and the job goes on', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const tracker = new CheckpointStatsTracker();
    const log = new CheckpointStatsLog(path.join(dir, 'missing-dir', 'stats.jsonl'), logger, () => tracker.snapshot());
    tracker.record = (r) => log.append(r);
    checkpoint(tracker, 1, 1);
    await log.flushed();
    expect(log.writeFailures).toBe(2);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'writing checkpoint statistics failed', failures: 1 });
    expect(lines[0]).toContain('ENOENT');
  });
});
