import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor } from './harness';

/**
 * A retained unaligned checkpoint holds records that were in flight on a rebalance and on a
 * keyed exchange. Resumed at another parallelism, those records are handed to the new
 * subtasks (by key group on the keyed exchange) and replayed before new input: the
 * committed output of the chain of jobs is exactly what one uninterrupted run commits.
 */
const JOB = path.join(__dirname, 'jobs', 'backpressured-sum.ts');
const UNALIGNED = ['-D', 'execution.checkpointing.unaligned.enabled=true'];
const N = 40_000;
const KEYS = 40;
// No periodic checkpoint: the on-demand one is the last the sinks commit on before the cancel.
const args = (out: string, micros: number) => [out, String(N), String(KEYS), String(micros), '600000', 'rebalance'];

async function emitted(cluster: TestCluster, jobId: string): Promise<number> {
  const s = (await cluster.status(jobId)) as unknown as { vertices: { subtasks: { records_out: number }[] }[] };
  return s.vertices[0].subtasks.reduce((n, t) => n + t.records_out, 0);
}

/** Triggers checkpoints until one stored in-flight data (bounded); returns its path and bytes. */
async function checkpointWithInFlightData(cluster: TestCluster, jobId: string): Promise<{ path: string; bytes: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await cluster.cli(['checkpoint', jobId], 120_000);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const where = /Checkpoint (\d+) for job \S+ completed\. Path: (\S+)/.exec(r.stdout);
    const entry = (await cluster.checkpoints(jobId)).history.find((h) => h.id === Number(where?.[1]));
    expect(entry?.status).toBe('COMPLETED');
    if (entry && entry.unaligned && entry.persisted_data_bytes > 0) return { path: where?.[2] as string, bytes: entry.persisted_data_bytes };
  }
  throw new Error('no checkpoint stored in-flight data in 5 attempts: the job is not backpressured');
}

async function resume(cluster: TestCluster, checkpoint: string, p: number, jobArgs: string[]): Promise<string> {
  const r = await cluster.cli(['run', JOB, '--detached', '-s', checkpoint, '-p', String(p), ...UNALIGNED, '--', ...jobArgs]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !jobId) throw new Error(`resume failed (${r.code}): ${r.stderr}`);
  expect(r.stdout).toContain(`Restoring from checkpoint ${checkpoint}`);
  expect(r.stdout).toMatch(/sum .* in-flight data \(channel\)/);
  return jobId;
}

describe('unaligned checkpoint restored at another parallelism', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('in-flight data of a rebalance and a keyed exchange, 2 -> 3 -> 1: redistributed, output exact', async () => {
    cluster = await new TestCluster().start(2, 2);
    const out = path.join(cluster.dir, 'out');
    let jobId = await cluster.submit(JOB, args(out, 500), ['-p', '2', ...UNALIGNED]);
    for (const p of [3, 1]) {
      await waitFor('records to flow', async () => (await emitted(cluster!, jobId)) >= 2_000, 30_000, 200);
      const cp = await checkpointWithInFlightData(cluster, jobId);
      console.log(`checkpoint ${cp.path}: ${cp.bytes} bytes in flight, resumed at p=${p}`);
      expect((await cluster.cli(['cancel', jobId])).code).toBe(0);
      await cluster.waitForState(jobId, ['CANCELED']);
      if (p === 3) {
        // Without the rebalanced map the graph is another: the in-flight data has nowhere to go.
        const changed = await cluster.cli(['run', JOB, '--detached', '-s', cp.path, '-p', '3', '--', out, String(N), String(KEYS), '500', '600000']);
        expect(changed.code).not.toBe(0);
        expect(changed.stderr).toContain('holds records that were in flight when it was taken (an unaligned checkpoint), which replay only into the same job graph');
        expect(committedLines(out).length).toBeLessThan(N);
      }
      // The last job runs fast to its end; the rate is no state.
      jobId = await resume(cluster, cp.path, p, args(out, p === 1 ? 0 : 500));
      const status = await cluster.waitForState(jobId, ['RUNNING', 'FINISHED']);
      expect(status.vertices.map((v) => v.parallelism)).toEqual([p, p, p]);
    }
    const done = await cluster.waitForState(jobId, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
  }, 240_000);
});
