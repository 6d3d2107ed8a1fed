import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from './harness';

const JOBS = path.join(__dirname, 'jobs');
const FAST_RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=10', '-D', 'restart-strategy.fixed-delay.delay=200ms'];

function pidOf(taskmanagerId: string): number {
  // ids are tm-<host>-<pid>-<random>
  return Number(taskmanagerId.split('-').at(-2));
}

describe('recovery from failures, exactly-once output', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('kill -9 of one of 3 TaskManagers mid-job: recovers onto the spare slot, output exact', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 1000, 'heartbeat.timeout': 5000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 120_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '20000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('two completed checkpoints', async () => (await cluster!.checkpoints(id)).completed >= 2, 30_000);
    const status = await cluster.status(id);
    const victim = status.vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(victim));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    expect(done.exceptions[0].taskmanager_id).toBe(victim);
    expect(done.exceptions[0].root_cause).toContain(`TaskManager ${victim} lost`);
    // The new attempt runs on the two survivors.
    for (const v of done.vertices) for (const s of v.subtasks) expect(s.taskmanager_id).not.toBe(victim);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
    const cps = await cluster.checkpoints(id);
    expect(cps.restored).toBe(1);
  });

  it('a map that throws once after N records: one restart, exact output', async () => {
    cluster = await new TestCluster().start(2);
    const out = path.join(cluster.dir, 'out');
    const marker = path.join(cluster.dir, 'failed-once');
    const n = 60_000;
    const id = await cluster.submit(path.join(JOBS, 'failing-sum.ts'), [out, String(n), '30', '15000', marker, 'once'], ['-p', '2', ...FAST_RESTART]);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.exceptions).toHaveLength(1);
    expect(done.exceptions[0].root_cause).toMatch(/^v1#[01]@0 failed: injected failure after 15000 records/);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 30))).toEqual({ missing: [], extra: [] });
  });

  it('kill the only TaskManager and start a new one 3 s later: the job waits, then recovers', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 1000, 'heartbeat.timeout': 5000 }).start(1, 2);
    const out = path.join(cluster.dir, 'out');
    const n = 100_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '40', '20000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000);
    cluster.kill(cluster.taskmanagers[0].pid);
    await cluster.waitForState(id, ['RESTARTING', 'RUNNING']);
    await new Promise((r) => setTimeout(r, 3000));
    const during = await cluster.status(id);
    expect(during.summary.state).toBe('RESTARTING'); // no slots: it waits
    await cluster.startTaskManager(2);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 40))).toEqual({ missing: [], extra: [] });
  });

  it('an exhausted restart strategy ends the job FAILED with the cause in weir status', async () => {
    cluster = await new TestCluster().start(2);
    const out = path.join(cluster.dir, 'out');
    const marker = path.join(cluster.dir, 'marker');
    const id = await cluster.submit(path.join(JOBS, 'failing-sum.ts'), [out, '1000000', '10', '3000', marker, 'always'], [
      '-p', '1', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=1', '-D', 'restart-strategy.fixed-delay.delay=100ms',
    ]);
    const done = await cluster.waitForState(id, ['FAILED', 'FINISHED'], 60_000);
    expect(done.summary.state).toBe('FAILED');
    expect(done.summary.restarts).toBe(1);
    expect(done.exceptions).toHaveLength(2);
    expect(done.failure_cause).toMatch(/^v1#0@1 failed: injected failure after 3000 records/);
    expect(done.failure_cause).toContain('restart strategy fixed-delay (1 attempts, 100 ms delay) gave up');
    const text = await cluster.cli(['status', id]);
    expect(text.stdout).toContain('FAILED');
    expect(text.stdout).toContain('Failure cause: v1#0@1 failed: injected failure after 3000 records');
    expect(text.stdout).toMatch(/Exception history:[\s\S]*v1#0@0[\s\S]*v1#0@1/);
  });

  it('a TaskManager that goes silent (SIGSTOP) is lost after heartbeat.timeout; the job recovers exactly', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 3000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 100_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '15000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000);
    const victim = (await cluster.status(id)).vertices[1].subtasks[1].taskmanager_id;
    process.kill(pidOf(victim), 'SIGSTOP');
    try {
      const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
      expect(done.summary.state).toBe('FINISHED');
      expect(done.exceptions[0].root_cause).toMatch(new RegExp(`^TaskManager ${victim} lost: no heartbeat for \\d+ ms \\(heartbeat.timeout 3000 ms\\)`));
      expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
    } finally {
      process.kill(pidOf(victim), 'SIGKILL');
    }
  });

  it('a corrupt checkpoint file is refused at restore with its path; the job fails with that cause', async () => {
    cluster = await new TestCluster().start(2);
    const out = path.join(cluster.dir, 'out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '10000000', '50', '5000', '3000'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=2', '-D', 'restart-strategy.fixed-delay.delay=100ms',
    ]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).latest_completed, 30_000, 50);
    const holder = (await cluster.status(id)).vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(holder));
    // Corrupt the latest checkpoint only once the kill stopped new ones from completing:
    // before it, a newer checkpoint could complete and be restored instead.
    await cluster.waitForState(id, ['RESTARTING']); // and it stays there: one slot is left, it needs two
    const latest = (await cluster.checkpoints(id)).latest_completed as { path: string };
    const file = path.join(latest.path, 'v2-0.state');
    const data = readFileSync(file);
    data[data.length - 1] ^= 0xff;
    writeFileSync(file, data);
    await cluster.startTaskManager();
    const done = await cluster.waitForState(id, ['FAILED'], 60_000);
    expect(done.failure_cause).toContain(`checkpoint state file ${file} is corrupt: its checksum does not match the checkpoint metadata`);
    expect(done.summary.restarts).toBe(2);
  });
});
