import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from '../harness';
import { getJson, httpGet } from './http';

/**
 * The REST API against what really happened on a cluster of real processes: a
 * checkpointed job, kill -9 of the TaskManager running it, a spare taking over, and a
 * JobManager restart on the same store.
 */
const RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.delay=200ms', '-D', 'restart-strategy.fixed-delay.attempts=3'];

type Checkpoints = {
  counts: { completed: number; failed: number; in_progress: number; restored: number; total: number };
  summary: Record<'end_to_end_duration_ms' | 'state_size' | 'alignment_ms', { min: number; avg: number; max: number }>;
  latest: { completed: { id: number; status: string } | null; failed: { id: number } | null; restored: { id: number; restore_timestamp: number } | null };
  history: { id: number; status: string; acknowledged: number; total: number; trigger_timestamp: number; end_to_end_duration_ms: number; state_size: number }[];
};

describe('REST API', () => {
  let cluster: TestCluster;
  let rest: number;
  let firstJob = '';
  let firstJobCheckpoints: Checkpoints | undefined;

  beforeAll(async () => {
    cluster = new TestCluster({}, 'weir-rest-');
    await cluster.start(2);
    rest = cluster.restPort;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('describes the cluster, a checkpointed job and its failover as they happened', async () => {
    const out = path.join(cluster.dir, 'out-1');
    const jobId = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '200000', '10', '20000', '200'], RESTART);
    firstJob = jobId;

    // The overview counts what the CLI lists.
    const tms = await cluster.listTaskManagers();
    expect(tms).toHaveLength(2);
    const overview = await waitFor('the job to take its slot', async () => {
      const o = await getJson(rest, '/overview');
      return o.jobs_running === 1 && o.slots_available === 1 ? o : undefined;
    });
    expect(overview).toMatchObject({ taskmanagers: 2, slots_total: 2, slots_available: 1, jobs_running: 1, jobs_finished: 0, jobs_failed: 0, jobs_cancelled: 0 });

    const restTms = (await getJson(rest, '/taskmanagers')).taskmanagers as { id: string; pid: number; slots: number; metrics_port: number }[];
    expect(restTms.map((t) => [t.id, t.pid]).sort()).toEqual(tms.map((t) => [t.id, t.pid]).sort());
    for (const t of restTms) expect(t.metrics_port).toBeGreaterThan(0);

    const jobs = (await getJson(rest, '/jobs')).jobs as { job_id: string; name: string; state: string }[];
    expect(jobs).toEqual([expect.objectContaining({ job_id: jobId, name: 'keyed-sum' })]);

    // Checkpoints complete; every one in the history has per-task details.
    const before = await waitFor('3 completed checkpoints', async () => {
      const c = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
      return c.counts.completed >= 3 ? c : undefined;
    }, 30_000, 200);
    expect(before.latest.completed?.status).toBe('COMPLETED');
    expect(before.summary.end_to_end_duration_ms.min).toBeLessThanOrEqual(before.summary.end_to_end_duration_ms.avg);
    expect(before.summary.end_to_end_duration_ms.avg).toBeLessThanOrEqual(before.summary.end_to_end_duration_ms.max);
    expect(before.summary.state_size.max).toBeGreaterThan(0);
    const cid = before.latest.completed!.id;
    const details = await getJson(rest, `/jobs/${jobId}/checkpoints/details/${cid}`);
    expect(details).toMatchObject({ id: cid, status: 'COMPLETED' });
    expect(details.tasks).toHaveLength(details.total);
    for (const t of details.tasks) {
      expect(t.acknowledged_at).toBeGreaterThanOrEqual(details.trigger_timestamp);
      for (const k of ['sync_duration_ms', 'async_duration_ms', 'alignment_duration_ms', 'state_size']) expect(typeof t[k]).toBe('number');
    }
    expect(details.tasks.reduce((n: number, t: { state_size: number }) => n + t.state_size, 0)).toBe(details.state_size);
    expect((await httpGet(rest, `/jobs/${jobId}/checkpoints/details/999999`)).status).toBe(404);

    // The job's graph and tasks agree with `weir status`.
    const job = await waitFor('every subtask to run', async () => {
      const j = await getJson(rest, `/jobs/${jobId}`);
      return j.vertices.every((v: { subtasks: { state: string }[] }) => v.subtasks.every((s) => s.state === 'RUNNING')) ? j : undefined;
    });
    const status = await cluster.status(jobId);
    expect(job.summary).toMatchObject({ job_id: jobId, name: 'keyed-sum', state: 'RUNNING', restarts: 0 });
    expect(job.vertices.map((v: { id: string; name: string; parallelism: number }) => [v.id, v.name, v.parallelism])).toEqual(status.vertices.map((v) => [v.id, v.name, v.parallelism]));
    expect(job.edges).toEqual([expect.objectContaining({ source: job.vertices[0].id, target: job.vertices[1].id, partitioning: 'HASH' })]);
    const holders = new Set<string>(job.vertices.flatMap((v: { subtasks: { taskmanager_id: string; attempt: number }[] }) => v.subtasks.map((s) => s.taskmanager_id)));
    expect(holders.size).toBe(1);
    const lostId = [...holders][0];
    const lost = tms.find((t) => t.id === lostId);
    expect(lost, `TaskManager ${lostId} is registered`).toBeDefined();

    const config = await getJson(rest, '/config');
    const entry = (k: string) => config.entries.find((e: { key: string }) => e.key === k);
    expect(entry('rest.port')).toMatchObject({ value: String(rest), is_default: false });
    expect(entry('parallelism.default')).toMatchObject({ value: '1', is_default: true });

    // Unknown things are 404 with a JSON message.
    const missing = await httpGet(rest, '/jobs/0123456789abcdef0123456789abcdef');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ errors: ['no job with id 0123456789abcdef0123456789abcdef'] });
    for (const p of ['/jobs/nope/checkpoints', '/jobs/nope/exceptions', '/no/such/endpoint']) {
      const r = await httpGet(rest, p);
      expect(r.status, p).toBe(404);
      expect(r.json.errors[0]).toMatch(/no job with id nope|no such REST endpoint/);
    }

    // kill -9 the TaskManager running the job: the spare takes over from the latest checkpoint.
    cluster.kill(lost!.pid);
    const killedAt = Date.now();
    const restored = await waitFor('the job to be restored on the spare TaskManager', async () => {
      const c = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
      const j = await getJson(rest, `/jobs/${jobId}`);
      const moved = j.summary.state === 'RUNNING' && j.vertices.every((v: { subtasks: { taskmanager_id: string; state: string }[] }) => v.subtasks.every((s) => s.taskmanager_id !== lostId && s.state === 'RUNNING'));
      return c.counts.restored >= 1 && moved ? { c, j } : undefined;
    }, 30_000, 200);
    expect(restored.c.latest.restored!.id).toBeGreaterThanOrEqual(cid);
    expect(restored.c.latest.restored!.id).toBe(restored.j.last_restore_checkpoint_id);
    expect(restored.c.latest.restored!.restore_timestamp).toBeGreaterThanOrEqual(killedAt);
    expect(restored.c.history.find((h) => h.id === restored.c.latest.restored!.id)?.status).toBe('COMPLETED');
    expect(restored.j.summary.restarts).toBeGreaterThanOrEqual(1);
    expect(restored.j.attempt).toBeGreaterThanOrEqual(1);

    const exceptions = await getJson(rest, `/jobs/${jobId}/exceptions`);
    expect(exceptions.restarts).toBeGreaterThanOrEqual(1);
    const loss = exceptions.exceptions.find((e: { taskmanager_id: string }) => e.taskmanager_id === lostId);
    expect(loss, JSON.stringify(exceptions)).toBeDefined();
    expect(loss.root_cause).toContain(lostId);
    expect(loss.timestamp).toBeGreaterThanOrEqual(killedAt - 1000);
    expect(exceptions.root_exception).toContain(lostId);

    const afterLoss = await getJson(rest, '/overview');
    expect(afterLoss).toMatchObject({ taskmanagers: 1, slots_total: 1, slots_available: 0 });
    expect(((await getJson(rest, '/taskmanagers')).taskmanagers as { id: string }[]).map((t) => t.id)).not.toContain(lostId);

    // When the job is over nothing moves: REST and `weir checkpoints --json` count the same.
    await cluster.waitForState(jobId, ['FINISHED'], 60_000);
    expect(diffLines(committedLines(out), expectedKeyedSum(200000, 10))).toEqual({ missing: [], extra: [] });
    const final = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
    const cli = await cluster.checkpoints(jobId);
    expect(final.counts).toEqual({ completed: cli.completed, failed: cli.failed, in_progress: cli.in_progress, restored: cli.restored, total: cli.completed + cli.failed + cli.in_progress });
    expect(final.counts.in_progress).toBe(0);
    expect(final.latest.completed?.id).toBe(cli.latest_completed?.id);
    expect(final.history.map((h) => [h.id, h.status])).toEqual(cli.history.map((h) => [h.id, h.status]));
    expect(final.history.filter((h) => h.status === 'COMPLETED')).toHaveLength(final.counts.completed);
    const durations = final.history.filter((h) => h.status === 'COMPLETED').map((h) => h.end_to_end_duration_ms);
    expect(final.summary.end_to_end_duration_ms).toEqual({ min: Math.min(...durations), max: Math.max(...durations), avg: Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) });
    expect(await getJson(rest, '/overview')).toMatchObject({ jobs_running: 0, jobs_finished: 1 });
    firstJobCheckpoints = final;
  }, 120_000);

  it('keeps checkpoint statistics over a JobManager restart on the same store', async () => {
    expect(firstJobCheckpoints, 'the first test ran').toBeDefined();
    const out = path.join(cluster.dir, 'out-2');
    const jobId = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '60000', '10', '5000', '200'], RESTART);
    const before = await waitFor('4 completed checkpoints', async () => {
      const c = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
      return c.counts.completed >= 4 ? c : undefined;
    }, 30_000, 200);
    const completedBefore = before.history.filter((h) => h.status === 'COMPLETED');

    const firstStatusBefore = await cluster.status(firstJob);
    // kill -9 the JobManager and start a new one on the same ports and store.
    const jm = cluster.jobmanager!;
    const exited = new Promise((resolve) => jm.once('exit', resolve));
    cluster.kill(jm.pid!);
    await exited;
    expect((await httpGet(rest, '/overview').catch(() => undefined))?.status).toBeUndefined();
    await cluster.startJobManager();

    // The finished job's statistics are what they were.
    expect(await getJson<Checkpoints>(rest, `/jobs/${firstJob}/checkpoints`)).toEqual(firstJobCheckpoints);
    const firstStatusAfter = await cluster.status(firstJob);
    expect(firstStatusAfter.last_restore_checkpoint_id).toBe(firstStatusBefore.last_restore_checkpoint_id);
    expect(firstStatusAfter.last_restore_timestamp).toBe(firstStatusBefore.last_restore_timestamp);
    const firstExceptions = await getJson(rest, `/jobs/${firstJob}/exceptions`);
    expect(firstExceptions.exceptions.length).toBeGreaterThanOrEqual(1);

    // The running job keeps its history, resumes from its latest checkpoint, and goes on counting.
    const resumed = await waitFor('the job to resume and complete new checkpoints', async () => {
      const c = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
      const newest = c.latest.completed?.id ?? 0;
      return c.counts.restored > before.counts.restored && newest > completedBefore[0].id ? c : undefined;
    }, 45_000, 250);
    for (const h of completedBefore) {
      expect(resumed.history.find((x) => x.id === h.id), `checkpoint ${h.id} after the restart`).toEqual(h);
    }
    expect(resumed.counts.completed).toBeGreaterThan(before.counts.completed);
    expect(resumed.latest.restored!.id).toBeGreaterThanOrEqual(completedBefore[0].id);

    await cluster.waitForState(jobId, ['FINISHED'], 60_000);
    // Exactly-once across the JobManager's failure too.
    expect(diffLines(committedLines(out), expectedKeyedSum(60000, 10))).toEqual({ missing: [], extra: [] });
    const final = await getJson<Checkpoints>(rest, `/jobs/${jobId}/checkpoints`);
    // Counts agree with the history they summarise, whatever was in flight at the kill.
    expect(final.counts.completed).toBe(final.history.filter((h) => h.status === 'COMPLETED').length);
    expect(final.counts.failed).toBe(final.history.filter((h) => h.status === 'FAILED').length);
    expect(final.counts.in_progress).toBe(0);
    const cli = await cluster.checkpoints(jobId);
    expect([cli.completed, cli.failed, cli.restored]).toEqual([final.counts.completed, final.counts.failed, final.counts.restored]);
  }, 120_000);
});
