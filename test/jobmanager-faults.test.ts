import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from './harness';

function pidOf(taskmanagerId: string): number {
  return Number(taskmanagerId.split('-').at(-2));
}

describe('failovers that meet a checkpoint being completed', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('restart delay 0, a failover while _metadata is written, then a second failure: no "pending file is missing" loop, exact output (finding 8)', async () => {
    cluster = new TestCluster({}, 'weir-finding8-');
    // The third _metadata write takes 3 s: long enough to fail over in the middle of it.
    await cluster.startJobManager({}, { WEIR_FAULT_POINTS: 'jm.metadata.written:pause-3000@3' });
    for (let i = 0; i < 4; i++) await cluster.startTaskManager(1);
    const out = path.join(cluster.dir, 'out');
    const n = 24_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '10', '3000', '100'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=5', '-D', 'restart-strategy.fixed-delay.delay=0ms',
    ]);
    const log = path.join(cluster.dir, 'logs', 'jobmanager.log');
    await waitFor('the paused _metadata write', () => readFileSync(log, 'utf8').includes('"point":"jm.metadata.written"'), 30_000, 20);
    const pausedAt = Date.now();
    const first = (await cluster.status(id)).vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(first));
    // The second failure comes once the paused checkpoint completed, before the job could finish.
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 3300 - Date.now())));
    const running = await cluster.waitForState(id, ['RUNNING'], 30_000);
    const second = running.vertices[1].subtasks[1].taskmanager_id;
    expect(second).not.toBe(first);
    cluster.kill(pidOf(second));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state, done.failure_cause).toBe('FINISHED');
    expect(done.exceptions.map((e) => e.root_cause).filter((c) => c.includes('pending file'))).toEqual([]);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 10))).toEqual({ missing: [], extra: [] });
  }, 120_000);
});
