import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor } from './harness';
import { getJson } from './observability/http';

/**
 * `weir list` shows this JobManager's jobs newest first, in REST's order; jobs that ended
 * under an earlier JobManager (its store outlives it) are not listed as this cluster's.
 * `weir status` says which checkpoint a restore used, when it completed and when the
 * restore happened.
 */
const JOBS = path.join(__dirname, 'jobs');
const FAST_RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=3', '-D', 'restart-strategy.fixed-delay.delay=100ms'];

describe('job listing and the restore line', () => {
  let cluster: TestCluster;
  let first: string;
  let second: string;
  beforeAll(async () => {
    cluster = await new TestCluster().start(1);
    first = await cluster.submit(path.join(EXAMPLES, 'word-count.ts'), []);
    await cluster.waitForState(first, ['FINISHED']);
    // A map that throws once, after a checkpoint has completed: one restore.
    const marker = path.join(cluster.dir, 'failed-once');
    second = await cluster.submit(path.join(JOBS, 'failing-sum.ts'), [path.join(cluster.dir, 'out'), '20000', '10', '8000', marker, 'once'], FAST_RESTART);
    await cluster.waitForState(second, ['FINISHED'], 90_000);
  }, 150_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('lists newest first, as REST /jobs does', async () => {
    const listed = JSON.parse((await cluster.cli(['list', '--json'])).stdout) as { job_id: string }[];
    expect(listed.map((j) => j.job_id)).toEqual([second, first]);
    const rest = await getJson<{ jobs: { job_id: string }[] }>(cluster.restPort, '/jobs');
    expect(rest.jobs.map((j) => j.job_id)).toEqual([second, first]);
    const table = (await cluster.cli(['list'])).stdout;
    expect(table.indexOf(second)).toBeLessThan(table.indexOf(first));
  });

  it('labels both times of the last restore: the checkpoint completed at, restored at', async () => {
    const s = await cluster.status(second);
    expect(s.summary.restarts).toBe(1);
    expect(s.last_restore_checkpoint_id).toBeGreaterThan(0);
    expect(s.last_restore_checkpoint_timestamp).toBeGreaterThan(0);
    expect(s.last_restore_checkpoint_timestamp).toBeLessThanOrEqual(s.last_restore_timestamp);
    const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const human = (await cluster.cli(['status', second])).stdout;
    expect(human).toContain(
      `Last restore: checkpoint ${s.last_restore_checkpoint_id} (completed at ${iso(s.last_restore_checkpoint_timestamp)}), restored at ${iso(s.last_restore_timestamp)}`,
    );
  });

  it('a restarted JobManager does not list the ended jobs of the one before as its own', async () => {
    cluster.jobmanager?.kill('SIGKILL');
    await waitFor('the JobManager to exit', () => cluster.jobmanager?.exitCode !== null || cluster.jobmanager?.signalCode !== null);
    await cluster.startJobManager();
    expect(JSON.parse((await cluster.cli(['list', '--json'])).stdout)).toEqual([]);
    expect((await cluster.cli(['list'])).stdout.trim()).toBe('No jobs.');
    expect((await getJson<{ jobs: unknown[] }>(cluster.restPort, '/jobs')).jobs).toEqual([]);
    // They are still there for whoever asks: --all, and status by id.
    const all = JSON.parse((await cluster.cli(['list', '--all', '--json'])).stdout) as { job_id: string; state: string }[];
    expect(all.map((j) => [j.job_id, j.state])).toEqual([[second, 'FINISHED'], [first, 'FINISHED']]);
    expect((await cluster.status(first)).summary.state).toBe('FINISHED');
  }, 60_000);
});
