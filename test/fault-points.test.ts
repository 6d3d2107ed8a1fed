import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_POINTS, type FaultPoint } from '../packages/core/src/fault-points';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from './harness';

/**
 * The fault-point matrix: for every named step of the checkpoint protocol, the process that
 * owns the step dies there (SIGKILL from inside, as kill -9), what died is restarted (the
 * JobManager on the same store, or a spare TaskManager takes over), and the committed
 * output must be exactly the expected lines. A small bounded job with short checkpoint
 * intervals keeps each case to seconds.
 */
// 5 s of input at 1,000 records/s: enough checkpoints for the n-th hit even on a busy machine.
const N = 5000;
const KEYS = 10;
const JOB_ARGS = (out: string) => [out, String(N), String(KEYS), '1000', '100'];
const RESTART = ['-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=20', '-D', 'restart-strategy.fixed-delay.delay=100ms'];

interface Case {
  point: FaultPoint;
  owner: 'jobmanager' | 'taskmanager';
  /** Which hit crashes: the second by default, so that one checkpoint completed before. */
  hit?: number;
}

const CASES: Case[] = [
  { point: 'jm.checkpoint.trigger-sent', owner: 'jobmanager' },
  { point: 'tm.source.snapshot', owner: 'taskmanager' },
  { point: 'tm.barrier.forwarded', owner: 'taskmanager' },
  { point: 'tm.state.written', owner: 'taskmanager', hit: 3 },
  { point: 'tm.ack.sent', owner: 'taskmanager', hit: 3 },
  { point: 'jm.ack.received', owner: 'jobmanager', hit: 5 },
  { point: 'jm.metadata.written', owner: 'jobmanager' },
  { point: 'jm.metadata.renamed', owner: 'jobmanager' }, // finding 1: the restarted JobManager reused the id
  { point: 'jm.store.updated', owner: 'jobmanager' },
  { point: 'jm.completion.notified', owner: 'jobmanager' },
  { point: 'tm.sink.committed', owner: 'taskmanager' },
  { point: 'jm.stats.saved', owner: 'jobmanager', hit: 4 },
  { point: 'tm.restore.read', owner: 'taskmanager', hit: 1 },
];

function pidOf(taskmanagerId: string): number {
  return Number(taskmanagerId.split('-').at(-2));
}

/** Whatever a run must leave behind: nothing hidden in the output, no checkpoint of the finished job. */
async function expectNothingLeftBehind(cluster: TestCluster, jobId: string, out: string): Promise<void> {
  expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  await waitFor('the finished job\'s checkpoints to be deleted', () => !existsSync(path.join(cluster.checkpointDir, jobId)), 10_000);
}

describe('fault-point matrix: a crash at every step of the checkpoint protocol keeps the output exact', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('names every fault point in the table once', () => {
    expect(CASES.map((c) => c.point).sort()).toEqual(Object.keys(FAULT_POINTS).sort());
  });

  for (const c of CASES) {
    it(`${c.owner} killed at ${c.point}`, async () => {
      const spec = { WEIR_FAULT_POINTS: `${c.point}:crash@${c.hit ?? 2}` };
      cluster = new TestCluster({}, 'weir-fault-');
      const out = path.join(cluster.dir, 'out');
      await cluster.startJobManager({}, c.owner === 'jobmanager' ? spec : undefined);
      // The first TaskManager carries the fault point; the others never crash.
      const armed = await cluster.startTaskManager(1, {}, c.owner === 'taskmanager' ? spec : undefined);
      const other = await cluster.startTaskManager(1);
      const spare = await cluster.startTaskManager(1);
      const armedExit = new Promise<string>((resolve) => armed.process.once('exit', (code, signal) => resolve(String(signal ?? code))));
      const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), JOB_ARGS(out), RESTART);

      if (c.owner === 'jobmanager') {
        expect(await cluster.jobManagerExit(30_000)).toBe('SIGKILL');
        await cluster.startJobManager();
      } else if (c.point === 'tm.restore.read') {
        // A restore needs a failure first: kill the unarmed worker once a checkpoint completed.
        await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000, 50);
        const holders = new Set((await cluster.status(id)).vertices.flatMap((v) => v.subtasks.map((s) => pidOf(s.taskmanager_id))));
        const victim = holders.has(other.pid) ? other : spare;
        cluster.kill(victim.pid);
        expect(await armedExit).toBe('SIGKILL');
        await cluster.startTaskManager(1);
      } else {
        expect(await Promise.race([armedExit, new Promise((r) => setTimeout(() => r('still running'), 30_000))])).toBe('SIGKILL');
      }

      const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
      expect(done.summary.state, done.failure_cause).toBe('FINISHED');
      expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
      const checkpoints = await cluster.checkpoints(id);
      expect(checkpoints.in_progress).toBe(0);
      await expectNothingLeftBehind(cluster, id, out);
    }, 120_000);
  }
});

describe('fault points that fail I/O', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('a _metadata write that fails with ENOSPC leaves no checkpoint directory or temp file; the job goes on exactly (finding 3)', async () => {
    cluster = new TestCluster({}, 'weir-fault-');
    const out = path.join(cluster.dir, 'out');
    await cluster.startJobManager({}, { WEIR_FAULT_POINTS: 'jm.metadata.written:fail-io@2' });
    await cluster.startTaskManager(1);
    await cluster.startTaskManager(1);
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), JOB_ARGS(out), RESTART);
    const failed = await waitFor('the failed checkpoint', async () => (await cluster!.checkpoints(id)).history.find((h) => h.status === 'FAILED'), 30_000, 50);
    expect(failed.failure_reason).toMatch(/^writing metadata failed: ENOSPC: no space left on device/);
    const dir = path.join(cluster.checkpointDir, id, `chk-${failed.id}`);
    await waitFor(`${dir} to be removed`, () => !existsSync(dir), 5000, 20);
    const leftovers = () => (existsSync(path.join(cluster!.checkpointDir, id)) ? readdirSync(path.join(cluster!.checkpointDir, id), { recursive: true }).map(String).filter((n) => n.includes('_metadata.tmp-')) : []);
    expect(leftovers()).toEqual([]);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 60_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
    await expectNothingLeftBehind(cluster, id, out);
  });

  it('statistics that cannot be written: a log line per failure and a metric, the job unharmed (finding 5)', async () => {
    cluster = new TestCluster({}, 'weir-fault-');
    const out = path.join(cluster.dir, 'out');
    await cluster.startJobManager({}, { WEIR_FAULT_POINTS: 'jm.stats.saved:fail-io' });
    await cluster.startTaskManager(1);
    await cluster.startTaskManager(1);
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), JOB_ARGS(out), RESTART);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 60_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.restPort}/metrics`)).text();
    const failures = Number(new RegExp(`weir_job_checkpoint_stats_write_failures\\{job_id="${id}"[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
    expect(failures).toBeGreaterThan(0);
    const logged = readFileSync(path.join(cluster.dir, 'logs', 'jobmanager.log'), 'utf8').split('\n').filter((l) => l.includes('writing checkpoint statistics failed'));
    expect(logged.length).toBe(failures);
    expect(logged[0]).toContain('ENOSPC');
  });
});
