import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor } from './harness';

const JOBS = path.join(__dirname, 'jobs');
const FAST_RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=10', '-D', 'restart-strategy.fixed-delay.delay=200ms'];
const UNALIGNED = ['-D', 'execution.checkpointing.unaligned.enabled=true'];

function pidOf(taskmanagerId: string): number {
  return Number(taskmanagerId.split('-').at(-2));
}

describe('unaligned checkpoints under backpressure', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('kill -9 of a TaskManager after unaligned checkpoints with in-flight data: restored, output exact', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 5000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 40_000;
    const keys = 40;
    const id = await cluster.submit(path.join(JOBS, 'backpressured-sum.ts'), [out, String(n), String(keys), '250', '300'], ['-p', '2', ...UNALIGNED, ...FAST_RESTART]);
    // Wait for a completed checkpoint that stored records in flight: restoring it must replay them.
    const withData = await waitFor(
      'a completed unaligned checkpoint with in-flight data',
      async () => (await cluster!.checkpoints(id)).history.find((h) => h.status === 'COMPLETED' && h.unaligned && h.persisted_data_bytes > 0),
      40_000,
      200,
    );
    const status = await cluster.status(id);
    const victim = status.vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(victim));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThanOrEqual(withData.id);
    const restored = (await cluster.checkpoints(id)).history.find((h) => h.id === done.last_restore_checkpoint_id);
    console.log(`restored checkpoint ${restored?.id}: unaligned=${restored?.unaligned}, in-flight bytes ${restored?.persisted_data_bytes}`);
    expect(restored?.unaligned).toBe(true);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, keys))).toEqual({ missing: [], extra: [] });
  });
});
