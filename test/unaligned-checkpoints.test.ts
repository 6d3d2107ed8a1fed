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
    const n = 24_000;
    const keys = 40;
    const id = await cluster.submit(path.join(JOBS, 'backpressured-sum.ts'), [out, String(n), String(keys), '150', '300'], ['-p', '2', ...UNALIGNED, ...FAST_RESTART]);
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

    // Where that checkpoint waited, per subtask: CLI and REST give the same rows and one critical path.
    const cli = await cluster.cli(['checkpoints', id, '--details', String(withData.id), '--json']);
    expect(cli.code).toBe(0);
    const details = JSON.parse(cli.stdout) as { subtasks: { task: string; unaligned: boolean; persisted_data_bytes: number; critical_path: boolean; start_delay_ms: number; end_to_end_duration_ms: number }[]; critical_path_task: string };
    expect(details.subtasks).toHaveLength(withData.total);
    expect(details.subtasks.filter((r) => r.critical_path)).toHaveLength(1);
    // The critical path ends at a subtask that took longest; acknowledgements in the same millisecond tie.
    const longest = Math.max(...details.subtasks.map((r) => r.end_to_end_duration_ms));
    expect(details.subtasks.find((r) => r.task === details.critical_path_task)?.end_to_end_duration_ms).toBe(longest);
    expect(details.subtasks.every((r) => r.unaligned)).toBe(true);
    expect(details.subtasks.reduce((a, r) => a + r.persisted_data_bytes, 0)).toBe(withData.persisted_data_bytes);
    const rest = (await (await fetch(`http://127.0.0.1:${cluster.restPort}/jobs/${id}/checkpoints/details/${withData.id}`)).json()) as typeof details;
    expect(rest.subtasks).toEqual(details.subtasks);
    const human = await cluster.cli(['checkpoints', id, '--details', String(withData.id)]);
    expect(human.stdout).toContain(`Finished last (the checkpoint waited for it): ${details.critical_path_task}`);
    const missing = await cluster.cli(['checkpoints', id, '--details', '99999']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe(`weir: job ${id} has no statistics for checkpoint 99999`);
  }, 180_000);

  it('unaligned checkpoints with AT_LEAST_ONCE are refused at submission with one clear message', async () => {
    cluster = await new TestCluster().start(1);
    const r = await cluster.cli(['run', '--detached', path.join(JOBS, 'backpressured-sum.ts'), ...UNALIGNED, '-D', 'execution.checkpointing.mode=AT_LEAST_ONCE', '--', path.join(cluster.dir, 'o')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('execution.checkpointing.unaligned.enabled needs execution.checkpointing.mode EXACTLY_ONCE');
  });
});
