import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, TestCluster } from './harness';

const JOBS = path.join(__dirname, 'jobs');

describe('large records cross TaskManagers', () => {
  const cluster = new TestCluster({}, 'weir-large-');
  beforeAll(async () => {
    await cluster.start(2);
  });
  afterAll(() => cluster.stop());

  // Batches are cut by bytes too, so a record travels alone once it is larger than
  // taskmanager.memory.segment-size. The counts make each source subtask emit more than
  // 256 MiB: cut at 512 records, that was one message above gRPC's limit.
  for (const [mib, count] of [[1, 600], [4, 140], [16, 36]] as const) {
    it(`${count} records of ${mib} MiB at p=2 across two TaskManagers arrive whole, exactly once`, async () => {
      const out = path.join(cluster.dir, `out-${mib}`);
      const id = await cluster.submit(path.join(JOBS, 'large-records.ts'), [out, String(count), String(mib)], ['-p', '2']);
      const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
      expect(done.failure_cause).toBe('');
      expect(done.summary.state).toBe('FINISHED');
      const expected = Array.from({ length: count }, (_, i) => `${i} ${mib * 1024 * 1024}`);
      expect(diffLines(committedLines(out), expected)).toEqual({ missing: [], extra: [] });
      // The rebalance sent records to the subtask on the other TaskManager.
      const check = done.vertices.find((v) => v.name.toLowerCase().includes('map') || v.name.includes('check')) ?? done.vertices[1];
      expect(new Set(check.subtasks.map((s) => s.taskmanager_id)).size).toBe(2);
    }, 120_000);
  }
});
