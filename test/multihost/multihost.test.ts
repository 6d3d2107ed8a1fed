/**
 * Weir across hosts that share nothing but a network: JobManager, three TaskManagers and
 * the S3 server each in their own network namespace, checkpoints in the object store.
 * A TaskManager killed, a TaskManager cut off past the heartbeat timeout and healed, the
 * object store unreachable for 30 s: each time the committed output is exactly what the
 * job computes (no line lost, none committed twice).
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, waitFor } from '../harness';
import { ensureS3ServerBinary } from '../s3/s3-server';
import { MultiHostCluster } from './multihost-cluster';
import { networkNamespacesAvailable, TestNetwork } from './network';

const unavailable = networkNamespacesAvailable();
const RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=20', '-D', 'restart-strategy.fixed-delay.delay=200ms'];

function pidOf(taskmanagerId: string): number {
  return Number(taskmanagerId.split('-').at(-2));
}

describe.skipIf(!!unavailable)('multi-host: separate network namespaces, checkpoints in S3', () => {
  let network: TestNetwork | undefined;
  let cluster: MultiHostCluster | undefined;

  beforeAll(() => {
    ensureS3ServerBinary();
    network = new TestNetwork();
    for (const name of ['jm', 'tm1', 'tm2', 'tm3', 's3']) network.addHost(name);
  }, 900_000);
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => network?.destroy());

  async function start(config: Record<string, string | number> = {}): Promise<MultiHostCluster> {
    cluster = new MultiHostCluster(network as TestNetwork, config);
    await cluster.startObjectStore();
    await cluster.startJobManager();
    for (const tm of ['tm1', 'tm2', 'tm3']) await cluster.startTaskManager(tm);
    return cluster;
  }

  it('kill -9 of a TaskManager: restored from S3 onto another host, exact output', async () => {
    const c = await start();
    const out = path.join(c.dir, 'out');
    const n = 60_000;
    const id = await c.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '6000', '300'], ['-p', '2', ...RESTART]);
    await waitFor('two completed checkpoints', async () => (await c.checkpoints(id)).completed >= 2, 60_000, 500);
    const victim = (await c.status(id)).vertices[1].subtasks[0].taskmanager_id;
    process.kill(pidOf(victim), 'SIGKILL');
    const done = await c.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    const cps = await c.checkpoints(id);
    expect(cps.latest_completed?.path).toMatch(new RegExp(`^s3://weir/checkpoints/${id}/chk-\\d+$`));
    expect(cps.restored).toBe(1);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
  }, 240_000);

  it('a TaskManager cut off past the heartbeat timeout, then healed: the job moves on, the cut-off side commits nothing twice', async () => {
    const c = await start();
    const out = path.join(c.dir, 'out');
    const n = 80_000;
    const id = await c.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '5000', '300'], ['-p', '2', ...RESTART]);
    await waitFor('a completed checkpoint', async () => (await c.checkpoints(id)).completed >= 2, 60_000, 500);
    const victimId = (await c.status(id)).vertices[1].subtasks[0].taskmanager_id;
    const victim = await c.hostOf(victimId);
    c.network.cut(victim);
    try {
      // The JobManager declares it lost after heartbeat.timeout (3 s) and restarts the job on the other two.
      await waitFor('the job to run again without the cut-off TaskManager', async () => {
        const s = await c.status(id);
        return s.summary.state === 'RUNNING' && s.summary.restarts >= 1 && s.vertices.every((v) => v.subtasks.every((t) => t.taskmanager_id !== victimId));
      }, 60_000, 500);
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      c.network.heal(victim);
    }
    const done = await c.waitForState(id, ['FINISHED', 'FAILED'], 150_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.exceptions[0].root_cause).toContain(`TaskManager ${victimId} lost`);
    // The cut-off side noticed on its own and cancelled its tasks, and came back.
    expect(c.log(victim)).toContain('JobManager session lost; cancelling tasks and registering again');
    await waitFor('the healed TaskManager to register again', async () => (await c.listTaskManagers()).length === 3, 30_000, 500);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
  }, 300_000);

  it('the object store unreachable for 30 s: checkpoints fail and are counted, the job keeps running, and checkpoints again once it is back', async () => {
    const c = await start({
      'execution.checkpointing.tolerable-failed-checkpoints': 1000,
      'execution.checkpointing.timeout': '5 s',
      's3.retry.limit': 1,
      's3.retry.interval': '200 ms',
      's3.connection.timeout': '2 s',
    });
    const out = path.join(c.dir, 'out');
    const n = 100_000;
    const id = await c.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '2000', '1000'], ['-p', '2', ...RESTART]);
    await waitFor('a completed checkpoint', async () => (await c.checkpoints(id)).completed >= 1, 60_000, 500);
    c.network.cut('s3');
    let before: Awaited<ReturnType<MultiHostCluster['checkpoints']>>;
    let during: Awaited<ReturnType<MultiHostCluster['checkpoints']>>;
    try {
      // A checkpoint whose last PUT got through just before the cut may still complete:
      // count from when every checkpoint in flight at the cut has ended (timeout 5 s).
      await new Promise((r) => setTimeout(r, 6_000));
      before = await c.checkpoints(id);
      await new Promise((r) => setTimeout(r, 24_000));
      during = await c.checkpoints(id);
      const status = await c.status(id);
      expect(status.summary.state).toBe('RUNNING');
      expect(status.summary.restarts).toBe(0);
    } finally {
      c.network.heal('s3');
    }
    expect(during.failed).toBeGreaterThanOrEqual(before.failed + 2);
    expect(during.completed).toBe(before.completed);
    const failure = during.history.find((h) => h.status === 'FAILED');
    expect(failure?.failure_reason).toMatch(/cannot reach the object store at http:\/\/10\.231\.\d+\.\d+:7070|expired after 5000 ms/);
    await waitFor('a checkpoint completed after the store came back', async () => (await c.checkpoints(id)).completed > during.completed, 60_000, 500);
    const done = await c.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
  }, 300_000);
});
