import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor, type JobStatusJson } from './harness';

async function job(restPort: number, id: string): Promise<JobStatusJson> {
  return (await fetch(`http://127.0.0.1:${restPort}/jobs/${id}`)).json() as Promise<JobStatusJson>;
}

function pidOf(taskmanagerId: string): number {
  return Number(taskmanagerId.split('-').at(-2));
}

describe('failovers that meet a checkpoint being completed', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('restart delay 0, a failover while _metadata is written, then a second failure right after it completed: no "pending file is missing" loop, exact output (finding 8)', async () => {
    cluster = new TestCluster({}, 'weir-finding8-');
    // The third _metadata write takes 3 s: long enough to fail over in the middle of it.
    await cluster.startJobManager({}, { WEIR_FAULT_POINTS: 'jm.metadata.written:pause-3000@3' });
    for (let i = 0; i < 4; i++) await cluster.startTaskManager(1);
    const out = path.join(cluster.dir, 'out');
    const n = 40_000;
    // Checkpoints 2 s apart: the second failure lands before the checkpoint after the paused one completes.
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '10', '3000', '2000'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=5', '-D', 'restart-strategy.fixed-delay.delay=0ms',
    ]);
    const log = path.join(cluster.dir, 'logs', 'jobmanager.log');
    const completions = () => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"msg":"checkpoint completed"')).map((l) => JSON.parse(l).checkpointId as number);
    await waitFor('the paused _metadata write', () => readFileSync(log, 'utf8').includes('"point":"jm.metadata.written"'), 60_000, 20);
    const [paused] = await waitFor('two completed checkpoints in the log', () => (completions().length >= 2 ? [completions().length + 1] : undefined), 5000, 20);
    const first = (await job(cluster.restPort, id)).vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(first));
    await waitFor(`checkpoint ${paused} to complete`, () => completions().includes(paused), 15_000, 10);
    // The second failure: a worker of the attempt that restarted during the metadata write.
    const attempt = await waitFor('the new attempt deployed', async () => {
      const j = await job(cluster!.restPort, id);
      const tms = j.vertices[1].subtasks.map((s) => s.taskmanager_id);
      return j.attempt > 0 && !tms.includes(first) && tms.every(Boolean) ? tms : undefined;
    }, 10_000, 20);
    cluster.kill(pidOf(attempt[1]));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state, done.failure_cause).toBe('FINISHED');
    expect(done.exceptions.map((e) => e.root_cause).filter((c) => c.includes('pending file'))).toEqual([]);
    expect(done.summary.restarts).toBe(2);
    // The second restart restored the checkpoint whose metadata was being written at the first.
    expect(done.last_restore_checkpoint_id).toBe(paused);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 10))).toEqual({ missing: [], extra: [] });
  }, 150_000);
});
